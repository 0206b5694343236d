// corrupt: flips bits in the payload or in the PayloadDigest. The official client then fails the
// digest check and drops the message without an ack, so the agent retransmits it (data-channel.md
// §5); the official agent checks no digest and takes damaged input as it is (agent.md §4).
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

// PayloadDigest and payload offsets in the frame (wire/frame.hpp).
constexpr std::size_t kDigestOffset = 80;
constexpr std::size_t kDigestSize = 32;
constexpr std::size_t kPayloadOffset = 120;

class Corrupt final : public MessageFault {
 public:
  explicit Corrupt(const Rule& r) : digest_(r.attributes.text("what") == "digest"), bytes_(r.attributes.integer("bytes")) {}

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    auto& b = frame.bytes;
    const bool payload = !digest_ && b.size() > kPayloadOffset;
    const std::size_t from = payload ? kPayloadOffset : kDigestOffset;
    const std::size_t to = payload ? b.size() : std::min(b.size(), kDigestOffset + kDigestSize);
    if (to > from) {
      for (std::int64_t i = 0; i < bytes_; ++i) {
        auto at = static_cast<std::size_t>(draw(ctx.rng(), static_cast<std::int64_t>(from), static_cast<std::int64_t>(to - 1)));
        b[at] ^= static_cast<std::uint8_t>(draw(ctx.rng(), 1, 255));
      }
      ctx.count("corrupted");
    }
    ctx.forward(std::move(frame));
  }

 private:
  bool digest_;
  std::int64_t bytes_;
};

}  // namespace

const FaultType& corrupt_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "corrupt";
    t.kind = FaultKind::message;
    t.summary = "Bytes of the payload (or of the digest) are flipped.";
    t.attributes = {text_attr("what", std::string("payload"), {"payload", "digest"},
                              "what to damage; messages with no payload get their digest damaged"),
                    int_attr("bytes", 1, 1, 64, "bytes flipped (positions drawn from the seed)")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Corrupt>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
