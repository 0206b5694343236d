// The closed set of fault types: for each, the word users type, what it acts on, its attributes
// (type, default, range; units in the names) and how to build it. One file per type defines its
// entry (drop.cpp, throttle.cpp, ...); this catalog lists them and applies defaults and range
// checks in one place, so every type validates the same way.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/fault/fault.hpp"
#include "mocksvc/fault/scenario.hpp"

namespace mocksvc::fault {

enum class FaultKind { message, api, agent };
std::string_view to_string(FaultKind k);

enum class AttrType { integer, number, boolean, text };

struct AttributeSpec {
  std::string_view name;
  AttrType type = AttrType::integer;
  std::optional<AttrValue> default_value;  // absent: the attribute is required
  double min = 0;                          // numbers: inclusive range
  double max = 0;
  std::vector<std::string_view> choices;   // text: allowed values (empty: any)
  std::string_view doc;
};

struct FaultType {
  std::string_view name;
  FaultKind kind = FaultKind::message;
  std::string_view summary;
  std::vector<AttributeSpec> attributes;
  // Message faults honour `direction`; others reject it. A fixed direction (agent_slow_ack) is
  // the only one allowed.
  bool directional = false;
  std::optional<broker::Direction> fixed_direction;
  // Exactly one of these is set, by kind (agent_slow_ack is an agent fault made of messages).
  std::unique_ptr<MessageFault> (*make_message)(const Rule&) = nullptr;
  std::unique_ptr<ApiFault> (*make_api)(const Rule&) = nullptr;
  std::vector<PlannedAction> (*plan)(const Rule&, const std::vector<std::string>& targets) = nullptr;
  // Checks across attributes once defaults are in: the attribute at fault and why.
  std::optional<std::pair<std::string, std::string>> (*check)(const Attributes&) = nullptr;
};

// Every type, in README order.
const std::vector<const FaultType*>& fault_types();
const FaultType* find_fault_type(std::string_view name);

// Fills in defaults and checks types, ranges and choices; unknown attribute names are errors.
// On failure returns the attribute's name and what is wrong with it.
std::optional<std::pair<std::string, std::string>> complete_attributes(const FaultType& type,
                                                                         Attributes& attributes);

}  // namespace mocksvc::fault
