// Audit records: one JSON line per API call in the shape of a CloudTrail event (eventTime,
// eventSource, eventName, awsRegion, sourceIPAddress, userAgent, userIdentity, requestParameters,
// responseElements, errorCode, errorMessage, requestID, eventID). api/ fills an AuditEvent per
// call; Backend::record_audit stamps time and event id, keeps the last N and feeds the sink.
#pragma once

#include <string>
#include <string_view>

#include "mocksvc/backend/model.hpp"

namespace mocksvc::backend {

struct AuditEvent {
  std::string event_name;                          // "StartSession"
  std::string event_source = "ssm.amazonaws.com";  // ec2messages.amazonaws.com for MDS calls
  std::string region;
  std::string source_ip;
  std::string user_agent;
  std::string access_key_id;
  std::string arn;
  std::string account_id;
  std::string principal_name;
  // JSON texts as the request/response bodies were (AWS spelling); the formatter lower-cases
  // the first letter of structure keys as CloudTrail does, and hides token values.
  std::string request_parameters_json = "null";
  std::string response_elements_json = "null";
  std::string error_code;  // empty on success
  std::string error_message;
  std::string request_id;
  bool read_only = false;  // Describe*/Get*/List*: responseElements are recorded as null
};

// CloudTrail hides secrets this way in responseElements.
inline constexpr std::string_view kHiddenValue = "Value hidden due to security reasons.";

// One line of compact JSON, no trailing newline.
std::string format_audit_line(const AuditEvent& event, TimePoint event_time,
                              std::string_view event_id);

}  // namespace mocksvc::backend
