#include "mocksvc/backend/documents.hpp"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

using ojson = nlohmann::ordered_json;

// allowedPattern values are checked by hand-written predicates rather than std::regex: values
// may be 65535 characters long (SessionManagerParameterValue) and libstdc++'s recursive matcher
// can exhaust the stack on such input. Each predicate accepts exactly what its pattern does.
using Matcher = bool (*)(std::string_view);

bool is_decimal_in_range(std::string_view v, unsigned lo, unsigned hi) {
  if (v.empty() || v.size() > 5) return false;
  if (v.size() > 1 && v[0] == '0') return false;
  unsigned n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n >= lo && n <= hi;
}

bool matches_port(std::string_view v) { return is_decimal_in_range(v, 1, 65535); }
bool matches_local_port(std::string_view v) { return is_decimal_in_range(v, 0, 65535); }
bool matches_host(std::string_view v) {
  constexpr std::string_view kForbidden = ",$^&()!;'\"<>`{}[]|#=";
  if (count_code_points(v) < 3) return false;
  return v.find_first_of(kForbidden) == std::string_view::npos;
}

// clang-format off
constexpr std::string_view kPortPattern =
    "^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";
constexpr std::string_view kLocalPortPattern =
    "^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";
// clang-format on
constexpr std::string_view kHostPattern = "^[^,$^&\\(\\)!;'\"<>\\`{}\\[\\]\\|#=]{3,}$";

struct ParameterDecl {
  std::string_view name;
  std::string_view type;  // every parameter of these documents is a String
  std::string_view description;
  std::optional<std::string_view> default_value;  // absent: required
  std::string_view allowed_pattern;               // empty: any value
  Matcher matches = nullptr;
};

struct DocumentDecl {
  std::string_view name;
  std::string_view description;
  std::string_view session_type;
  std::vector<ParameterDecl> parameters;
  std::string_view properties_json;  // empty: the document has no properties
};

// The catalogue below was written from knowledge of the public AWS-owned Session documents
// (names, session types, parameter declarations, allowedPattern values, defaults and
// properties); it is not a copy of AWS's files. SSM-SessionManagerRunShell is the preferences
// document: it has no parameters, and its `inputs` come from SessionPreferences.
const std::vector<DocumentDecl>& catalogue() {
  static const std::vector<DocumentDecl> docs = {
      {"SSM-SessionManagerRunShell",
       "Document to hold regional settings for Session Manager",
       "Standard_Stream",
       {},
       ""},
      {"AWS-StartPortForwardingSession",
       "Document to start port forwarding session over Session Manager",
       "Port",
       {{"portNumber", "String", "(Optional) Port number of the server on the instance", "80",
         kPortPattern, matches_port},
        {"localPortNumber", "String",
         "(Optional) Port number on local machine to forward traffic to. An open port is "
         "chosen at run-time if not provided",
         "0", kLocalPortPattern, matches_local_port}},
       R"({"portNumber":"{{ portNumber }}","type":"LocalPortForwarding","localPortNumber":"{{ localPortNumber }}"})"},
      {"AWS-StartPortForwardingSessionToRemoteHost",
       "Document to start port forwarding session over Session Manager to a remote host",
       "Port",
       {{"host", "String", "(Required) The IP address or DNS name of the remote host", std::nullopt,
         kHostPattern, matches_host},
        {"portNumber", "String", "(Optional) Port number of the server on the remote host", "80",
         kPortPattern, matches_port},
        {"localPortNumber", "String",
         "(Optional) Port number on local machine to forward traffic to. An open port is "
         "chosen at run-time if not provided",
         "0", kLocalPortPattern, matches_local_port}},
       R"({"portNumber":"{{ portNumber }}","type":"LocalPortForwarding","host":"{{ host }}","localPortNumber":"{{ localPortNumber }}"})"},
      {"AWS-StartSSHSession",
       "Document to start SSH session over Session Manager",
       "Port",
       {{"portNumber", "String", "(Optional) Port number of SSH server on the instance", "22",
         kPortPattern, matches_port}},
       R"({"portNumber":"{{ portNumber }}"})"},
      {"AWS-StartInteractiveCommand",
       "Document to run single interactive command on an instance",
       "InteractiveCommands",
       {{"command", "String", "(Required) The command to run on the instance", std::nullopt, "",
         nullptr}},
       R"({"windows":{"commands":"{{ command }}","runAsElevated":false},"linux":{"commands":"{{ command }}","runAsElevated":false},"macos":{"commands":"{{ command }}","runAsElevated":false}})"},
      {"AWS-StartNonInteractiveCommand",
       "Document to run single non-interactive command on an instance",
       "NonInteractiveCommands",
       {{"command", "String", "(Required) The command to run on the instance", std::nullopt, "",
         nullptr}},
       R"({"windows":{"commands":"{{ command }}","runAsElevated":false},"linux":{"commands":"{{ command }}","runAsElevated":false},"macos":{"commands":"{{ command }}","runAsElevated":false}})"},
  };
  return docs;
}

