#include "mocksvc/wire/payloads.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>

#include <nlohmann/json.hpp>

namespace mocksvc::wire {
namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

Result<json> parse_object(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error_code(Error::payload_not_json);
  if (!j.is_object()) return make_error_code(Error::payload_wrong_type);
  return j;
}

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Field readers: a missing field is an error only where the reader is told it is required.
struct Reader {
  const json& j;
  Error error = Error::ok;

  const json* find(std::string_view key) const {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  }
  std::string str(std::string_view key, bool required = true) {
    const json* v = find(key);
    if (!v || v->is_null()) {
      if (required && error == Error::ok) error = Error::payload_missing_field;
      return {};
    }
    if (!v->is_string()) {
      if (error == Error::ok) error = Error::payload_wrong_type;
      return {};
    }
    return v->get<std::string>();
  }
  std::optional<std::string> opt_str(std::string_view key) {
    const json* v = find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      if (error == Error::ok) error = Error::payload_wrong_type;
      return std::nullopt;
    }
    return v->get<std::string>();
  }
  std::int64_t i64(std::string_view key, bool required = true) {
    const json* v = find(key);
    if (!v || v->is_null()) {
      if (required && error == Error::ok) error = Error::payload_missing_field;
      return 0;
    }
    if (!v->is_number_integer()) {
      if (error == Error::ok) error = Error::payload_wrong_type;
      return 0;
    }
    return v->get<std::int64_t>();
  }
  bool boolean(std::string_view key, bool fallback) {
    const json* v = find(key);
    if (!v || v->is_null()) return fallback;
    if (!v->is_boolean()) {
      if (error == Error::ok) error = Error::payload_wrong_type;
      return fallback;
    }
    return v->get<bool>();
  }
  // Any JSON value as text; "null" when absent.
  std::string raw(std::string_view key) {
    const json* v = find(key);
    return v ? v->dump() : "null";
  }
};

template <typename T>
Result<T> finish(Reader& r, T value) {
  if (r.error != Error::ok) return r.error;
  return value;
}

// Parses a JSON value kept as text back into the ordered tree, for re-serialization in place.
ojson embed(std::string_view text) {
  ojson j = ojson::parse(text.begin(), text.end(), nullptr, false);
  return j.is_discarded() ? ojson() : j;
}

}  // namespace

// ---- OpenDataChannel ----------------------------------------------------------------------

std::string OpenDataChannel::to_json() const {
  ojson j;
  j["MessageSchemaVersion"] = message_schema_version;
  j["RequestId"] = request_id;
  j["TokenValue"] = token_value;
  if (variant == Variant::agent) {
    j["ClientInstanceId"] = client_instance_id.value_or("");
    j["ClientId"] = client_id.value_or("");
  } else {
    if (client_id) j["ClientId"] = *client_id;
    if (client_version) j["ClientVersion"] = *client_version;
  }
  return dump(j);
}

Result<OpenDataChannel> parse_open_data_channel(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  OpenDataChannel o;
  o.message_schema_version = r.str("MessageSchemaVersion", false);
  o.request_id = r.str("RequestId", false);
  o.token_value = r.str("TokenValue");
  o.client_id = r.opt_str("ClientId");
  o.client_version = r.opt_str("ClientVersion");
  o.client_instance_id = r.opt_str("ClientInstanceId");
  o.variant = o.client_instance_id ? OpenDataChannel::Variant::agent : OpenDataChannel::Variant::client;
  return finish(r, std::move(o));
}

// ---- OpenControlChannel -------------------------------------------------------------------

std::string OpenControlChannel::to_json() const {
  ojson j;
  j["Cookie"] = nullptr;
  j["MessageSchemaVersion"] = message_schema_version;
  j["RequestId"] = request_id;
  j["TokenValue"] = token_value;
  j["AgentVersion"] = agent_version;
  j["PlatformType"] = platform_type;
  return dump(j);
}

