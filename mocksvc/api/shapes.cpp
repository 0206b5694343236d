#include "mocksvc/api/shapes.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "mocksvc/api/registration_api.hpp"
#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;
using Kind = Shape::Kind;

// ---- Pattern predicates (no std::regex on client input: see documents.cpp) ----

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// ^[a-zA-Z0-9_\-.:/]{3,128}$
bool matches_document_arn(std::string_view v) {
  if (v.size() < 3 || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return is_word(c) || c == '-' || c == '.' || c == ':' || c == '/';
  });
}

// ^.{1,256}$ : '.' excludes the line terminators \n \r U+0085 U+2028 U+2029.
bool matches_session_reason(std::string_view v) {
  std::size_t n = backend::count_code_points(v);
  if (n < 1 || n > 256) return false;
  if (v.find_first_of("\r\n") != std::string_view::npos) return false;
  return v.find("\xC2\x85") == std::string_view::npos &&
         v.find("\xE2\x80\xA8") == std::string_view::npos &&
         v.find("\xE2\x80\xA9") == std::string_view::npos;
}

// (^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)
bool matches_instance_id(std::string_view v) {
  auto words = [](std::string_view s) { return std::all_of(s.begin(), s.end(), is_word); };
  if (v.rfind("i-", 0) == 0) return (v.size() == 10 || v.size() == 19) && words(v.substr(2));
  if (v.rfind("mi-", 0) == 0) return v.size() == 20 && words(v.substr(3));
  return false;
}

Shape string_shape(std::optional<std::int64_t> min = std::nullopt,
                   std::optional<std::int64_t> max = std::nullopt) {
  Shape s;
  s.kind = Kind::string;
  s.min = min;
  s.max = max;
  return s;
}
Shape enum_shape(std::vector<std::string_view> values) {
  Shape s;
  s.kind = Kind::string;
  s.enum_values = std::move(values);
  return s;
}
Shape pattern_shape(std::string_view pattern, bool (*matches)(std::string_view),
                    std::optional<std::int64_t> min = std::nullopt,
                    std::optional<std::int64_t> max = std::nullopt) {
  Shape s = string_shape(min, max);
  s.pattern = pattern;
  s.matches = matches;
  return s;
}
Shape integer_shape(std::int64_t min, std::int64_t max) {
  Shape s;
  s.kind = Kind::integer;
  s.min = min;
  s.max = max;
  return s;
}
Shape list_shape(const Shape* member, std::optional<std::int64_t> min = std::nullopt,
                 std::optional<std::int64_t> max = std::nullopt) {
  Shape s;
  s.kind = Kind::list;
  s.member = member;
  s.min = min;
  s.max = max;
  return s;
}
Shape map_shape(const Shape* key, const Shape* value) {
  Shape s;
  s.kind = Kind::map;
  s.key = key;
  s.value = value;
  return s;
}
Shape struct_shape(std::vector<Member> members) {
  Shape s;
  s.kind = Kind::structure;
  s.members = std::move(members);
  return s;
}

