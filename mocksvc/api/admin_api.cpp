#include "mocksvc/api/admin_api.hpp"

#include <charconv>
#include <vector>

#include <nlohmann/json.hpp>

#include "mocksvc/api/aws_json.hpp"
#include "mocksvc/api/instance_json.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using backend::AwsError;

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse reply(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse error_reply(int status, std::string_view code, std::string_view message) {
  ojson j = ojson::object();
  j["error"] = code;
  j["message"] = message;
  return reply(status, dump(j));
}

HttpResponse error_reply(const AwsError& e) {
  return error_reply(e.http_status, e.code, e.message);
}

HttpResponse not_found() { return error_reply(404, "not_found", "no such route"); }
HttpResponse method_not_allowed() {
  return error_reply(405, "method_not_allowed", "this route does not take that method");
}

ojson parse_or_string(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ojson(text);
  return j;
}

ojson session_json(const backend::SessionInfo& s) {
  ojson j = ojson::object();
  j["SessionId"] = s.session_id;
  j["state"] = is_active(s.status) ? "Active" : "History";
  j["Status"] = to_string(s.status);
  j["Target"] = s.target;
  j["target_kind"] = to_string(s.target_kind);
  j["account_id"] = s.account_id;
  j["region"] = s.region;
  j["StartDate"] = backend::epoch_seconds(s.start_date);
  if (s.end_date) j["EndDate"] = backend::epoch_seconds(*s.end_date);
  j["DocumentName"] = s.document_name;
  j["session_type"] = s.session_type;
  j["Owner"] = s.owner;
  j["Reason"] = s.reason;
  j["parameters"] = parse_or_string(s.parameters_json);
  j["output"] = s.output;
  j["idle_timeout_minutes"] = s.idle_timeout_minutes;
  j["max_session_duration_minutes"] = s.max_session_duration_minutes;
  return j;
}

ojson preferences_json(const backend::SessionPreferences& p) {
  ojson j = ojson::object();
  j["idle_timeout_minutes"] = p.idle_timeout_minutes;
  j["max_session_duration_minutes"] = p.max_session_duration_minutes;
  j["run_as_enabled"] = p.run_as_enabled;
  j["run_as_default_user"] = p.run_as_default_user;
  j["shell_profile_linux"] = p.shell_profile_linux;
  return j;
}

std::optional<json> object_body(const auth::HttpRequest& req) {
  if (req.body.empty()) return json::object();
  if (json_nesting_exceeds(req.body)) return std::nullopt;
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

HttpResponse bad_json() { return error_reply(400, "bad_json", "the body must be a JSON object"); }

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    pos = amp + 1;
  }
  return std::nullopt;
}

// The backend's own counters and gauges in Prometheus text (format 0.0.4).
std::string backend_metrics(const backend::BackendStats& s) {
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help, std::size_t value) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    out += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
    out += std::string(name) + " " + std::to_string(value) + "\n";
  };
  metric("mocksvc_sessions_started_total", "counter", "Sessions started since start or reset.", s.sessions_started);
  metric("mocksvc_sessions_active", "gauge", "Sessions not yet ended.", s.sessions_active);
  metric("mocksvc_instances", "gauge", "Managed instances known to the service.", s.instances);
  metric("mocksvc_audit_events_total", "counter", "API calls recorded in the audit trail since start or reset.",
         s.audit_events);
  return out;
}

}  // namespace

backend::Result<std::string> AdminHooks::scenario() {
  return AwsError("not_supported", "this service has no fault scenarios", 501);
}

backend::Result<std::string> AdminHooks::set_scenario(std::string_view) {
  return AwsError("not_supported", "this service has no fault scenarios", 501);
}

bool is_admin_path(std::string_view path) {
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  return path == "/_mock" || path.rfind("/_mock/", 0) == 0;
}

AdminApi::AdminApi(backend::Backend& backend, AdminHooks& hooks)
    : backend_(backend), hooks_(hooks) {}

