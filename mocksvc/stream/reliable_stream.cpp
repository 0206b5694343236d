#include "mocksvc/stream/reliable_stream.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::stream {

Settings Settings::client() {
  Settings s;
  s.outgoing_type = std::string(wire::msg::kInputStreamData);
  s.incoming_type = std::string(wire::msg::kOutputStreamData);
  s.syn_on_first = false;
  s.reack_duplicates = false;
  s.update_send_time_on_resend = false;
  s.outgoing_capacity = kClientBufferCapacity;
  s.evict_oldest_when_full = true;
  s.incoming_capacity = kClientBufferCapacity;
  s.resend_limit = kClientResendLimit;
  return s;
}

Settings Settings::agent() {
  Settings s;
  s.outgoing_type = std::string(wire::msg::kOutputStreamData);
  s.incoming_type = std::string(wire::msg::kInputStreamData);
  s.syn_on_first = true;
  s.reack_duplicates = true;
  s.update_send_time_on_resend = true;
  s.outgoing_capacity = kAgentBufferCapacity;
  s.evict_oldest_when_full = false;
  s.incoming_capacity = kAgentBufferCapacity;
  s.resend_limit = 0;
  return s;
}

wire::Message make_ack(const wire::Message& received) {
  wire::Acknowledge ack{received.message_type, received.message_id.to_string(),
                        received.sequence_number, true};
  return wire::make_message(wire::msg::kAcknowledge, 0, wire::kFlagSyn | wire::kFlagFin,
                            wire::PayloadType::none, ack.to_json());
}

ReliableStream::ReliableStream(Settings settings) : settings_(std::move(settings)) {}

wire::Result<ReliableStream::Sent> ReliableStream::send(wire::PayloadType type,
                                                        std::string_view payload, TimePoint now) {
  if (unacked_.size() >= settings_.outgoing_capacity) {
    if (!settings_.evict_oldest_when_full || unacked_.empty()) {
      ++counters_.refused;
      return make_error_code(Error::outgoing_buffer_full);
    }
    unacked_.erase(unacked_.begin());
    ++counters_.evicted;
  }
  const std::int64_t seq = next_seq_++;
  const std::uint64_t flags = settings_.syn_on_first && seq == 0 ? wire::kFlagSyn : 0;
  wire::Message m = wire::make_message(settings_.outgoing_type, seq, flags, type, payload);
  unacked_.emplace(seq, Unacked{m, now, 0});
  ++counters_.sent;
  return Sent{std::move(m), !paused_};
}

bool ReliableStream::on_ack(std::int64_t acked_seq, TimePoint now) {
  paused_ = false;
  auto it = unacked_.find(acked_seq);
  if (it == unacked_.end()) {
    ++counters_.unknown_acks;
    return false;
  }
  update_rto(now - it->second.last_sent);
  unacked_.erase(it);
  ++counters_.acked;
  return true;
}

bool ReliableStream::on_ack(const wire::Message& ack, TimePoint now) {
  auto parsed = wire::parse_acknowledge(ack.payload_text());
  if (!parsed) {
    paused_ = false;
    ++counters_.malformed_acks;
    return false;
  }
  return on_ack(parsed->acknowledged_message_sequence_number, now);
}

// TCP-style estimate in float nanoseconds, truncated to a duration, exactly as both Go ends do.
void ReliableStream::update_rto(std::chrono::nanoseconds sample) {
  const double s = static_cast<double>(sample.count());
  rttvar_ns_ = (1 - kRttVarGain) * rttvar_ns_ + kRttVarGain * std::abs(rtt_ns_ - s);
  rtt_ns_ = (1 - kRttGain) * rtt_ns_ + kRttGain * s;
  const double floor_ns = static_cast<double>(std::chrono::nanoseconds(kClockGranularity).count());
  rto_ = std::chrono::nanoseconds(
      static_cast<std::int64_t>(rtt_ns_ + std::max(floor_ns, 4 * rttvar_ns_)));
  rto_ = std::min<std::chrono::nanoseconds>(rto_, kMaxRto);
}

ReliableStream::Tick ReliableStream::on_tick(TimePoint now) {
  Tick tick;
  if (paused_ || unacked_.empty()) return tick;
  Unacked& head = unacked_.begin()->second;
  if (now - head.last_sent <= rto_) return tick;
  if (settings_.resend_limit != 0 && head.resends >= settings_.resend_limit &&
      !resend_limit_reported_) {
    resend_limit_reported_ = true;
    tick.resend_limit_hit = true;
  }
  ++head.resends;
  ++counters_.resent;
  if (settings_.update_send_time_on_resend) head.last_sent = now;
  tick.resend = head.message;
  return tick;
}

ReliableStream::Incoming ReliableStream::on_incoming(wire::Message message, bool handler_ready) {
  using Kind = Incoming::Kind;
  Incoming in;
  if (message.message_type != settings_.incoming_type) return in;
  paused_ = false;
  const std::int64_t seq = message.sequence_number;

  if (seq == expected_seq_) {
    if (!handler_ready) {
      ++counters_.dropped_not_ready;
      in.kind = Kind::dropped_not_ready;
      return in;
    }
    in.kind = Kind::in_order;
    in.ack = make_ack(message);
    in.deliver.push_back(std::move(message));
    ++expected_seq_;
    drain_into(in.deliver);
    counters_.delivered += in.deliver.size();
    return in;
  }

  if (seq > expected_seq_) {
    // Both ends check room before looking the seq up, so a resent future message is acked again.
    if (reorder_.size() >= settings_.incoming_capacity) {
      ++counters_.dropped_buffer_full;
      in.kind = Kind::dropped_buffer_full;
      return in;
    }
    in.ack = make_ack(message);
    if (reorder_.emplace(seq, std::move(message)).second) {
      in.kind = Kind::buffered_future;
    } else {
      in.kind = Kind::duplicate;
      ++counters_.duplicates_received;
      ++counters_.reacks;
    }
    return in;
  }

  in.kind = Kind::duplicate;
  ++counters_.duplicates_received;
  if (settings_.reack_duplicates) {
    in.ack = make_ack(message);
    ++counters_.reacks;
  }
  return in;
}

void ReliableStream::drain_into(std::vector<wire::Message>& out) {
  for (auto it = reorder_.begin(); it != reorder_.end() && it->first == expected_seq_;
       it = reorder_.erase(it)) {
    out.push_back(std::move(it->second));
    ++expected_seq_;
  }
}

}  // namespace mocksvc::stream
