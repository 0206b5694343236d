#include "mocksvc/api/ssm_api.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mocksvc/api/aws_json.hpp"
#include "mocksvc/api/registration_api.hpp"
#include "mocksvc/api/shapes.hpp"
#include "mocksvc/auth/verify.hpp"
#include "mocksvc/backend/text_codec.hpp"
#include "mocksvc/base/uuid.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using backend::AwsError;
using backend::Result;

constexpr std::string_view kSsmPrefix = "AmazonSSM";
constexpr std::string_view kMdsPrefix = "EC2WindowsMessageDeliveryService";

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string str(const json& body, std::string_view key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int> opt_int(const json& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number_integer()) return std::nullopt;
  return static_cast<int>(it->get<std::int64_t>());
}

std::vector<std::string> strings(const json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& v : list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

ojson session_json(const backend::SessionInfo& s) {
  ojson j = ojson::object();
  j["SessionId"] = s.session_id;
  j["Target"] = s.target;
  j["Status"] = to_string(s.status);
  j["StartDate"] = backend::epoch_seconds(s.start_date);
  if (s.end_date) j["EndDate"] = backend::epoch_seconds(*s.end_date);
  j["DocumentName"] = s.document_name;
  j["Owner"] = s.owner;
  if (!s.reason.empty()) j["Reason"] = s.reason;
  if (!s.details.empty()) j["Details"] = s.details;
  j["OutputUrl"] = ojson::object();
  if (s.max_session_duration_minutes > 0) {
    j["MaxSessionDuration"] = std::to_string(s.max_session_duration_minutes);
  }
  j["AccessType"] = s.access_type;
  return j;
}

ojson instance_json(const backend::InstanceInfo& i) {
  const backend::InstanceSpec& s = i.spec;
  ojson j = ojson::object();
  j["InstanceId"] = s.instance_id;
  j["PingStatus"] = to_string(i.ping_status);
  j["LastPingDateTime"] = backend::epoch_seconds(i.last_ping);
  j["AgentVersion"] = s.agent_version;
  j["IsLatestVersion"] = i.is_latest_version;
  j["PlatformType"] = s.platform_type;
  j["PlatformName"] = s.platform_name;
  j["PlatformVersion"] = s.platform_version;
  if (!s.activation_id.empty()) j["ActivationId"] = s.activation_id;
  if (!s.iam_role.empty()) j["IamRole"] = s.iam_role;
  if (i.resource_type == "ManagedInstance")
    j["RegistrationDate"] = backend::epoch_seconds(i.registration_date);
  j["ResourceType"] = i.resource_type;
  if (!s.name.empty()) j["Name"] = s.name;
  j["IPAddress"] = s.ip_address;
  j["ComputerName"] = s.computer_name;
  if (!s.association_status.empty()) {
    j["AssociationStatus"] = s.association_status;
    ojson overview = ojson::object();
    overview["DetailedStatus"] = s.association_status;
    overview["InstanceAssociationStatusAggregatedCount"] = ojson::object();
    j["AssociationOverview"] = overview;
  }
  j["SourceId"] = s.instance_id;
  j["SourceType"] = i.source_type;
  return j;
}

ojson credentials_json(const backend::SessionCredentials& c) {
  ojson j = ojson::object();
  j["SessionId"] = c.session_id;
  j["TokenValue"] = c.token_value;
  j["StreamUrl"] = c.stream_url;
  return j;
}

std::vector<backend::InstanceFilter> instance_filters(const json& body, std::string_view list_key,
                                                      std::string_view key_key,
                                                      std::string_view values_key) {
  std::vector<backend::InstanceFilter> out;
  auto it = body.find(list_key);
  if (it == body.end() || !it->is_array()) return out;
  for (const auto& f : *it) {
    if (!f.is_object()) continue;
    auto values = f.find(values_key);
    out.push_back(
        {str(f, key_key), values == f.end() ? std::vector<std::string>{} : strings(*values)});
  }
  return out;
}

struct Dispatch {
  backend::Backend& backend;
  const backend::Caller& caller;
  const json& body;
  const backend::StreamEndpoint& endpoint;

  Result<std::string> run(std::string_view op) {
    if (auto r = run_registration_operation(backend, caller, op, body)) return std::move(*r);
    if (op == "StartSession") return start_session();
    if (op == "ResumeSession") {
      auto r = backend.resume_session(caller, str(body, "SessionId"), endpoint);
      if (!r) return r.error();
      return dump(credentials_json(*r));
    }
    if (op == "TerminateSession") {
      auto r = backend.terminate_session(caller, str(body, "SessionId"));
      if (!r) return r.error();
      ojson j = ojson::object();
      j["SessionId"] = *r;
      return dump(j);
    }
    if (op == "DescribeSessions") return describe_sessions();
    if (op == "GetConnectionStatus") {
      std::string target = str(body, "Target");
      ojson j = ojson::object();
      j["Target"] = target;
      j["Status"] = to_string(backend.get_connection_status(caller, target));
      return dump(j);
    }
    if (op == "DescribeInstanceInformation") return describe_instances();
    if (op == "UpdateInstanceInformation") return update_instance_information();
    if (op == "ListInstanceAssociations") {
      ojson j = ojson::object();
      j["Associations"] = ojson::array();
      return dump(j);
    }
    if (op == "GetMessages") {
      // What the real service answers an instance with nothing queued (agent.md §7).
      ojson j = ojson::object();
      j["Destination"] = str(body, "Destination");
      j["Messages"] = ojson::array();
      j["MessagesRequestId"] = str(body, "MessagesRequestId");
      return dump(j);
    }
    return std::string("{}");  // AcknowledgeMessage, SendReply, FailMessage, DeleteMessage
  }

  Result<std::string> start_session() {
    backend::StartSessionRequest req;
    req.target = str(body, "Target");
    req.document_name = str(body, "DocumentName");
    req.reason = str(body, "Reason");
    if (auto p = body.find("Parameters"); p != body.end() && p->is_object()) {
      for (auto it = p->begin(); it != p->end(); ++it)
        req.parameters.emplace_back(it.key(), strings(it.value()));
    }
    auto r = backend.start_session(caller, req, endpoint);
    if (!r) return r.error();
    return dump(credentials_json(*r));
  }

  Result<std::string> describe_sessions() {
    backend::DescribeSessionsRequest req;
    req.state = str(body, "State");
    req.max_results = opt_int(body, "MaxResults");
    req.next_token = str(body, "NextToken");
    if (auto f = body.find("Filters"); f != body.end() && f->is_array()) {
      for (const auto& e : *f) req.filters.push_back({str(e, "key"), str(e, "value")});
    }
    auto r = backend.describe_sessions(caller, req);
    if (!r) return r.error();
    ojson j = ojson::object();
    j["Sessions"] = ojson::array();
    for (const auto& s : r->sessions) j["Sessions"].push_back(session_json(s));
    if (!r->next_token.empty()) j["NextToken"] = r->next_token;
    return dump(j);
  }

  Result<std::string> describe_instances() {
    backend::DescribeInstancesRequest req;
    req.instance_information_filter_list =
        instance_filters(body, "InstanceInformationFilterList", "key", "valueSet");
    req.filters = instance_filters(body, "Filters", "Key", "Values");
    req.max_results = opt_int(body, "MaxResults");
    req.next_token = str(body, "NextToken");
    auto r = backend.describe_instance_information(caller, req);
    if (!r) return r.error();
    ojson j = ojson::object();
    j["InstanceInformationList"] = ojson::array();
    for (const auto& i : r->instances) j["InstanceInformationList"].push_back(instance_json(i));
    if (!r->next_token.empty()) j["NextToken"] = r->next_token;
    return dump(j);
  }

  Result<std::string> update_instance_information() {
    backend::InstanceReport rep;
    rep.instance_id = str(body, "InstanceId");
    rep.agent_name = str(body, "AgentName");
    rep.agent_version = str(body, "AgentVersion");
    rep.agent_status = str(body, "AgentStatus");
    rep.platform_type = str(body, "PlatformType");
    rep.platform_name = str(body, "PlatformName");
    rep.platform_version = str(body, "PlatformVersion");
    rep.ip_address = str(body, "IPAddress");
    rep.computer_name = str(body, "ComputerName");
    rep.availability_zone = str(body, "AvailabilityZone");
    rep.ssm_connection_channel = str(body, "SSMConnectionChannel");
    auto r = backend.update_instance_information(caller, rep);
    if (!r) return r.error();
    return std::string("{}");
  }
};

bool is_read_only(std::string_view op) {
  return op.rfind("Describe", 0) == 0 || op.rfind("Get", 0) == 0 || op.rfind("List", 0) == 0;
}

bool acceptable_content_type(std::optional<std::string_view> ct) {
  if (!ct) return true;
  std::string_view v = *ct;
  if (auto semi = v.find(';'); semi != std::string_view::npos) v = v.substr(0, semi);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return auth::iequals(v, "application/x-amz-json-1.1") ||
         auth::iequals(v, "application/x-amz-json-1.0") || auth::iequals(v, "application/json");
}

// host[:port], host a name, an IPv4 address or a bracketed IPv6 address: nothing that could
// change the meaning of the StreamUrl built from it.
bool is_url_authority(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
  });
}

