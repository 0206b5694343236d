#include "mocksvc/api/messages_api.hpp"

#include <nlohmann/json.hpp>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/auth/verify.hpp"
#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/channel_xml.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;
using backend::AwsError;

// agent.md §1: the REST calls answer 201 and nothing else counts as success.
constexpr int kCreated = 201;
constexpr std::string_view kXml = "application/xml";
constexpr std::string_view kSchemaVersion = "1.0";

AwsError bad_request(std::string message) {
  return AwsError("BadRequest", std::move(message), 400);
}

// Every authentication failure is AccessDeniedException: the one element the agent reacts to.
AwsError denied(std::string message) {
  return AwsError("AccessDeniedException", std::move(message), 403);
}

std::string_view after_prefix(std::string_view path, std::string_view prefix) {
  return path.substr(0, prefix.size()) == prefix ? path.substr(prefix.size()) : std::string_view{};
}

// The JSON body both calls carry; the agent always sends both members as strings.
std::optional<AwsError> check_body(const std::string& text) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return bad_request("The request body must be a JSON object.");
  }
  for (std::string_view key : {"MessageSchemaVersion", "RequestId"}) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return bad_request(std::string(key) + " is required and must be a non-empty string.");
    }
  }
  if (auto it = body.find("ClientId"); it != body.end() && !it->is_string() && !it->is_null()) {
    return bad_request("ClientId must be a string.");
  }
  return std::nullopt;
}

}  // namespace

bool is_messages_path(std::string_view path) {
  return !after_prefix(path, kControlChannelPath).empty() ||
         !after_prefix(path, kDataChannelPath).empty();
}

std::optional<std::string> channel_id(std::string_view path, std::string_view prefix) {
  std::string_view raw = after_prefix(path, prefix);
  if (raw.empty()) return std::nullopt;
  std::string id = auth::percent_decode(raw);
  if (id.empty() || id.find('/') != std::string::npos) return std::nullopt;
  return id;
}

HttpResponse messages_error(const AwsError& error, std::string_view request_id) {
  HttpResponse r;
  r.status = error.http_status;
  r.headers.emplace_back("Content-Type", std::string(kXml));
  r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  r.headers.emplace_back("x-amzn-ErrorType", error.code);
  r.body = wire::channel_error_xml(error.code, error.message);
  return r;
}

MessagesApi::MessagesApi(backend::Backend& backend, SsmApiOptions options)
    : backend_(backend), options_(options) {}

backend::Result<backend::Caller> MessagesApi::authenticate(const auth::HttpRequest& request) const {
  if (backend_.accept_any_credentials()) {
    std::string key;
    std::string region;
    if (auto h = request.header("authorization")) {
      if (auto parsed = auth::parse_authorization(*h)) {
        key = parsed->access_key_id;
        region = parsed->region;
      }
    }
    return backend_.caller_for(key, region);
  }
  auth::VerifyOptions vo;
  vo.now = backend_.now();
  vo.max_skew = options_.max_clock_skew;
  vo.check_time = options_.check_request_time;
  vo.expected_service = "ssmmessages";
  auth::CredentialLookup lookup = [this](std::string_view key) -> std::optional<auth::Credentials> {
    auto account = backend_.find_account(key);
    if (!account) return std::nullopt;
    return auth::Credentials{account->access_key_id, account->secret_access_key,
                             account->session_token};
  };
  auto identity = auth::verify(request, lookup, vo);
  if (!identity) return denied(identity.error().message);
  return backend_.caller_for(identity->access_key_id, identity->region);
}

HttpResponse MessagesApi::handle(const auth::HttpRequest& request,
                                 const RequestContext& context) const {
  const std::string request_id = base::random_uuid_string();
  const std::string_view path = request.path();
  const bool control = !after_prefix(path, kControlChannelPath).empty();
  backend::AuditEvent audit;
  audit.request_id = request_id;
  audit.event_source = "ssmmessages.amazonaws.com";
  audit.event_name = control ? "CreateControlChannel" : "CreateDataChannel";
  audit.source_ip = context.source_ip;
  audit.user_agent = std::string(request.header("user-agent").value_or(""));
  audit.region = backend_.default_region();

  auto fail = [&](const AwsError& e) {
    audit.error_code = e.code;
    audit.error_message = e.message;
    backend_.record_audit(audit);
    return messages_error(e, request_id);
  };

  if (request.method != "POST") {
    return fail(AwsError("MethodNotAllowed", "Use POST for " + audit.event_name + ".", 405));
  }
  auto caller = authenticate(request);
  if (!caller) {
    if (auto h = request.header("authorization")) {
      if (auto parsed = auth::parse_authorization(*h)) audit.access_key_id = parsed->access_key_id;
    }
    return fail(caller.error());
  }
  audit.region = caller->region;
  audit.access_key_id = caller->access_key_id;
  audit.account_id = caller->account_id;
  audit.arn = caller->arn;
  audit.principal_name = caller->principal_name;

  auto id = channel_id(path, control ? kControlChannelPath : kDataChannelPath);
  if (!id) return fail(bad_request("The path must end in an instance or session id."));
  json params = json::parse(request.body, nullptr, false);
  if (params.is_discarded() || !params.is_object()) params = json::object();
  params[control ? "instanceId" : "sessionId"] = *id;
  audit.request_parameters_json = params.dump(-1, ' ', false, json::error_handler_t::replace);
  if (auto problem = check_body(request.body)) return fail(*problem);

  auto& agents = backend_.agents();
  auto token = control ? agents.create_control_channel(*caller, *id)
                       : agents.create_data_channel(*caller, *id);
  if (!token) return fail(token.error());

  wire::ChannelTokenReply reply;
  reply.root = control ? "CreateControlChannelResponse" : "CreateDataChannelResponse";
  reply.message_schema_version = std::string(kSchemaVersion);
  reply.token_value = *token;
  json response = {{"MessageSchemaVersion", reply.message_schema_version},
                   {"TokenValue", reply.token_value}};
  audit.response_elements_json = response.dump();
  backend_.record_audit(audit);

  HttpResponse r;
  r.status = kCreated;
  r.headers.emplace_back("Content-Type", std::string(kXml));
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.body = reply.to_xml();
  return r;
}

std::optional<HttpResponse> MessagesApi::check_control_channel_upgrade(
    const auth::HttpRequest& request) const {
  auto caller = authenticate(request);
  if (caller) return std::nullopt;
  return messages_error(caller.error(), base::random_uuid_string());
}

}  // namespace mocksvc::api