Result<OpenControlChannel> parse_open_control_channel(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  OpenControlChannel o;
  o.message_schema_version = r.str("MessageSchemaVersion", false);
  o.request_id = r.str("RequestId", false);
  o.token_value = r.str("TokenValue");
  o.agent_version = r.str("AgentVersion", false);
  o.platform_type = r.str("PlatformType", false);
  return finish(r, std::move(o));
}

// ---- Acknowledge --------------------------------------------------------------------------

std::string Acknowledge::to_json() const {
  ojson j;
  j["AcknowledgedMessageType"] = acknowledged_message_type;
  j["AcknowledgedMessageId"] = acknowledged_message_id;
  j["AcknowledgedMessageSequenceNumber"] = acknowledged_message_sequence_number;
  j["IsSequentialMessage"] = is_sequential_message;
  return dump(j);
}

Result<Acknowledge> parse_acknowledge(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  Acknowledge a;
  a.acknowledged_message_type = r.str("AcknowledgedMessageType", false);
  a.acknowledged_message_id = r.str("AcknowledgedMessageId", false);
  a.acknowledged_message_sequence_number = r.i64("AcknowledgedMessageSequenceNumber");
  a.is_sequential_message = r.boolean("IsSequentialMessage", true);
  return finish(r, std::move(a));
}

// ---- Handshake ----------------------------------------------------------------------------

std::string session_type_action_parameters(std::string_view session_type,
                                           std::string_view properties_json) {
  ojson j;
  j["SessionType"] = std::string(session_type);
  j["Properties"] = properties_json.empty() ? ojson() : embed(properties_json);
  return dump(j);
}

std::string HandshakeRequest::to_json() const {
  ojson j;
  j["AgentVersion"] = agent_version;
  ojson actions = ojson::array();
  for (const auto& a : requested_client_actions) {
    ojson x;
    x["ActionType"] = a.action_type;
    x["ActionParameters"] = embed(a.action_parameters_json);
    actions.push_back(std::move(x));
  }
  j["RequestedClientActions"] = std::move(actions);
  return dump(j);
}

Result<HandshakeRequest> parse_handshake_request(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  HandshakeRequest h;
  h.agent_version = r.str("AgentVersion", false);
  const json* actions = r.find("RequestedClientActions");
  if (actions && !actions->is_null()) {
    if (!actions->is_array()) return Error::payload_wrong_type;
    for (const auto& a : *actions) {
      if (!a.is_object()) return Error::payload_wrong_type;
      Reader ar{a};
      RequestedClientAction x;
      x.action_type = ar.str("ActionType");
      x.action_parameters_json = ar.raw("ActionParameters");
      if (ar.error != Error::ok) return ar.error;
      h.requested_client_actions.push_back(std::move(x));
    }
  }
  return finish(r, std::move(h));
}

std::string HandshakeResponse::to_json() const {
  ojson j;
  j["ClientVersion"] = client_version;
  ojson actions = ojson::array();
  for (const auto& a : processed_client_actions) {
    ojson x;
    x["ActionType"] = a.action_type;
    x["ActionStatus"] = a.action_status;
    x["ActionResult"] = embed(a.action_result_json);
    x["Error"] = a.error;
    actions.push_back(std::move(x));
  }
  j["ProcessedClientActions"] = std::move(actions);
  j["Errors"] = embed(errors_json);
  return dump(j);
}

Result<HandshakeResponse> parse_handshake_response(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  HandshakeResponse h;
  h.client_version = r.str("ClientVersion", false);
  const json* actions = r.find("ProcessedClientActions");
  if (actions && !actions->is_null()) {
    if (!actions->is_array()) return Error::payload_wrong_type;
    for (const auto& a : *actions) {
      if (!a.is_object()) return Error::payload_wrong_type;
      Reader ar{a};
      ProcessedClientAction x;
      x.action_type = ar.str("ActionType");
      x.action_status = static_cast<int>(ar.i64("ActionStatus", false));
      x.action_result_json = ar.raw("ActionResult");
      x.error = ar.str("Error", false);
      if (ar.error != Error::ok) return ar.error;
      h.processed_client_actions.push_back(std::move(x));
    }
  }
  h.errors_json = r.raw("Errors");
  return finish(r, std::move(h));
}

