#include "mocksvc/agent/document.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace mocksvc::agent {
namespace {

using json = nlohmann::json;

const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

// Reads an optional string field; a number is accepted in its JSON text form, since parameter
// substitution can leave "portNumber": 22.
bool read_string(const json& j, std::string_view key, std::string& out) {
  const json* v = member(j, key);
  if (!v) return true;
  if (v->is_string()) {
    out = v->get<std::string>();
    return true;
  }
  if (v->is_number()) {
    out = v->dump();
    return true;
  }
  return false;
}

// "Enabled"-style fields accept a bool or the strings "true"/"false" (agent.md §5.1).
bool read_bool(const json& j, std::string_view key, bool& out) {
  const json* v = member(j, key);
  if (!v) return true;
  if (v->is_boolean()) {
    out = v->get<bool>();
    return true;
  }
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (s == "true" || s == "True" || s == "TRUE") out = true;
    else if (s == "false" || s == "False" || s == "FALSE" || s.empty()) out = false;
    else return false;
    return true;
  }
  return false;
}

bool read_commands(const json& linux_props, std::string& out) {
  const json* v = member(linux_props, "commands");
  if (!v) return true;
  if (v->is_string()) {
    out = v->get<std::string>();
    return true;
  }
  if (v->is_array()) {
    out.clear();
    for (const auto& line : *v) {
      if (!line.is_string()) return false;
      if (!out.empty()) out += '\n';
      out += line.get<std::string>();
    }
    return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(SessionType t) {
  switch (t) {
    case SessionType::standard_stream: return "Standard_Stream";
    case SessionType::interactive_commands: return "InteractiveCommands";
    case SessionType::non_interactive_commands: return "NonInteractiveCommands";
    case SessionType::port: return "Port";
  }
  return "Standard_Stream";
}

bool requires_handshake(SessionType t) {
  return t == SessionType::port || t == SessionType::non_interactive_commands;
}

Result<SessionDocument> parse_session_document(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error_code(Error::document_not_json);

  const json* schema = member(j, "schemaVersion");
  if (!schema || !schema->is_string() || schema->get<std::string>() != "1.0") {
    return make_error_code(Error::unsupported_schema_version);
  }

  SessionDocument d;
  std::string type;
  if (!read_string(j, "sessionType", type)) return make_error_code(Error::bad_document_field);
  if (type == "Standard_Stream") d.session_type = SessionType::standard_stream;
  else if (type == "InteractiveCommands") d.session_type = SessionType::interactive_commands;
  else if (type == "NonInteractiveCommands") d.session_type = SessionType::non_interactive_commands;
  else if (type == "Port") d.session_type = SessionType::port;
  else return make_error_code(Error::unknown_session_type);

  bool ok = true;
  if (const json* inputs = member(j, "inputs")) {
    if (const json* profile = member(*inputs, "shellProfile")) {
      ok = ok && read_string(*profile, "linux", d.shell_profile);
    }
    ok = ok && read_string(*inputs, "kmsKeyId", d.kms_key_id);
  }

  const json* props = member(j, "properties");
  if (props && !props->is_object()) return make_error_code(Error::bad_document_field);
  if (props) {
    if (d.session_type == SessionType::port) {
      // Go marshals the generic properties map with sorted keys, as nlohmann::json does.
      d.handshake_properties_json = props->dump();
      ok = ok && read_string(*props, "portNumber", d.port_number);
      ok = ok && read_string(*props, "type", d.port_type);
      ok = ok && read_string(*props, "host", d.host);
    } else if (const json* lx = member(*props, "linux")) {
      ok = ok && read_commands(*lx, d.commands);
      ok = ok && read_bool(*lx, "separateOutputStream", d.separate_output_stream);
      ok = ok && read_string(*lx, "stdOutSeparatorPrefix", d.stdout_prefix);
      ok = ok && read_string(*lx, "stdErrSeparatorPrefix", d.stderr_prefix);
    }
  } else if (d.session_type == SessionType::port) {
    d.handshake_properties_json = "{}";
  }
  if (!ok) return make_error_code(Error::bad_document_field);
  return d;
}

int compare_versions(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) -> long long {
    auto dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    long long v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    (void)p;
    return ec == std::errc{} ? v : 0;
  };
  while (!a.empty() || !b.empty()) {
    long long x = next(a);
    long long y = next(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

}  // namespace mocksvc::agent
