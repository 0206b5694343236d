// withhold_handshake: the session handshake's messages (HandshakeRequest, HandshakeResponse,
// HandshakeComplete and the encryption challenge, payload types 5-9) are held back for
// duration_ms from the first one, or for good. The official client has no handshake timeout and
// waits; the agent gives up after 15 s with "Handshake timed out" (data-channel.md §6.1).
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

bool is_handshake(const wire::Message& m) {
  const auto pt = static_cast<std::uint32_t>(m.payload_type);
  return (m.message_type == wire::msg::kInputStreamData || m.message_type == wire::msg::kOutputStreamData) &&
         pt >= static_cast<std::uint32_t>(wire::PayloadType::handshake_request) &&
         pt <= static_cast<std::uint32_t>(wire::PayloadType::enc_challenge_response);
}

class WithholdHandshake final : public MessageFault {
 public:
  explicit WithholdHandshake(const Rule& r) : duration_(r.attributes.ms("duration_ms")) {}

  bool counts_own_applications() const override { return true; }

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    if (!is_handshake(frame.message)) {
      ctx.forward(std::move(frame));
      return;
    }
    const auto now = ctx.now();
    if (!first_) first_ = now;
    if (duration_.count() > 0 && now >= *first_ + duration_) {
      ctx.forward(std::move(frame));
      return;
    }
    ctx.count("withheld");
    ctx.applied();
    if (duration_.count() == 0) return;
    queues_[index_of(ctx.direction())].push(*first_ + duration_, std::move(frame), ctx);
  }

 private:
  std::chrono::milliseconds duration_;
  std::optional<Clock::time_point> first_;
  ReleaseQueue queues_[2];
};

}  // namespace

const FaultType& withhold_handshake_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "withhold_handshake";
    t.kind = FaultKind::message;
    t.summary = "The handshake's messages are held back, or never delivered.";
    t.attributes = {ms_attr("duration_ms", 0, "hold them this long from the first one; 0: never deliver them")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> {
      return std::make_unique<WithholdHandshake>(r);
    };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