struct Catalogue {
  // Leaf shapes (botocore names in comments).
  Shape session_target = string_shape(1, 400);  // SessionTarget
  Shape document_arn =
      pattern_shape("^[a-zA-Z0-9_\\-.:/]{3,128}$", matches_document_arn);  // DocumentARN
  Shape session_reason =
      pattern_shape("^.{1,256}$", matches_session_reason, 1, 256);  // SessionReason
  Shape parameter_name = string_shape(1, 255);                      // SessionManagerParameterName
  Shape parameter_value = string_shape(1, 65535);                   // SessionManagerParameterValue
  Shape parameter_values = list_shape(&parameter_value);
  Shape parameters = map_shape(&parameter_name, &parameter_values);  // SessionManagerParameters
  Shape session_id = string_shape(1, 96);                            // SessionId
  Shape session_state = enum_shape({"Active", "History"});
  Shape session_max_results = integer_shape(1, 200);
  Shape next_token = string_shape();
  // SessionFilterKey: the 1.29 model's six keys plus AccessType from newer models.
  Shape session_filter_key = enum_shape(
      {"InvokedAfter", "InvokedBefore", "Target", "Owner", "Status", "SessionId", "AccessType"});
  Shape session_filter_value = string_shape(1, 400);
  Shape session_filter =
      struct_shape({{"key", &session_filter_key, true}, {"value", &session_filter_value, true}});
  Shape session_filter_list = list_shape(&session_filter, 1, 6);
  Shape info_filter_key =
      enum_shape({"InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ActivationIds",
                  "IamRole", "ResourceType", "AssociationStatus"});
  Shape info_filter_value = string_shape(1);
  Shape info_filter_values = list_shape(&info_filter_value, 1, 100);
  Shape info_filter =
      struct_shape({{"key", &info_filter_key, true}, {"valueSet", &info_filter_values, true}});
  Shape info_filter_list = list_shape(&info_filter, 0);
  Shape string_filter_key = string_shape(1);
  Shape string_filter =
      struct_shape({{"Key", &string_filter_key, true}, {"Values", &info_filter_values, true}});
  Shape string_filter_list = list_shape(&string_filter, 0);
  Shape ec2_max_results = integer_shape(5, 50);  // MaxResultsEC2Compatible
  Shape instance_id = pattern_shape("(^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)", matches_instance_id);
  Shape version = pattern_shape("^[0-9]{1,6}(\\.[0-9]{1,6}){2,3}$", backend::is_agent_version);
  Shape platform_type = enum_shape({"Windows", "Linux", "MacOS"});
  Shape any_string = string_shape();
  Shape ip_address = string_shape(std::nullopt, 46);
  Shape computer_name = string_shape(std::nullopt, 255);
  Shape association_max_results = integer_shape(1, 50);
  Shape nonempty_string = string_shape(1);
  Shape any_integer = integer_shape(0, 2147483647);

  // Operation inputs.
  Shape start_session = struct_shape({{"Target", &session_target, true},
                                      {"DocumentName", &document_arn},
                                      {"Reason", &session_reason},
                                      {"Parameters", &parameters}});
  Shape resume_session = struct_shape({{"SessionId", &session_id, true}});
  Shape terminate_session = struct_shape({{"SessionId", &session_id, true}});
  Shape describe_sessions = struct_shape({{"State", &session_state, true},
                                          {"MaxResults", &session_max_results},
                                          {"NextToken", &next_token},
                                          {"Filters", &session_filter_list}});
  Shape get_connection_status = struct_shape({{"Target", &session_target, true}});
  Shape describe_instance_information =
      struct_shape({{"InstanceInformationFilterList", &info_filter_list},
                    {"Filters", &string_filter_list},
                    {"MaxResults", &ec2_max_results},
                    {"NextToken", &next_token}});
  // Agent-side calls: empty strings are legal here (the agent sends "AvailabilityZone":"").
  Shape update_instance_information = struct_shape({{"InstanceId", &instance_id, true},
                                                    {"AgentName", &any_string},
                                                    {"AgentVersion", &version},
                                                    {"AgentStatus", &any_string},
                                                    {"PlatformType", &platform_type},
                                                    {"PlatformName", &any_string},
                                                    {"PlatformVersion", &any_string},
                                                    {"IPAddress", &ip_address},
                                                    {"ComputerName", &computer_name},
                                                    {"AvailabilityZone", &any_string},
                                                    {"AvailabilityZoneId", &any_string},
                                                    {"SSMConnectionChannel", &any_string}});
  Shape list_instance_associations = struct_shape({{"InstanceId", &instance_id, true},
                                                   {"MaxResults", &association_max_results},
                                                   {"NextToken", &next_token}});
  Shape get_messages = struct_shape({{"Destination", &nonempty_string, true},
                                     {"MessagesRequestId", &nonempty_string, true},
                                     {"VisibilityTimeoutInSeconds", &any_integer}});
  Shape message_id_only = struct_shape({{"MessageId", &nonempty_string, true}});
  Shape send_reply = struct_shape({{"MessageId", &nonempty_string, true},
                                   {"Payload", &any_string, true},
                                   {"ReplyId", &nonempty_string, true}});
  Shape fail_message = struct_shape(
      {{"MessageId", &nonempty_string, true}, {"FailureType", &nonempty_string, true}});
};

