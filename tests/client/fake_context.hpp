// An in-memory HandlerContext: handlers under test send into vectors and print into a string,
// on a ManualScheduler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mocksvc/client/handler.hpp"
#include "mocksvc/client/scheduler.hpp"

namespace mocksvc::client::testing {

class FakeContext final : public HandlerContext {
 public:
  explicit FakeContext(Scheduler& scheduler, std::string agent = "3.3.987.0")
      : scheduler_(scheduler), agent_version_(std::move(agent)) {}

  struct Sent {
    wire::PayloadType type;
    std::string payload;
  };
  std::vector<Sent> sent;
  std::string printed;
  std::optional<int> exit_code;
  int terminate_calls = 0;
  bool connected = true;

  const std::string& session_id() const override { return session_id_; }
  const std::string& agent_version() const override { return agent_version_; }
  Scheduler& scheduler() override { return scheduler_; }
  bool send_output(std::string_view bytes) override {
    if (!connected) return false;
    while (!bytes.empty()) {
      auto chunk = bytes.substr(0, kMaxChunk);
      bytes.remove_prefix(chunk.size());
      sent.push_back({wire::PayloadType::output, std::string(chunk)});
    }
    return true;
  }
  bool send_size(std::uint32_t cols, std::uint32_t rows) override {
    sent.push_back({wire::PayloadType::size, wire::SizeData{cols, rows}.to_json()});
    return connected;
  }
  bool send_flag(wire::FlagValue flag) override {
    sent.push_back({wire::PayloadType::flag, wire::encode_flag(static_cast<std::uint32_t>(flag))});
    return connected;
  }
  void print(std::string_view text) override { printed.append(text); }
  void finish(int code) override {
    if (!exit_code) exit_code = code;
  }
  void terminate_session() override { ++terminate_calls; }

  std::string output() const {
    std::string s;
    for (const auto& x : sent) {
      if (x.type == wire::PayloadType::output) s += x.payload;
    }
    return s;
  }
  std::vector<std::string> of_type(wire::PayloadType t) const {
    std::vector<std::string> out;
    for (const auto& x : sent) {
      if (x.type == t) out.push_back(x.payload);
    }
    return out;
  }

 private:
  Scheduler& scheduler_;
  std::string session_id_ = "sess-1";
  std::string agent_version_;
};

}  // namespace mocksvc::client::testing
