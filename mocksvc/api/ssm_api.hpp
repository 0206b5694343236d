// The SSM JSON 1.1 API as a pure function request -> response over a Backend: the AmazonSSM
// session operations, the agent's idle-time calls and the ec2messages (MDS) calls (ssm-api.md,
// agent.md §7). Each request is authenticated with SigV4, shape-validated against the botocore
// model, executed, framed by aws_json.hpp and written to the audit trail.
//
// How requests that never reach an operation are answered (one table, checked in this order):
//
//   | condition                                              | status | __type |
//   |--------------------------------------------------------|--------|--------------------------------|
//   | path other than "/"                                    | 404    | UnknownOperationException |
//   | method other than POST                                 | 400    | UnknownOperationException |
//   | X-Amz-Target missing, without '.', or prefix not       | 400    | UnknownOperationException |
//   |   AmazonSSM / EC2WindowsMessageDeliveryService          |        | | | an operation of those
//   services that we do not serve    | 400    | UnknownOperationException      | | Content-Type not
//   application/x-amz-json-1.0/1.1 or     | 400    | UnknownOperationException      | |
//   application/json (absent is accepted)                |        | | | no Authorization header |
//   400    | MissingAuthenticationTokenException | | Authorization unparsable, scope or date wrong
//   | 400    | IncompleteSignatureException / InvalidSignatureException | | unknown access key /
//   wrong or missing session token    | 400    | UnrecognizedClientException    | | wrong
//   signature, clock skew over 15 min                | 400    | InvalidSignatureException      | |
//   body not JSON or not an object (empty body = {})       | 400    | SerializationException | | a
//   member of the wrong JSON type                        | 400    | SerializationException | |
//   required / length / range / enum / pattern violations  | 400    | ValidationException |
//
// With Backend::accept_any_credentials() the signature is not checked; the Authorization
// header, when it parses, still supplies the access key and the region. The registration
// operations authenticate their own way (registration_api.hpp): RegisterManagedInstance not at
// all, RequestManagedInstanceRoleToken and UpdateManagedInstancePublicKey by the instance's RSA
// key.
#pragma once

#include <chrono>

#include "mocksvc/api/api_faults.hpp"
#include "mocksvc/api/http.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/backend/backend.hpp"

namespace mocksvc::api {

struct SsmApiOptions {
  // AWS refuses requests signed more than 15 minutes away from its clock.
  std::chrono::seconds max_clock_skew{900};
  bool check_request_time = true;
  // Consulted before each operation runs (fault scenarios); must outlive the SsmApi.
  ApiFaults* faults = nullptr;
};

// Stateless apart from the Backend it drives; handle() may run on any thread concurrently.
class SsmApi {
 public:
  explicit SsmApi(backend::Backend& backend, SsmApiOptions options = {});

  HttpResponse handle(const auth::HttpRequest& request, const RequestContext& context) const;

 private:
  backend::Backend& backend_;
  SsmApiOptions options_;
};

}  // namespace mocksvc::api