std::string HandshakeComplete::to_json() const {
  ojson j;
  j["HandshakeTimeToComplete"] = handshake_time_to_complete_ns;
  j["CustomerMessage"] = customer_message;
  return dump(j);
}

Result<HandshakeComplete> parse_handshake_complete(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  HandshakeComplete h;
  h.handshake_time_to_complete_ns = r.i64("HandshakeTimeToComplete", false);
  h.customer_message = r.str("CustomerMessage", false);
  return finish(r, std::move(h));
}

std::string EncChallenge::to_json() const {
  ojson j;
  j["Challenge"] = challenge;
  return dump(j);
}

Result<EncChallenge> parse_enc_challenge(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  EncChallenge c;
  c.challenge = r.str("Challenge");
  return finish(r, std::move(c));
}

// ---- Service and agent messages -----------------------------------------------------------

std::string ChannelClosed::to_json() const {
  ojson j;
  j["MessageId"] = message_id;
  j["CreatedDate"] = created_date;
  j["DestinationId"] = destination_id;
  j["SessionId"] = session_id;
  j["MessageType"] = "channel_closed";
  j["SchemaVersion"] = schema_version;
  j["Output"] = output;
  return dump(j);
}

Result<ChannelClosed> parse_channel_closed(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  ChannelClosed c;
  c.message_id = r.str("MessageId", false);
  c.created_date = r.str("CreatedDate", false);
  c.destination_id = r.str("DestinationId", false);
  c.session_id = r.str("SessionId", false);
  c.schema_version = static_cast<int>(r.i64("SchemaVersion", false));
  c.output = r.str("Output", false);
  return finish(r, std::move(c));
}

std::string AgentSessionState::to_json() const {
  ojson j;
  j["SchemaVersion"] = schema_version;
  j["SessionState"] = session_state;
  j["SessionId"] = session_id;
  return dump(j);
}

Result<AgentSessionState> parse_agent_session_state(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  AgentSessionState s;
  s.schema_version = static_cast<int>(r.i64("SchemaVersion", false));
  s.session_state = r.str("SessionState");
  s.session_id = r.str("SessionId", false);
  return finish(r, std::move(s));
}

std::string MgsPayload::to_json() const {
  ojson j;
  j["Content"] = content;
  j["TaskId"] = task_id;
  j["Topic"] = topic;
  j["SchemaVersion"] = schema_version;
  return dump(j);
}

Result<MgsPayload> parse_mgs_payload(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  MgsPayload p;
  p.content = r.str("Content");
  p.task_id = r.str("TaskId", false);
  p.topic = r.str("Topic", false);
  p.schema_version = static_cast<int>(r.i64("SchemaVersion", false));
  return finish(r, std::move(p));
}

std::string InteractiveShellTask::to_json() const {
  ojson j;
  j["SessionId"] = session_id;
  j["DocumentName"] = document_name;
  j["RunAsUser"] = run_as_user;
  j["SessionOwner"] = session_owner;
  j["Parameters"] = embed(parameters_json);
  j["DocumentContent"] = embed(document_content_json);
  return dump(j);
}

Result<InteractiveShellTask> parse_interactive_shell_task(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  // Go's encoding/json matches keys case-insensitively; so do we.
  json folded = json::object();
  for (auto it = j->begin(); it != j->end(); ++it) {
    std::string k = it.key();
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    folded[k] = it.value();
  }
  Reader r{folded};
  InteractiveShellTask t;
  t.session_id = r.str("sessionid");
  t.document_name = r.str("documentname", false);
  t.run_as_user = r.str("runasuser", false);
  t.session_owner = r.str("sessionowner", false);
  t.parameters_json = r.raw("parameters");
  if (t.parameters_json == "null") t.parameters_json = "{}";
  t.document_content_json = r.raw("documentcontent");
  if (t.document_content_json == "null") t.document_content_json = "{}";
  return finish(r, std::move(t));
}

