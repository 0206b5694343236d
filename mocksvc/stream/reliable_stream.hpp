// The reliability layer of one data channel, for either end: outgoing sequence numbers, the
// unacked list with its RTO-driven head retransmission, and incoming acks, duplicate handling and
// the out-of-order buffer (data-channel.md §7-§8, agent.md §6.3). Transport-free and
// deterministic: the caller passes the time in, writes what it is handed and feeds back what
// arrives, so a reconnect (a new socket) simply carries on with the same engine.
//
// Not thread-safe: one owner calls every member (the connection's strand or a test).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/stream/error.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::stream {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::duration<double, std::milli>;

// Retransmission timer, the same in the official client and agent (data-channel.md §7.4): the
// scheduler wakes every kTickInterval; RTT/RTTVAR start at 100 ms / 0 and RTO at 200 ms; the
// variance term never drops below the 10 ms clock granularity; RTO is capped at 1 s.
inline constexpr auto kTickInterval = std::chrono::milliseconds(100);
inline constexpr auto kInitialRtt = std::chrono::milliseconds(100);
inline constexpr auto kInitialRto = std::chrono::milliseconds(200);
inline constexpr auto kClockGranularity = std::chrono::milliseconds(10);
inline constexpr auto kMaxRto = std::chrono::seconds(1);
inline constexpr double kRttGain = 1.0 / 8.0;
inline constexpr double kRttVarGain = 1.0 / 4.0;

// Buffer capacities (data-channel.md §7.2-§7.3) and the client's resend limit, after which it
// calls TerminateSession once: 3000 resends at one per tick is about 5 minutes (§7.4).
inline constexpr std::size_t kClientBufferCapacity = 10'000;
inline constexpr std::size_t kAgentBufferCapacity = 100'000;
inline constexpr std::uint64_t kClientResendLimit = 3'000;

// How one end behaves. client() is session-manager-plugin, agent() is amazon-ssm-agent.
struct Settings {
  std::string outgoing_type;      // input_stream_data (client) / output_stream_data (agent)
  std::string incoming_type;      // the peer's stream type; other types are not stream data
  bool syn_on_first = false;      // Flags = SYN on seq 0 (agent); the client always sends 0
  bool reack_duplicates = false;  // ack again a message below the expected seq (agent only)
  // The agent stores the resend time, so it resends once per RTO and samples the RTT from the
  // last send. The client never stores it: once late, the head goes out on every tick and the
  // RTT sample spans back to the first send.
  bool update_send_time_on_resend = false;
  std::size_t outgoing_capacity = kClientBufferCapacity;
  bool evict_oldest_when_full = true;  // client; the agent refuses new messages instead
  std::size_t incoming_capacity = kClientBufferCapacity;  // full => future messages dropped, no ack
  std::uint64_t resend_limit = 0;  // resends of one head before reporting; 0 = no limit

  static Settings client();
  static Settings agent();
};

struct Counters {
  std::uint64_t sent = 0;            // new messages numbered by send()
  std::uint64_t resent = 0;          // head retransmissions handed out by on_tick()
  std::uint64_t acked = 0;           // acks that removed an unacked message
  std::uint64_t unknown_acks = 0;    // acks for a seq not (or no longer) unacked
  std::uint64_t malformed_acks = 0;  // acknowledge messages whose payload did not parse
  std::uint64_t evicted = 0;         // unacked messages dropped to make room (client)
  std::uint64_t refused = 0;         // send() calls refused for a full buffer (agent)
  std::uint64_t delivered = 0;       // incoming messages handed out in order
  std::uint64_t reacks = 0;          // acks sent for duplicates
  std::uint64_t duplicates_received = 0;
  std::uint64_t dropped_buffer_full = 0;
  std::uint64_t dropped_not_ready = 0;
};

// The acknowledge for a received stream message: type acknowledge, Seq 0, Flags SYN|FIN,
// PayloadType 0, payload {"AcknowledgedMessageType",...,"IsSequentialMessage":true} (§7.1).
wire::Message make_ack(const wire::Message& received);

