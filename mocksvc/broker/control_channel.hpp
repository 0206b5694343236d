// Real agents' control channels (agent.md §2, §5): the WebSocket an agent holds open on
// /v1/control-channel/{instanceId}. Its first text frame must be OpenControlChannel carrying a
// token CreateControlChannel issued for that instance (else the connection is closed with
// 1008); from then on the instance counts as connected (Online) and its agent version and
// platform are recorded. A second connection for the same instance replaces the first. When
// the channel closes, cleanly or not, the instance is ConnectionLost; its live sessions stay
// until their data channels end or they are terminated.
//
// Binary frames from the agent: agent_task_complete is answered with agent_task_acknowledge
// (the MessageId of the agent's message, agent.md §5.3), every time it is sent, and reported
// to the TaskListener; agent_telemetry, agent_update_result, agent_job_* and unknown types are
// ignored; malformed frames are counted, never fatal.
//
// Thread-safe: any method may be called from any thread. One mutex guards the registry; it is
// held while the connected flag is written to the Backend (which never calls back) so that
// attach and detach races cannot leave a stale flag, and never while calling a Peer or the
// listener. The registry must outlive the connections bound to it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::broker {

// WebSocket close code for a refused OpenControlChannel (RFC 6455 "policy violation").
inline constexpr std::uint16_t kPolicyViolation = 1008;

// Told about every agent_task_complete, duplicates included (the agent resends until acked).
class TaskListener {
 public:
  virtual ~TaskListener() = default;
  virtual void on_task_complete(const std::string& instance_id,
                                const wire::AgentTaskComplete& task) = 0;
};

struct ControlChannelStats {
  std::size_t connected = 0;          // instances with an open channel now
  std::uint64_t opened = 0;           // OpenControlChannel accepted
  std::uint64_t refused = 0;          // closed with 1008 before or at OpenControlChannel
  std::uint64_t replaced = 0;         // closed because the same instance connected again
  std::uint64_t closed = 0;           // open channels that ended (clean or not)
  std::uint64_t frames = 0;           // binary frames read from open channels
  std::uint64_t bad_frames = 0;       // frames or payloads that did not decode
  std::uint64_t ignored_frames = 0;   // telemetry, update results, jobs, unknown types, text
  std::uint64_t tasks_completed = 0;  // agent_task_complete frames (duplicates included)
};

class ControlChannels {
 public:
  explicit ControlChannels(backend::Backend& backend);
  ControlChannels(const ControlChannels&) = delete;
  ControlChannels& operator=(const ControlChannels&) = delete;

  // nullptr detaches; the listener must outlive the registry or be detached first.
  void set_task_listener(TaskListener* listener);

  // A WebSocket was accepted on /v1/control-channel/<instance_id>.
  std::shared_ptr<Inbound> bind(std::string instance_id, std::shared_ptr<Peer> connection);

  // Sends one binary frame on the instance's channel; false when none is open.
  bool send(std::string_view instance_id, wire::Bytes frame);
  bool connected(std::string_view instance_id) const;
  // What the open channel's OpenControlChannel said; empty when not connected.
  std::string agent_version(std::string_view instance_id) const;
  std::vector<std::string> connected_instances() const;
  ControlChannelStats stats() const;
  // Closes one instance's channel as `spec` says (fault scenarios: an abrupt close is what a
  // network failure looks like to the agent, which then reconnects, agent.md §2.6). False
  // when the instance has no open channel.
  bool close(std::string_view instance_id, CloseSpec spec);
  // Closes every channel (service stopping).
  void close_all();

 private:
  friend class ControlChannelInbound;
  struct Channel {
    std::shared_ptr<Peer> peer;
    std::uint64_t generation = 0;
    std::string agent_version;
    std::string platform_type;
  };

  // OpenControlChannel was accepted: the connection becomes the instance's channel. Returns its
  // generation, or 0 when the instance cannot hold a channel (unknown or virtual).
  std::uint64_t attach(const std::string& instance_id, std::shared_ptr<Peer> peer,
                       const wire::OpenControlChannel& open);
  // The connection of `generation` ended; a newer channel of the instance is left alone.
  void detach(const std::string& instance_id, std::uint64_t generation);
  void count(std::uint64_t ControlChannelStats::*counter);
  TaskListener* listener() const;

  backend::Backend& backend_;
  mutable std::mutex mu_;
  TaskListener* listener_ = nullptr;
  std::map<std::string, Channel, std::less<>> channels_;
  std::uint64_t next_generation_ = 1;
  ControlChannelStats stats_;
};

}  // namespace mocksvc::broker
