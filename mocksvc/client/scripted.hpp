// A handler for programs rather than people: the load generator and tests send bytes and wait
// for output containing a string, with a timeout, through callbacks. Built for thousands of
// sessions in one process: no thread, one timer and one bounded output buffer per session.
//
// Runs on the session's strand; every member must be called there. Callbacks run there too and
// may call back into the handler (send, expect) but must not destroy it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/client/handler.hpp"
#include "mocksvc/client/shell.hpp"

namespace mocksvc::client {

class ScriptedHandler final : public SessionHandler {
 public:
  struct Options {
    // Shell sessions send Size first, as the plugin does; port sessions do not.
    bool send_size = true;
    TerminalSize size = kDefaultTerminalSize;
    // Output kept while no expectation is pending (oldest dropped beyond this).
    std::size_t max_buffered = 64 * 1024;
    std::function<void(ScriptedHandler&)> on_started;
    // Every payload as it arrives, before matching (e.g. for transcripts).
    std::function<void(wire::PayloadType, std::string_view)> on_output;
  };

  explicit ScriptedHandler(Scheduler& scheduler);
  ScriptedHandler(Scheduler& scheduler, Options options);
  ~ScriptedHandler() override;

  // Sends bytes as Output; queued until the session starts the handler.
  void send(std::string_view bytes);
  void send_flag(wire::FlagValue flag);
  // done(true) once the output not yet consumed contains `needle` (everything up to the end of
  // the match is then consumed), done(false) after `timeout` or when the session ends first.
  // One expectation at a time: a new one fails the previous with done(false).
  void expect(std::string needle, Duration timeout, std::function<void(bool found)> done);

  bool started() const { return ctx_ != nullptr; }
  bool stopped() const { return stopped_; }
  std::string_view unconsumed() const { return buffer_; }
  std::uint64_t bytes_received() const { return bytes_received_; }
  std::uint64_t payloads_received() const { return payloads_received_; }
  HandlerContext* context() const { return ctx_; }

  void start(HandlerContext& ctx) override;
  void on_payload(wire::PayloadType type, std::string_view payload) override;
  void stop() override;

 private:
  void try_match();
  void complete(bool found);

  Scheduler& scheduler_;
  Options options_;
  HandlerContext* ctx_ = nullptr;
  bool stopped_ = false;
  std::string queued_input_;
  std::vector<wire::FlagValue> queued_flags_;
  std::string buffer_;
  std::size_t scan_from_ = 0;
  std::string needle_;
  std::function<void(bool)> done_;
  std::unique_ptr<Timer> timer_;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t payloads_received_ = 0;
};

}  // namespace mocksvc::client