// Well-known AWS documents of other types, so StartSession with one fails as it does on AWS.
std::optional<std::string_view> non_session_document_type(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"AWS-RunShellScript", "Command"},       {"AWS-RunPowerShellScript", "Command"},
      {"AWS-UpdateSSMAgent", "Command"},       {"AWS-ConfigureAWSPackage", "Command"},
      {"AWS-StopEC2Instance", "Automation"},   {"AWS-StartEC2Instance", "Automation"},
      {"AWS-RestartEC2Instance", "Automation"}};
  for (auto [n, t] : kKnown) {
    if (n == name) return t;
  }
  return std::nullopt;
}

// "arn:aws:ssm:us-east-1:123456789012:document/Name" and "arn:aws:ssm:us-east-1::document/Name"
// name the same document as "Name".
std::string_view strip_arn(std::string_view name) {
  if (name.rfind("arn:", 0) != 0) return name;
  auto slash = name.find("document/");
  if (slash == std::string_view::npos) return name;
  return name.substr(slash + 9);
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

// Replaces every "{{ name }}" (any spacing) whose name is in values; leaves others as written.
std::string substitute(std::string_view text,
                       const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    std::string_view inner = text.substr(open + 2, close - open - 2);
    std::size_t b = inner.find_first_not_of(' ');
    std::size_t e = inner.find_last_not_of(' ');
    std::string_view key =
        b == std::string_view::npos ? std::string_view{} : inner.substr(b, e - b + 1);
    bool valid = !key.empty() && std::all_of(key.begin(), key.end(), is_identifier_char);
    auto it =
        std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == key; });
    out.append(text.substr(pos, open - pos));
    if (valid && it != values.end()) {
      out += it->second;
    } else {
      out.append(text.substr(open, close + 2 - open));
    }
    pos = close + 2;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

void substitute_all(ojson& node, const std::vector<std::pair<std::string, std::string>>& values) {
  if (node.is_string()) {
    node = substitute(node.get_ref<const std::string&>(), values);
  } else if (node.is_object() || node.is_array()) {
    for (auto& child : node) substitute_all(child, values);
  }
}

ojson inputs_from(const SessionPreferences& p) {
  ojson in = ojson::object();
  in["s3BucketName"] = "";
  in["s3KeyPrefix"] = "";
  in["s3EncryptionEnabled"] = false;
  in["cloudWatchLogGroupName"] = "";
  in["cloudWatchEncryptionEnabled"] = false;
  in["cloudWatchStreamingEnabled"] = false;
  in["idleSessionTimeout"] = std::to_string(p.idle_timeout_minutes);
  in["maxSessionDuration"] =
      p.max_session_duration_minutes > 0 ? std::to_string(p.max_session_duration_minutes) : "";
  in["kmsKeyId"] = "";
  in["runAsEnabled"] = p.run_as_enabled;
  in["runAsDefaultUser"] = p.run_as_default_user;
  ojson profile = ojson::object();
  profile["windows"] = "";
  profile["linux"] = p.shell_profile_linux;
  in["shellProfile"] = profile;
  return in;
}

