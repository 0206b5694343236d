// One ClientSession against a FakeService on virtual time, with its stdout captured and a
// choice of handler factory: the shared fixture of the engine tests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mocksvc/client/scheduler.hpp"
#include "mocksvc/client/session.hpp"
#include "mocksvc/client/shell.hpp"
#include "tests/client/fake_service.hpp"

namespace mocksvc::client::testing {

inline constexpr const char* kSessionId = "sess-1";
inline constexpr const char* kStreamUrl =
    "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/sess-1"
    "?role=publish_subscribe&cell-number=AAEAAdvq";
inline constexpr const char* kClientId = "3f2c8a34-7a43-4b5e-9d55-1c0f8e2a6b71";

inline ResumeResult failed_call() {
  ResumeResult r;
  r.call_failed = true;
  return r;
}

struct Harness {
  explicit Harness(std::uint32_t seed = 7) : service(scheduler, seed) {}

  ManualScheduler scheduler;
  FakeService service;
  std::string out;  // the client's stdout
  std::optional<int> exit_code;
  std::vector<SessionTypeInfo> infos;
  std::vector<RecordingHandler*> recorders;
  std::unique_ptr<ClientSession> session;
  bool use_shell = false;  // ShellHandler (300x100, output to `out`) instead of recorders

  static SessionConfig default_config() {
    SessionConfig c;
    c.session_id = kSessionId;
    c.token_value = "token-1";
    c.stream_url = kStreamUrl;
    c.target = "i-0123456789abcdef0";
    c.region = "us-east-1";
    c.client_id = kClientId;
    c.seed = 42;
    return c;
  }

  SessionHooks hooks() {
    SessionHooks h;
    h.dial = service.dialer();
    h.control = service.control_plane();
    h.print = [this](std::string_view s) { out.append(s); };
    h.on_finished = [this](int code) { exit_code = code; };
    h.make_handler = [this](const SessionTypeInfo& info) -> std::unique_ptr<SessionHandler> {
      infos.push_back(info);
      if (use_shell) {
        ShellHandler::Options o;
        o.write = [this](std::string_view s) { out.append(s); };
        return std::make_unique<ShellHandler>(std::move(o));
      }
      auto r = std::make_unique<RecordingHandler>();
      recorders.push_back(r.get());
      return r;
    };
    return h;
  }

  void start(SessionConfig c = default_config()) {
    session = std::make_unique<ClientSession>(scheduler, std::move(c), hooks());
    session->start();
    scheduler.run_ready();
  }

  RecordingHandler* recorder() const { return recorders.empty() ? nullptr : recorders.back(); }

  // A Port or shell handshake, run until the handler has started.
  void handshake(std::string_view type = "Standard_Stream", std::string_view properties = "",
                 std::string_view customer_message = "") {
    service.send_handshake_request(type, properties);
    scheduler.advance(10ms);
    service.send_handshake_complete(customer_message);
    scheduler.advance(10ms);
  }

  bool wait_for(const std::function<bool()>& pred, Duration limit = 10s) {
    return scheduler.run_until(pred, limit);
  }
};

}  // namespace mocksvc::client::testing
