// drop: the message is lost. Dropping stream data makes its sender retransmit; dropping an
// agent's acknowledge makes the client resend its head. Dropping a client's acknowledge stalls a
// real pair: the agent resends that message, and the client never acks a duplicate
// (data-channel.md §7.1).
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Drop final : public MessageFault {
 public:
  void apply(broker::RelayedFrame, FaultContext& ctx) override { ctx.count("dropped"); }
};

}  // namespace

const FaultType& drop_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "drop";
    t.kind = FaultKind::message;
    t.summary = "The message is lost.";
    t.directional = true;
    t.make_message = [](const Rule&) -> std::unique_ptr<MessageFault> { return std::make_unique<Drop>(); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
