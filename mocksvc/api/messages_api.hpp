// The ssmmessages REST calls a real agent makes (agent.md §1, §3) as a pure function
// request -> response over a Backend, and the SigV4 check of the control channel's WebSocket
// upgrade (agent.md §2.2):
//
//   POST /v1/control-channel/{instanceId}  CreateControlChannel  (ssm-agent-worker)
//   POST /v1/data-channel/{sessionId}      CreateDataChannel     (ssm-session-worker)
//   body {"MessageSchemaVersion":"1.0","RequestId":"<uuid>"[,"ClientId":""]}
//
// Success is 201 (the agent treats every other status, 200 included, as an error) with
//   <CreateControlChannelResponse><MessageSchemaVersion>1.0</MessageSchemaVersion>
//   <TokenValue>...</TokenValue></CreateControlChannelResponse>
// (CreateDataChannelResponse for the data channel). Errors are XML as well; messages_error()
// is the one place status and body are decided:
//
//   | condition                                           | status | body root             |
//   |-----------------------------------------------------|--------|-----------------------|
//   | method other than POST                              | 405    | MethodNotAllowed      |
//   | no, malformed or wrong SigV4 (service ssmmessages), | 403    | AccessDeniedException |
//   |   unknown key; an instance or session that is not   |        |   (the agent then     |
//   |   the caller's or is served by the built-in agent   |        |   falls back to MDS)  |
//   | body not a JSON object; MessageSchemaVersion or     | 400    | BadRequest            |
//   |   RequestId missing or not strings; no id in path   |        |                       |
//   | unknown session                                     | 400    | BadRequest            |
//   | session ended or terminating                        | 400    | BadRequest (below)    |
//
// The last is the real service's body, whose text the agent stops reconnecting on:
//   <BadRequest>\n<ClientErrorMessage>Session is already terminated</ClientErrorMessage>
//   \n</BadRequest>
//
// With Backend::accept_any_credentials() signatures are not checked; the Authorization header,
// when it parses, still names the access key and region.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mocksvc/api/http.hpp"
#include "mocksvc/api/ssm_api.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/backend/backend.hpp"

namespace mocksvc::api {

inline constexpr std::string_view kControlChannelPath = "/v1/control-channel/";
inline constexpr std::string_view kDataChannelPath = "/v1/data-channel/";

// "/v1/control-channel/..." or "/v1/data-channel/..." (query ignored).
bool is_messages_path(std::string_view path);
// The percent-decoded id after `prefix` in `path`; nullopt when empty or containing '/'.
std::optional<std::string> channel_id(std::string_view path, std::string_view prefix);

// The XML answer to an error of the ssmmessages endpoints.
HttpResponse messages_error(const backend::AwsError& error, std::string_view request_id);

// Stateless apart from the Backend it drives; every method may run on any thread concurrently.
class MessagesApi {
 public:
  explicit MessagesApi(backend::Backend& backend, SsmApiOptions options = {});

  HttpResponse handle(const auth::HttpRequest& request, const RequestContext& context) const;

  // The control channel's upgrade GET: nullopt when its SigV4 holds (or any credentials are
  // accepted), else the 403 to answer with instead of upgrading.
  std::optional<HttpResponse> check_control_channel_upgrade(const auth::HttpRequest& request) const;

 private:
  backend::Result<backend::Caller> authenticate(const auth::HttpRequest& request) const;

  backend::Backend& backend_;
  SsmApiOptions options_;
};

}  // namespace mocksvc::api