const Catalogue& catalogue() {
  static const Catalogue c;
  return c;
}

// ---- Validation ----

std::string lower_first(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z')
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

std::string_view token_name(const json& v) {
  if (v.is_string()) return "STRING_VALUE";
  if (v.is_boolean()) return v.get<bool>() ? "TRUE_VALUE" : "FALSE_VALUE";
  if (v.is_number()) return "NUMBER_VALUE";
  return "NULL_VALUE";
}

// How Coral prints a value in "Value '...' at '...'": strings bare, lists as [a, b], maps as
// {k=[v]} (Java's toString).
std::string render(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out = "[";
    bool first = true;
    for (const auto& e : v) {
      if (!first) out += ", ";
      first = false;
      out += render(e);
    }
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += it.key() + "=" + render(it.value());
    }
    return out + "}";
  }
  return v.dump();
}

struct Validator {
  std::vector<std::string> violations;
  std::optional<backend::AwsError> serialization;

  void violate(const json* value, const std::string& path, const std::string& constraint) {
    std::string shown = value ? "'" + render(*value) + "'" : std::string("null");
    violations.push_back("Value " + shown + " at '" + path +
                         "' failed to satisfy constraint: " + constraint);
  }

  bool type_error(std::string message) {
    if (!serialization) serialization = backend::AwsError::serialization(message);
    return false;
  }

  // Checks type; false (and a SerializationException) when the JSON type is wrong.
  bool check_type(const json& v, const Shape& s) {
    switch (s.kind) {
      case Kind::string:
        if (v.is_string()) return true;
        break;
      case Kind::integer:
        if (v.is_number_integer()) return true;
        if (v.is_number_float())
          return type_error("NUMBER_VALUE can not be converted to an Integer");
        if (v.is_string()) return type_error("STRING_VALUE can not be converted to an Integer");
        break;
      case Kind::boolean:
        if (v.is_boolean()) return true;
        break;
      case Kind::list:
        if (v.is_array()) return true;
        if (v.is_object()) return type_error("Start of structure or map found where not expected.");
        return type_error(std::string(token_name(v)) + " can not be converted to a List");
      case Kind::map:
      case Kind::structure:
        if (v.is_object()) return true;
        if (v.is_array()) return type_error("Start of list found where not expected");
        return type_error(std::string(token_name(v)) + " can not be converted to a " +
                          (s.kind == Kind::map ? "Map" : "Structure"));
    }
    if (v.is_object()) return type_error("Start of structure or map found where not expected.");
    if (v.is_array()) return type_error("Start of list found where not expected");
    static constexpr std::string_view kNames[] = {"String", "Integer", "Boolean"};
    return type_error(std::string(token_name(v)) + " can not be converted to " +
                      (s.kind == Kind::integer ? "an " : "a ") +
                      std::string(kNames[static_cast<int>(s.kind)]));
  }

  // Constraint texts for a scalar or collection, without the "Value ... at ..." prefix.
  std::vector<std::string> constraints(const json& v, const Shape& s) {
    std::vector<std::string> out;
    if (s.kind == Kind::string) {
      const auto& str = v.get_ref<const std::string&>();
      auto len = static_cast<std::int64_t>(backend::count_code_points(str));
      if (s.max && len > *s.max)
        out.push_back("Member must have length less than or equal to " + std::to_string(*s.max));
      if (s.min && len < *s.min)
        out.push_back("Member must have length greater than or equal to " + std::to_string(*s.min));
      if (!s.enum_values.empty() &&
          std::find(s.enum_values.begin(), s.enum_values.end(), str) == s.enum_values.end()) {
        std::string set = "[";
        for (std::size_t i = 0; i < s.enum_values.size(); ++i) {
          if (i) set += ", ";
          set += s.enum_values[i];
        }
        out.push_back("Member must satisfy enum value set: " + set + "]");
      }
      if (s.matches && !s.matches(str)) {
        out.push_back("Member must satisfy regular expression pattern: " + std::string(s.pattern));
      }
    } else if (s.kind == Kind::integer) {
      // A value beyond int64 is still "too large", not a wrapped negative.
      std::int64_t n =
          v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
              ? INT64_MAX
              : v.get<std::int64_t>();
      if (s.max && n > *s.max)
        out.push_back("Member must have value less than or equal to " + std::to_string(*s.max));
      if (s.min && n < *s.min)
        out.push_back("Member must have value greater than or equal to " + std::to_string(*s.min));
    } else if (s.kind == Kind::list || s.kind == Kind::map) {
      auto len = static_cast<std::int64_t>(v.size());
      if (s.max && len > *s.max)
        out.push_back("Member must have length less than or equal to " + std::to_string(*s.max));
      if (s.min && len < *s.min)
        out.push_back("Member must have length greater than or equal to " + std::to_string(*s.min));
    }
    return out;
  }

