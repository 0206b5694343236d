// An in-memory relay for fault tests: the injector's stage pipelines for one session, run on the
// client engine's ManualScheduler (virtual time), recording what reaches each side, the closes
// and the per-session counts. The same harness joins a ClientSession to a scripted agent for the
// end-to-end stream tests.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mocksvc/broker/stage.hpp"
#include "mocksvc/client/scheduler.hpp"
#include "mocksvc/fault/scenario.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::fault::testing {

using namespace std::chrono_literals;
using broker::Direction;

// Parses a scenario document or fails the test.
Scenario scenario_from(std::string_view json);
// A scenario with these rules (JSON array text) and seed.
Scenario with_rules(std::string_view rules_json, std::uint64_t seed = 1);

wire::Message data(Direction d, std::int64_t seq, std::string_view payload = "x",
                   wire::PayloadType type = wire::PayloadType::output);
wire::Message ack_of(Direction d, std::int64_t acked_seq);

class PipelineHarness {
 public:
  PipelineHarness(broker::StageFactory factory, broker::SessionFacts facts);
  ~PipelineHarness();

  client::ManualScheduler scheduler;
  // Frames that came out of each pipeline, by direction (client_to_agent: reached the agent).
  std::vector<broker::RelayedFrame> out[2];
  std::vector<std::pair<broker::Side, broker::CloseSpec>> closes;
  std::map<std::string, std::uint64_t> counts;
  // Called for each frame leaving a pipeline (after it is recorded).
  std::function<void(Direction, const broker::RelayedFrame&)> on_out;

  void send(Direction d, const wire::Message& m);
  void send_bytes(Direction d, wire::Bytes bytes);
  // Builds the pipelines again, as Broker::set_stage_factory makes a relay do.
  void rebuild(broker::StageFactory factory);
  void advance(client::Duration d) { scheduler.advance(d); }
  // Sequence numbers of the stream data that came out in direction d, in order.
  std::vector<std::int64_t> seqs(Direction d) const;
  std::uint64_t count(const std::string& what) const;
  void end() { ended_ = true; }

 private:
  struct Pipeline;
  class Ctx;
  void deliver(Direction d, broker::RelayedFrame f);

  broker::SessionFacts facts_;
  broker::StageFactory factory_;
  std::shared_ptr<Pipeline> pipes_[2];
  std::vector<std::unique_ptr<client::Timer>> timers_;
  std::uint64_t index_[2] = {0, 0};
  bool ended_ = false;
};

}  // namespace mocksvc::fault::testing