std::string AgentTaskComplete::to_json() const {
  ojson j;
  j["SchemaVersion"] = schema_version;
  j["TaskId"] = task_id;
  j["Topic"] = topic;
  j["FinalTaskStatus"] = final_task_status;
  j["IsRoutingFailure"] = is_routing_failure;
  j["AwsAccountId"] = aws_account_id;
  j["InstanceId"] = instance_id;
  j["Output"] = output;
  j["S3Bucket"] = s3_bucket;
  j["S3UrlSuffix"] = s3_url_suffix;
  j["CwlGroup"] = cwl_group;
  j["CwlStream"] = cwl_stream;
  j["RetryNumber"] = retry_number;
  return dump(j);
}

Result<AgentTaskComplete> parse_agent_task_complete(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  AgentTaskComplete t;
  t.schema_version = static_cast<int>(r.i64("SchemaVersion", false));
  t.task_id = r.str("TaskId");
  t.topic = r.str("Topic", false);
  t.final_task_status = r.str("FinalTaskStatus", false);
  t.is_routing_failure = r.boolean("IsRoutingFailure", false);
  t.aws_account_id = r.str("AwsAccountId", false);
  t.instance_id = r.str("InstanceId", false);
  t.output = r.str("Output", false);
  t.s3_bucket = r.str("S3Bucket", false);
  t.s3_url_suffix = r.str("S3UrlSuffix", false);
  t.cwl_group = r.str("CwlGroup", false);
  t.cwl_stream = r.str("CwlStream", false);
  t.retry_number = static_cast<int>(r.i64("RetryNumber", false));
  return finish(r, std::move(t));
}

std::string AgentTaskAcknowledge::to_json() const {
  ojson j;
  j["SchemaVersion"] = schema_version;
  j["MessageId"] = message_id;
  j["TaskId"] = task_id;
  j["Topic"] = topic;
  return dump(j);
}

Result<AgentTaskAcknowledge> parse_agent_task_acknowledge(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  AgentTaskAcknowledge a;
  a.schema_version = static_cast<int>(r.i64("SchemaVersion", false));
  a.message_id = r.str("MessageId");
  a.task_id = r.str("TaskId", false);
  a.topic = r.str("Topic", false);
  return finish(r, std::move(a));
}

// ---- Size, Flag, ExitCode -----------------------------------------------------------------

std::string SizeData::to_json() const {
  ojson j;
  j["cols"] = cols;
  j["rows"] = rows;
  return dump(j);
}

Result<SizeData> parse_size(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  Reader r{*j};
  std::int64_t cols = r.i64("cols");
  std::int64_t rows = r.i64("rows");
  if (r.error != Error::ok) return r.error;
  if (cols < 0 || rows < 0 || cols > 0xffff || rows > 0xffff) return Error::payload_bad_value;
  return SizeData{static_cast<std::uint32_t>(cols), static_cast<std::uint32_t>(rows)};
}

std::string encode_flag(std::uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[3 - i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

Result<std::uint32_t> decode_flag(std::string_view payload) {
  if (payload.size() != 4) return Error::payload_bad_value;
  std::uint32_t v = 0;
  for (char c : payload) v = (v << 8) | static_cast<std::uint8_t>(c);
  return v;
}

std::string encode_exit_code(int code) { return "EXIT_CODE: " + std::to_string(code); }

Result<int> decode_exit_code(std::string_view payload) {
  constexpr std::string_view kPrefix = "EXIT_CODE: ";
  if (payload.substr(0, kPrefix.size()) != kPrefix) return Error::payload_bad_value;
  auto digits = payload.substr(kPrefix.size());
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == '\r' || digits.back() == ' '))
    digits.remove_suffix(1);
  int v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return Error::payload_bad_value;
  return v;
}

}  // namespace mocksvc::wire