  static std::string bracket(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ", ";
      out += items[i];
    }
    return out + "]";
  }

  // Nested constraints of a map's keys or values, in Coral's nested wording; empty when met.
  std::vector<std::string> nested(const json& v, const Shape& s) {
    if (!check_type(v, s)) return {};
    std::vector<std::string> out = constraints(v, s);
    if (s.kind == Kind::list && s.member) {
      for (const auto& e : v) {
        auto inner = nested(e, *s.member);
        if (!inner.empty()) {
          out.push_back("Member must satisfy constraint: " + bracket(inner));
          break;
        }
      }
    }
    return out;
  }

  void check(const json& v, const Shape& s, const std::string& path) {
    if (serialization || !check_type(v, s)) return;
    for (const auto& c : constraints(v, s)) violate(&v, path, c);
    switch (s.kind) {
      case Kind::list: {
        std::size_t i = 1;
        for (const auto& e : v) check(e, *s.member, path + "." + std::to_string(i++) + ".member");
        break;
      }
      case Kind::map:
        for (auto it = v.begin(); it != v.end() && !serialization; ++it) {
          json key = it.key();
          auto key_problems = nested(key, *s.key);
          if (!key_problems.empty())
            violate(&v, path, "Map keys must satisfy constraint: " + bracket(key_problems));
          auto value_problems = nested(it.value(), *s.value);
          if (!value_problems.empty()) {
            violate(&v, path, "Map value must satisfy constraint: " + bracket(value_problems));
          }
        }
        break;
      case Kind::structure:
        for (const Member& m : s.members) {
          std::string child = path.empty() ? lower_first(m.name) : path + "." + lower_first(m.name);
          auto it = v.find(m.name);
          if (it == v.end() || it->is_null()) {
            if (m.required) violate(nullptr, child, "Member must not be null");
            continue;
          }
          check(*it, *m.shape, child);
        }
        break;
      default:
        break;
    }
  }
};

}  // namespace

const Shape* input_shape(std::string_view op) {
  const Catalogue& c = catalogue();
  if (op == "StartSession") return &c.start_session;
  if (op == "ResumeSession") return &c.resume_session;
  if (op == "TerminateSession") return &c.terminate_session;
  if (op == "DescribeSessions") return &c.describe_sessions;
  if (op == "GetConnectionStatus") return &c.get_connection_status;
  if (op == "DescribeInstanceInformation") return &c.describe_instance_information;
  if (op == "UpdateInstanceInformation") return &c.update_instance_information;
  if (op == "ListInstanceAssociations") return &c.list_instance_associations;
  if (op == "GetMessages") return &c.get_messages;
  if (op == "AcknowledgeMessage" || op == "DeleteMessage") return &c.message_id_only;
  if (op == "SendReply") return &c.send_reply;
  if (op == "FailMessage") return &c.fail_message;
  return registration_input_shape(op);
}

std::optional<backend::AwsError> validate_input(const json& body, const Shape& shape) {
  Validator v;
  v.check(body, shape, "");
  if (v.serialization) return v.serialization;
  if (v.violations.empty()) return std::nullopt;
  std::string msg =
      std::to_string(v.violations.size()) +
      (v.violations.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (std::size_t i = 0; i < v.violations.size(); ++i) {
    if (i) msg += "; ";
    msg += v.violations[i];
  }
  return backend::AwsError::validation(msg);
}

}  // namespace mocksvc::api
