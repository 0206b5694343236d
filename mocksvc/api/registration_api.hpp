// The hybrid-activation and on-premises registration operations of the SSM JSON API
// (agent.md §9.2), served by SsmApi next to the session operations:
//
//   | operation                        | authentication                                      |
//   |----------------------------------|-----------------------------------------------------|
//   | CreateActivation                 | SigV4, as every other operation                     |
//   | DescribeActivations              |                                                     |
//   | DeleteActivation                 |                                                     |
//   | RegisterManagedInstance          | none: the agent calls it anonymously                |
//   | RequestManagedInstanceRoleToken  | RSA: SigV4's string to sign, signed RSA-PSS with    |
//   | UpdateManagedInstancePublicKey   |   the instance's key, Credential=<mi-id>/...        |
//
// Input shapes follow the botocore model (CreateActivation, DescribeActivations,
// DeleteActivation) and the agent's own SDK (the three registration calls, which botocore
// lacks). Output member names are AWS's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "mocksvc/api/shapes.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/auth/verify.hpp"
#include "mocksvc/backend/backend.hpp"

namespace mocksvc::api {

enum class RegistrationAuth { sigv4, anonymous, instance_rsa };

// How `operation` authenticates: sigv4 for every operation not in the table above.
RegistrationAuth registration_auth(std::string_view operation);

// The input shape of one of the operations above; nullptr for any other.
const Shape* registration_input_shape(std::string_view operation);

// The caller of an RSA-signed call, from its parsed SigV4 claim (auth::verify with
// check_signature off): the signature is checked against the instance's registered key, and an
// X-Amz-Content-Sha256 header against the body, unless the backend accepts any credentials.
backend::Result<backend::Caller> instance_caller(backend::Backend& backend,
                                                 const auth::HttpRequest& request,
                                                 const auth::Identity& identity);

// Runs one of the operations above and returns the JSON answer; nullopt for any other
// operation. The body has passed validate_input.
std::optional<backend::Result<std::string>> run_registration_operation(
    backend::Backend& backend, const backend::Caller& caller, std::string_view operation,
    const nlohmann::json& body);

}  // namespace mocksvc::api
