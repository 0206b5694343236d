// Internal to fault/: the two stage kinds the injector puts in a session's pipelines. The tap
// comes first: it counts retransmissions (a stream sequence number relayed again in the same
// direction) and gates sessions of offline instances. Each rule stage then selects frames by the
// rule's envelope (match, nth / every_nth / limit, probability) and hands them to the fault.
#pragma once

#include <memory>

#include "mocksvc/broker/stage.hpp"
#include "mocksvc/fault/runtime.hpp"

namespace mocksvc::fault::detail {

// How often an offline gate tells the client its far end is gone, as the real service repeats
// pause_publication while the agent is away (data-channel.md §12, issue #22).
inline constexpr auto kOfflinePauseInterval = std::chrono::seconds(1);

std::shared_ptr<broker::Stage> make_tap_stage(broker::Direction direction, std::shared_ptr<SessionRecord> record,
                                              std::shared_ptr<const Shared> shared);
std::shared_ptr<broker::Stage> make_rule_stage(broker::Direction direction, std::shared_ptr<RuleRuntime> runtime);

// Whether a relayed frame passes the rule's message filters (types, payload types, sequence range).
bool message_filters_pass(const Match& match, const broker::RelayedFrame& frame);

}  // namespace mocksvc::fault::detail
