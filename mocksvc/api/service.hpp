// The api layer's single entry point for net/: routes /_mock/... to the admin API, the
// ssmmessages REST calls (/v1/control-channel/..., /v1/data-channel/...) to the messages API
// and every other request to the SSM JSON API. Pure: a request in, a response out.
#pragma once

#include "mocksvc/api/admin_api.hpp"
#include "mocksvc/api/http.hpp"
#include "mocksvc/api/messages_api.hpp"
#include "mocksvc/api/ssm_api.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/backend/backend.hpp"

namespace mocksvc::api {

// handle() may run on any thread concurrently; the Backend and the hooks must outlive it.
class Service {
 public:
  Service(backend::Backend& backend, AdminHooks& hooks, SsmApiOptions options = {})
      : ssm_(backend, options), messages_(backend, options), admin_(backend, hooks) {}

  HttpResponse handle(const auth::HttpRequest& request, const RequestContext& context) const {
    if (is_admin_path(request.path())) return admin_.handle(request);
    if (is_messages_path(request.path())) return messages_.handle(request, context);
    return ssm_.handle(request, context);
  }

  const MessagesApi& messages() const { return messages_; }

 private:
  SsmApi ssm_;
  MessagesApi messages_;
  AdminApi admin_;
};

}  // namespace mocksvc::api