std::string quote_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out + "]";
}

}  // namespace

Result<ResolvedDocument> resolve_session_document(std::string_view requested,
                                                  const ParameterValues& parameters,
                                                  const SessionPreferences& preferences) {
  std::string_view name = requested.empty() ? kDefaultSessionDocument : strip_arn(requested);
  const auto& docs = catalogue();
  auto doc =
      std::find_if(docs.begin(), docs.end(), [&](const DocumentDecl& d) { return d.name == name; });
  if (doc == docs.end()) {
    if (auto type = non_session_document_type(name))
      return AwsError::document_type_not_supported(*type);
    return AwsError::document_does_not_exist(name);
  }

  std::vector<std::string> unknown;
  for (const auto& [pname, _] : parameters) {
    bool declared = std::any_of(doc->parameters.begin(), doc->parameters.end(),
                                [&](const ParameterDecl& p) { return p.name == pname; });
    if (!declared) unknown.push_back(pname);
  }
  if (!unknown.empty()) {
    return AwsError::invalid_parameters("Document " + std::string(doc->name) +
                                        " does not support parameters: " + quote_list(unknown) +
                                        ".");
  }

  std::vector<std::pair<std::string, std::string>> values;
  for (const ParameterDecl& decl : doc->parameters) {
    auto given = std::find_if(parameters.begin(), parameters.end(),
                              [&](const auto& p) { return p.first == decl.name; });
    std::string value;
    if (given == parameters.end()) {
      if (!decl.default_value) {
        return AwsError::invalid_parameters("Parameter \"" + std::string(decl.name) +
                                            "\" is required but was not provided.");
      }
      value = std::string(*decl.default_value);
    } else {
      if (given->second.size() != 1) {
        return AwsError::invalid_parameters(
            "Parameter \"" + std::string(decl.name) +
            "\" is of type String and takes exactly one value, but " +
            std::to_string(given->second.size()) + " were provided.");
      }
      value = given->second.front();
      if (decl.matches && !decl.matches(value)) {
        return AwsError::invalid_parameters("Parameter \"" + std::string(decl.name) +
                                            "\" has value \"" + value + "\" not matching \"" +
                                            std::string(decl.allowed_pattern) + "\".");
      }
    }
    values.emplace_back(std::string(decl.name), std::move(value));
  }

  ojson content = ojson::object();
  content["schemaVersion"] = "1.0";
  content["description"] = doc->description;
  content["sessionType"] = doc->session_type;
  content["inputs"] = inputs_from(preferences);
  ojson decls = ojson::object();
  for (const ParameterDecl& decl : doc->parameters) {
    ojson d = ojson::object();
    d["type"] = decl.type;
    d["description"] = decl.description;
    if (!decl.allowed_pattern.empty()) d["allowedPattern"] = decl.allowed_pattern;
    if (decl.default_value) d["default"] = *decl.default_value;
    decls[std::string(decl.name)] = std::move(d);
  }
  content["parameters"] = std::move(decls);
  ojson properties =
      doc->properties_json.empty() ? ojson::object() : ojson::parse(doc->properties_json);
  substitute_all(properties, values);
  content["properties"] = properties;

  ojson params = ojson::object();
  for (const auto& [k, v] : values) params[k] = v;

  ResolvedDocument out;
  out.name = std::string(doc->name);
  out.session_type = std::string(doc->session_type);
  out.content_json = content.dump(-1, ' ', false, ojson::error_handler_t::replace);
  out.parameters_json = params.dump(-1, ' ', false, ojson::error_handler_t::replace);
  out.properties_json = properties.dump(-1, ' ', false, ojson::error_handler_t::replace);
  return out;
}

std::vector<std::string> session_document_names() {
  std::vector<std::string> out;
  for (const auto& d : catalogue()) out.emplace_back(d.name);
  return out;
}

}  // namespace mocksvc::backend