AwsError from_auth(const auth::VerifyFailure& f) {
  return AwsError(std::string(auth::aws_error_code(f.code)), f.message, auth::http_status(f.code));
}

}  // namespace

SsmApi::SsmApi(backend::Backend& backend, SsmApiOptions options)
    : backend_(backend), options_(options) {}

HttpResponse SsmApi::handle(const auth::HttpRequest& request, const RequestContext& context) const {
  const std::string request_id = base::random_uuid_string();
  backend::AuditEvent audit;
  audit.request_id = request_id;
  audit.source_ip = context.source_ip;
  audit.user_agent = std::string(request.header("user-agent").value_or(""));
  audit.region = backend_.default_region();

  auto fail = [&](const AwsError& e) {
    audit.error_code = e.code;
    audit.error_message = e.message;
    backend_.record_audit(audit);
    return aws_json_error(e, request_id);
  };

  if (request.path() != "/") {
    AwsError e = AwsError::unknown_operation();
    e.http_status = 404;
    return fail(e);
  }
  if (request.method != "POST") return fail(AwsError::unknown_operation());

  std::string_view target = request.header("x-amz-target").value_or("");
  auto dot = target.find('.');
  std::string_view prefix = dot == std::string_view::npos ? target : target.substr(0, dot);
  std::string_view op = dot == std::string_view::npos ? std::string_view{} : target.substr(dot + 1);
  audit.event_name = std::string(op);
  bool mds = prefix == kMdsPrefix;
  if (mds) audit.event_source = "ec2messages.amazonaws.com";
  if ((prefix != kSsmPrefix && !mds) || op.empty()) return fail(AwsError::unknown_operation());
  const Shape* shape = input_shape(op);
  bool op_in_service =
      shape && (mds == (op == "GetMessages" || op == "AcknowledgeMessage" || op == "SendReply" ||
                        op == "FailMessage" || op == "DeleteMessage"));
  if (!op_in_service) return fail(AwsError::unknown_operation());
  if (!acceptable_content_type(request.header("content-type")))
    return fail(AwsError::unknown_operation());

  // Authentication: who is calling, and in which region's state.
  backend::Caller caller;
  const RegistrationAuth scheme = registration_auth(op);
  if (scheme == RegistrationAuth::anonymous) {
    caller = backend_.caller_for("", "");
  } else if (backend_.accept_any_credentials() && scheme == RegistrationAuth::sigv4) {
    std::string key;
    std::string region;
    if (auto h = request.header("authorization")) {
      if (auto parsed = auth::parse_authorization(*h)) {
        key = parsed->access_key_id;
        region = parsed->region;
      }
    }
    caller = backend_.caller_for(key, region);
  } else {
    auth::VerifyOptions vo;
    vo.now = backend_.now();
    vo.max_skew = options_.max_clock_skew;
    vo.check_time = options_.check_request_time;
    vo.expected_service = mds ? "ec2messages" : "ssm";
    // RSA-signed calls: the claim is parsed here, the signature checked by instance_caller.
    vo.check_signature = scheme == RegistrationAuth::sigv4;
    auth::CredentialLookup lookup =
        [this](std::string_view key) -> std::optional<auth::Credentials> {
      auto account = backend_.find_account(key);
      if (!account) return std::nullopt;
      return auth::Credentials{account->access_key_id, account->secret_access_key,
                               account->session_token};
    };
    auto identity = auth::verify(request, lookup, vo);
    if (!identity) {
      if (auto h = request.header("authorization")) {
        if (auto parsed = auth::parse_authorization(*h)) {
          audit.access_key_id = parsed->access_key_id;
          if (!parsed->region.empty()) audit.region = parsed->region;
        }
      }
      return fail(from_auth(identity.error()));
    }
    if (scheme == RegistrationAuth::instance_rsa) {
      auto instance = instance_caller(backend_, request, *identity);
      if (!instance) {
        audit.access_key_id = identity->access_key_id;
        return fail(instance.error());
      }
      caller = *instance;
    } else {
      caller = backend_.caller_for(identity->access_key_id, identity->region);
    }
  }
  audit.region = caller.region;
  audit.access_key_id = caller.access_key_id;
  audit.account_id = caller.account_id;
  audit.arn = caller.arn;
  audit.principal_name = caller.principal_name;
  audit.read_only = is_read_only(op);

  if (json_nesting_exceeds(request.body)) {
    return fail(AwsError::serialization("The request body nests too deeply."));
  }
  json body = request.body.empty() ? json::object()
                                   : json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return fail(AwsError::serialization("The request body is not valid JSON."));
  if (!body.is_object())
    return fail(AwsError::serialization("The request body must be a JSON object."));
  audit.request_parameters_json = body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (auto invalid = validate_input(body, *shape)) return fail(*invalid);

  std::chrono::milliseconds delay{0};
  if (options_.faults) {
    const std::string call_target = str(body, "Target");
    const std::string call_session = str(body, "SessionId");
    ApiVerdict verdict =
        options_.faults->before_operation(ApiCallFacts{op, caller.access_key_id, call_target, call_session});
    delay = verdict.delay;
    if (verdict.error) {
      HttpResponse r = fail(*verdict.error);
      r.delay = delay;
      return r;
    }
  }

  backend::StreamEndpoint endpoint;
  endpoint.tls = context.tls;
  endpoint.host =
      context.host.empty() ? std::string(request.header("host").value_or("")) : context.host;
  if (!is_url_authority(endpoint.host)) endpoint.host.clear();  // the backend then uses loopback
  auto result = Dispatch{backend_, caller, body, endpoint}.run(op);
  HttpResponse r;
  if (!result) {
    r = fail(result.error());
  } else {
    audit.response_elements_json = *result;
    backend_.record_audit(audit);
    r = aws_json_success(std::move(*result), request_id);
  }
  r.delay = delay;
  return r;
}

}  // namespace mocksvc::api
