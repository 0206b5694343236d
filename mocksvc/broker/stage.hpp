// A relay pipeline stage: one step each relayed frame passes through in one direction, in the
// style of Toxiproxy's toxics. The broker runs an empty pipeline (frames go straight through);
// fault/ supplies stages that drop, duplicate, delay, reorder or corrupt frames. Stages run on
// their relay's strand, one call at a time, and never see sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mocksvc/broker/peer.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::broker {

enum class Direction { client_to_agent, agent_to_client };
std::string_view to_string(Direction d);

enum class Side { client, agent };

// One frame in flight: the bytes that will go on the wire, and what they decoded to (for
// matching). A stage may change the bytes (corrupt, truncate); `message` stays as received.
struct RelayedFrame {
  wire::Bytes bytes;
  wire::Message message;
  std::uint64_t index = 0;  // position in its direction's stream of relayed frames, from 0
};

// What a stage may do besides passing a frame on. Valid only during the call it is given to.
class StageContext {
 public:
  virtual ~StageContext() = default;
  // Hands the frame to the next stage (or the far side when this is the last stage).
  virtual void forward(RelayedFrame frame) = 0;
  // Runs `fn` on the relay's strand after `delay`, unless the session has ended by then.
  virtual void schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Closes one side's connection (disconnect faults).
  virtual void close_side(Side side, CloseSpec spec) = 0;
  // Counts a fault action against this session ("dropped", "duplicated", ...).
  virtual void count(std::string_view what, std::uint64_t n = 1) = 0;
  virtual std::mt19937_64& rng() = 0;
  virtual const std::string& session_id() const = 0;
  virtual const std::string& target() const = 0;
  virtual std::chrono::steady_clock::time_point now() const = 0;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Takes ownership of the frame: forward it (now or later), forward copies, or drop it.
  // `next` forwards past this stage; it stays valid for the life of the relay.
  virtual void process(RelayedFrame frame, StageContext& next) = 0;
};

// Builds a session's stages for one direction. Called when the relay is created and again
// whenever the fault configuration changes (live sessions switch pipelines between frames).
struct SessionFacts {
  std::string session_id;
  std::string target;
  std::string account_id;
  std::string region;
  std::string session_type;
};
using StageFactory = std::function<std::vector<std::shared_ptr<Stage>>(const SessionFacts&, Direction)>;

}  // namespace mocksvc::broker
