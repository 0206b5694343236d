// The /_mock administration API (JSON in and out, no SigV4): what test suites use to set the
// stage and look behind it. All routes are in AdminApi::handle; errors are a fixed catalogue
// `{"error":"<code>","message":"..."}`:
//
//   | code               | status | when                                                |
//   |--------------------|--------|-----------------------------------------------------|
//   | bad_json           | 400    | a body that is not a JSON object                     |
//   | invalid_instance   | 400    | an instance spec that does not validate              |
//   | invalid_request    | 400    | any other bad field or query parameter               |
//   | invalid_preferences| 400    | preferences out of range                             |
//   | not_found          | 404    | unknown route, instance or session                   |
//   | method_not_allowed | 405    | known route, other method                            |
//   | conflict           | 409    | instance id taken; drop-client with no client        |
//   | invalid_scenario   | 400    | a scenario document that does not validate           |
//   | not_supported      | 501    | scenarios on a service built without them            |
//
// Routes:
//   GET    /_mock/health                          {"status":"ok"}
//   POST   /_mock/reset                           back to the configured state; clears the scenario
//   GET    /_mock/instances                       {"instances":[...]}
//   POST   /_mock/instances                       add (instance_json.hpp), 201 + the instance
//   GET    /_mock/instances/{id}
//   DELETE /_mock/instances/{id}                  active sessions on it are terminated
//   PUT    /_mock/instances/{id}/ping-status      {"PingStatus":"ConnectionLost"}
//   GET    /_mock/sessions                        {"sessions":[...]}, every state, newest first
//   GET    /_mock/sessions/{id}
//   POST   /_mock/sessions/{id}/terminate         as TerminateSession, from outside
//   POST   /_mock/sessions/{id}/drop-client       AdminHooks::drop_client
//   GET    /_mock/preferences, PUT /_mock/preferences   session preferences (snake_case keys)
//   GET    /_mock/stats                           {"backend":{...},"broker":<AdminHooks::stats>,
//                                                  "faults":<AdminHooks::fault_stats>}
//   GET    /_mock/metrics                         Prometheus text (format 0.0.4), counters mocksvc_*_total
//   GET    /_mock/scenario                        the active scenario with defaults filled in; 404 if none
//   PUT    /_mock/scenario                        activate a scenario document (scenarios/README.md);
//                                                  live sessions switch between messages
//   DELETE /_mock/scenario                        no scenario
//   GET    /_mock/audit[?limit=N]                 {"events":[...]}, oldest first
#pragma once

#include <string>
#include <string_view>

#include "mocksvc/api/http.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/backend/backend.hpp"

namespace mocksvc::api {

// Implemented by the broker. Called on the thread that serves the admin request.
class AdminHooks {
 public:
  virtual ~AdminHooks() = default;
  // Cuts the client's data-channel connection of a session without ending the session, so the
  // client goes through ResumeSession. False when no client is connected.
  virtual bool drop_client(const std::string& session_id) = 0;
  // The broker's counters as a JSON object text.
  virtual std::string stats() = 0;

  // Fault scenarios (fault/). The defaults are a service without them.
  // The active scenario as JSON; not_found when none is active.
  virtual backend::Result<std::string> scenario();
  // Validates and activates a scenario document; the error's code is invalid_scenario.
  virtual backend::Result<std::string> set_scenario(std::string_view json);
  // False when none was active.
  virtual bool clear_scenario() { return false; }
  // After POST /_mock/reset reset the backend: clear the scenario and the fault counters.
  virtual void on_reset() {}
  // The injector's counters as a JSON object text ("null" without faults).
  virtual std::string fault_stats() { return "null"; }
  // Prometheus text lines (HELP/TYPE included) appended to the api layer's own.
  virtual std::string metrics() { return {}; }
};

// For tests and for a service running without a broker.
class NullAdminHooks final : public AdminHooks {
 public:
  bool drop_client(const std::string&) override { return false; }
  std::string stats() override { return "{}"; }
};

class AdminApi {
 public:
  AdminApi(backend::Backend& backend, AdminHooks& hooks);

  HttpResponse handle(const auth::HttpRequest& request) const;

 private:
  backend::Backend& backend_;
  AdminHooks& hooks_;
};

// "/_mock" or "/_mock/..." (query ignored).
bool is_admin_path(std::string_view path);

}  // namespace mocksvc::api