class ReliableStream {
 public:
  explicit ReliableStream(Settings settings);

  struct Sent {
    wire::Message message;
    bool write_now = true;  // false while paused: kept unacked, on_tick() sends it later
  };
  // Numbers the next message (random MessageId, wall-clock CreatedDate) and records it as
  // unacked, sent at `now`. When the list is full the client evicts its oldest entry; the agent
  // is refused with Error::outgoing_buffer_full and no sequence number is used.
  wire::Result<Sent> send(wire::PayloadType type, std::string_view payload, TimePoint now);

  // Removes the unacked message with this sequence number (any of them, not cumulative) and
  // feeds now minus its recorded send time (see update_send_time_on_resend) to the RTO
  // estimate. False, and counted, for an unknown seq. Like the agent, an ack ends a pause.
  bool on_ack(std::int64_t acked_seq, TimePoint now);
  // The same for a decoded acknowledge message; a malformed payload is counted and ignored.
  bool on_ack(const wire::Message& ack, TimePoint now);

  struct Tick {
    std::optional<wire::Message> resend;  // the head, if older than the RTO; never another
    bool resend_limit_hit = false;        // true on exactly one tick: call TerminateSession
  };
  // Call every kTickInterval, also while the socket is down (the resend then fails and counts).
  Tick on_tick(TimePoint now);

  struct Incoming {
    enum class Kind {
      in_order,             // delivered, acked, buffered successors drained
      buffered_future,      // acked and kept until the gap fills
      duplicate,            // seen before; never delivered twice
      dropped_buffer_full,  // future message with the buffer full: no ack, the peer resends
      dropped_not_ready,    // in order but the handler is not ready: no ack, the peer resends
      not_stream_data,      // not the peer's stream type: untouched, route it elsewhere
    };
    Kind kind = Kind::not_stream_data;
    std::optional<wire::Message> ack;    // write this back, if set
    std::vector<wire::Message> deliver;  // in sequence order: this message, then drained ones
  };
  // handler_ready = false models the "handler not ready" drop of both official ends: the
  // expected message is neither processed nor acked (data-channel.md §7.1, agent.md §6.3).
  // Future messages are still buffered and acked. Like the agent, stream data clears pause.
  Incoming on_incoming(wire::Message message, bool handler_ready = true);

  // pause_publication / start_publication (agent.md §6.2): while paused new messages are recorded
  // but not written, and nothing is resent.
  void set_paused(bool paused) { paused_ = paused; }
  bool paused() const { return paused_; }

  bool resend_limit_reached() const { return resend_limit_reported_; }
  std::int64_t next_outgoing_seq() const { return next_seq_; }
  std::int64_t expected_incoming_seq() const { return expected_seq_; }
  std::size_t unacked_count() const { return unacked_.size(); }
  std::size_t buffered_count() const { return reorder_.size(); }
  Millis rtt() const { return Millis(rtt_ns_ / 1e6); }
  Millis rttvar() const { return Millis(rttvar_ns_ / 1e6); }
  std::chrono::nanoseconds rto() const { return rto_; }
  const Counters& counters() const { return counters_; }
  const Settings& settings() const { return settings_; }

 private:
  struct Unacked {
    wire::Message message;
    TimePoint last_sent;
    std::uint64_t resends = 0;
  };

  void update_rto(std::chrono::nanoseconds sample);
  void drain_into(std::vector<wire::Message>& out);

  Settings settings_;
  std::int64_t next_seq_ = 0;
  std::int64_t expected_seq_ = 0;
  std::map<std::int64_t, Unacked> unacked_;  // begin() is the oldest: the only one resent
  std::map<std::int64_t, wire::Message> reorder_;
  double rtt_ns_ = std::chrono::duration<double, std::nano>(kInitialRtt).count();
  double rttvar_ns_ = 0;
  std::chrono::nanoseconds rto_ = kInitialRto;
  bool paused_ = false;
  bool resend_limit_reported_ = false;
  Counters counters_;
};

}  // namespace mocksvc::stream