HttpResponse AdminApi::handle(const auth::HttpRequest& req) const {
  auto parts = split_path(req.path());
  const std::string& m = req.method;
  if (parts.size() < 2 || parts[0] != "_mock") return not_found();
  std::string_view area = parts[1];

  if (area == "health" && parts.size() == 2) {
    if (m != "GET") return method_not_allowed();
    return reply(200, R"({"status":"ok"})");
  }
  if (area == "reset" && parts.size() == 2) {
    if (m != "POST") return method_not_allowed();
    backend_.reset();
    hooks_.on_reset();
    return reply(200, R"({"status":"ok"})");
  }
  if (area == "stats" && parts.size() == 2) {
    if (m != "GET") return method_not_allowed();
    backend::BackendStats s = backend_.stats();
    ojson j = ojson::object();
    ojson b = ojson::object();
    b["instances"] = s.instances;
    b["sessions_active"] = s.sessions_active;
    b["sessions_history"] = s.sessions_history;
    b["sessions_started"] = s.sessions_started;
    b["audit_events"] = s.audit_events;
    j["backend"] = b;
    ojson broker = ojson::parse(hooks_.stats(), nullptr, /*allow_exceptions=*/false);
    j["broker"] = broker.is_discarded() ? ojson(nullptr) : broker;
    ojson faults = ojson::parse(hooks_.fault_stats(), nullptr, /*allow_exceptions=*/false);
    j["faults"] = faults.is_discarded() ? ojson(nullptr) : faults;
    return reply(200, dump(j));
  }
  if (area == "metrics" && parts.size() == 2) {
    if (m != "GET") return method_not_allowed();
    HttpResponse r;
    r.status = 200;
    r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = backend_metrics(backend_.stats()) + hooks_.metrics();
    return r;
  }
  if (area == "scenario" && parts.size() == 2) {
    if (m == "GET") {
      auto s = hooks_.scenario();
      if (!s) return error_reply(s.error());
      return reply(200, *s);
    }
    if (m == "PUT") {
      if (json_nesting_exceeds(req.body)) return bad_json();
      auto s = hooks_.set_scenario(req.body);
      if (!s) return error_reply(s.error());
      return reply(200, *s);
    }
    if (m == "DELETE") {
      ojson j = ojson::object();
      j["cleared"] = hooks_.clear_scenario();
      return reply(200, dump(j));
    }
    return method_not_allowed();
  }
  if (area == "audit" && parts.size() == 2) {
    if (m != "GET") return method_not_allowed();
    std::size_t limit = static_cast<std::size_t>(-1);
    if (auto l = query_param(req.query(), "limit")) {
      std::size_t n = 0;
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
      if (ec != std::errc{} || end != l->data() + l->size()) {
        return error_reply(400, "invalid_request", "limit must be a non-negative integer");
      }
      limit = n;
    }
    ojson j = ojson::object();
    j["events"] = ojson::array();
    for (const auto& line : backend_.audit_lines(limit))
      j["events"].push_back(parse_or_string(line));
    return reply(200, dump(j));
  }
  if (area == "preferences" && parts.size() == 2) {
    if (m == "GET") return reply(200, dump(preferences_json(backend_.preferences())));
    if (m != "PUT") return method_not_allowed();
    auto body = object_body(req);
    if (!body) return bad_json();
    backend::SessionPreferences p = backend_.preferences();
    for (auto it = body->begin(); it != body->end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      bool ok = true;
      if (k == "idle_timeout_minutes" && v.is_number_integer()) {
        p.idle_timeout_minutes =
            static_cast<int>(std::clamp<std::int64_t>(v.get<std::int64_t>(), -1, 100000));
      } else if (k == "max_session_duration_minutes" && v.is_number_integer()) {
        p.max_session_duration_minutes =
            static_cast<int>(std::clamp<std::int64_t>(v.get<std::int64_t>(), -1, 100000));
      } else if (k == "run_as_enabled" && v.is_boolean()) {
        p.run_as_enabled = v.get<bool>();
      } else if (k == "run_as_default_user" && v.is_string()) {
        p.run_as_default_user = v.get<std::string>();
      } else if (k == "shell_profile_linux" && v.is_string()) {
        p.shell_profile_linux = v.get<std::string>();
      } else {
        ok = false;
      }
      if (!ok) return error_reply(400, "invalid_request", "unknown key or wrong type: '" + k + "'");
    }
    if (auto r = backend_.set_preferences(p); !r) return error_reply(r.error());
    return reply(200, dump(preferences_json(p)));
  }

  if (area == "instances") {
    if (parts.size() == 2) {
      if (m == "GET") {
        ojson j = ojson::object();
        j["instances"] = ojson::array();
        for (const auto& i : backend_.list_instances())
          j["instances"].push_back(ojson::parse(instance_to_json(i)));
        return reply(200, dump(j));
      }
      if (m != "POST") return method_not_allowed();
      auto body = object_body(req);
      if (!body) return bad_json();
      auto spec = instance_spec_from_json(*body);
      if (!spec) return error_reply(spec.error());
      auto added = backend_.add_instance(std::move(*spec));
      if (!added) return error_reply(added.error());
      return reply(201, instance_to_json(*added));
    }
    std::string id(parts[2]);
    if (parts.size() == 3) {
      if (m == "GET") {
        auto i = backend_.find_instance(id);
        if (!i) return error_reply(404, "not_found", "instance " + id + " does not exist");
        return reply(200, instance_to_json(*i));
      }
      if (m != "DELETE") return method_not_allowed();
      if (auto r = backend_.remove_instance(id); !r) return error_reply(r.error());
      ojson j = ojson::object();
      j["InstanceId"] = id;
      j["deleted"] = true;
      return reply(200, dump(j));
    }
    if (parts.size() == 4 && parts[3] == "ping-status") {
      if (m != "PUT") return method_not_allowed();
      auto body = object_body(req);
      if (!body) return bad_json();
      auto ps = body->find("PingStatus");
      std::optional<backend::PingStatus> status;
      if (ps != body->end() && ps->is_string())
        status = backend::parse_ping_status(ps->get<std::string>());
      if (!status) {
        return error_reply(400, "invalid_request",
                           "PingStatus must be one of Online, ConnectionLost, Inactive");
      }
      auto r = backend_.set_ping_status(id, *status);
      if (!r) return error_reply(r.error());
      return reply(200, instance_to_json(*r));
    }
    return not_found();
  }

  if (area == "sessions") {
    if (parts.size() == 2) {
      if (m != "GET") return method_not_allowed();
      ojson j = ojson::object();
      j["sessions"] = ojson::array();
      for (const auto& s : backend_.list_sessions()) j["sessions"].push_back(session_json(s));
      return reply(200, dump(j));
    }
    std::string id(parts[2]);
    if (parts.size() == 3) {
      if (m != "GET") return method_not_allowed();
      auto s = backend_.find_session(id);
      if (!s) return error_reply(404, "not_found", "session " + id + " does not exist");
      return reply(200, dump(session_json(*s)));
    }
    if (parts.size() == 4 && parts[3] == "terminate") {
      if (m != "POST") return method_not_allowed();
      auto r = backend_.request_termination(id, "terminated through the admin API");
      if (!r) return error_reply(r.error());
      return reply(200, dump(session_json(*r)));
    }
    if (parts.size() == 4 && parts[3] == "drop-client") {
      if (m != "POST") return method_not_allowed();
      if (!backend_.find_session(id))
        return error_reply(404, "not_found", "session " + id + " does not exist");
      if (!hooks_.drop_client(id)) {
        return error_reply(409, "conflict", "session " + id + " has no client connected");
      }
      ojson j = ojson::object();
      j["SessionId"] = id;
      j["dropped"] = true;
      return reply(200, dump(j));
    }
    return not_found();
  }
  return not_found();
}

}  // namespace mocksvc::api
