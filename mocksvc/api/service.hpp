// The api layer's single entry point for net/: routes /_mock/... to the admin API and every
// other request to the SSM JSON API. Pure: a request in, a response out.
#pragma once

#include "mocksvc/api/admin_api.hpp"
#include "mocksvc/api/http.hpp"
#include "mocksvc/api/ssm_api.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/backend/backend.hpp"

namespace mocksvc::api {

// handle() may run on any thread concurrently; the Backend and the hooks must outlive it.
class Service {
 public:
  Service(backend::Backend& backend, AdminHooks& hooks, SsmApiOptions options = {})
      : ssm_(backend, options), admin_(backend, hooks) {}

  HttpResponse handle(const auth::HttpRequest& request, const RequestContext& context) const {
    if (is_admin_path(request.path())) return admin_.handle(request);
    return ssm_.handle(request, context);
  }

 private:
  SsmApi ssm_;
  AdminApi admin_;
};

}  // namespace mocksvc::api
