#include "mocksvc/backend/audit.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

using ojson = nlohmann::ordered_json;

// Members whose values are maps keyed by caller-chosen names: their keys are kept as written.
bool is_map_member(std::string_view key) {
  return key == "Parameters" || key == "InstanceAssociationStatusAggregatedCount";
}

bool is_secret(std::string_view key) {
  return key == "TokenValue" || key == "SecretAccessKey" || key == "SessionToken" ||
         key == "ActivationCode";
}

std::string lower_first(std::string_view key) {
  std::string out(key);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

ojson cloudtrail_shape(const ojson& node, bool keep_keys) {
  if (node.is_array()) {
    ojson out = ojson::array();
    for (const auto& v : node) out.push_back(cloudtrail_shape(v, false));
    return out;
  }
  if (!node.is_object()) return node;
  ojson out = ojson::object();
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    std::string out_key = keep_keys ? key : lower_first(key);
    if (!keep_keys && is_secret(key)) {
      out[out_key] = kHiddenValue;
    } else {
      out[out_key] = cloudtrail_shape(it.value(), !keep_keys && is_map_member(key));
    }
  }
  return out;
}

ojson parse_or_null(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return nullptr;
  return cloudtrail_shape(j, false);
}

}  // namespace

std::string format_audit_line(const AuditEvent& e, TimePoint event_time,
                              std::string_view event_id) {
  ojson line = ojson::object();
  line["eventVersion"] = "1.08";
  ojson who = ojson::object();
  who["type"] = e.arn.find(":assumed-role/") != std::string::npos ? "AssumedRole" : "IAMUser";
  who["principalId"] = e.principal_name;
  who["arn"] = e.arn;
  who["accountId"] = e.account_id;
  who["accessKeyId"] = e.access_key_id;
  line["userIdentity"] = who;
  line["eventTime"] = format_iso8601(event_time);
  line["eventSource"] = e.event_source;
  line["eventName"] = e.event_name;
  line["awsRegion"] = e.region;
  line["sourceIPAddress"] = e.source_ip;
  line["userAgent"] = e.user_agent;
  if (!e.error_code.empty()) {
    line["errorCode"] = e.error_code;
    line["errorMessage"] = e.error_message;
  }
  line["requestParameters"] = parse_or_null(e.request_parameters_json);
  line["responseElements"] = (e.read_only || !e.error_code.empty())
                                 ? ojson(nullptr)
                                 : parse_or_null(e.response_elements_json);
  line["requestID"] = e.request_id;
  line["eventID"] = event_id;
  line["readOnly"] = e.read_only;
  line["eventType"] = "AwsApiCall";
  line["managementEvent"] = true;
  line["recipientAccountId"] = e.account_id;
  line["eventCategory"] = "Management";
  return line.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

}  // namespace mocksvc::backend
