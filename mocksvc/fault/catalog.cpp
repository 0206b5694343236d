#include "mocksvc/fault/catalog.hpp"

#include <cmath>

#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {

std::string_view to_string(FaultKind k) {
  switch (k) {
    case FaultKind::message: return "message";
    case FaultKind::api: return "api";
    case FaultKind::agent: return "agent";
  }
  return "message";
}

const std::vector<const FaultType*>& fault_types() {
  static const std::vector<const FaultType*> all = {
      &drop_fault(),         &duplicate_fault(),       &reorder_fault(),         &delay_fault(),
      &corrupt_fault(),      &truncate_fault(),        &bandwidth_fault(),       &pause_fault(),
      &disconnect_fault(),   &close_after_ms_fault(),  &withhold_handshake_fault(),
      &throttle_fault(),     &error_fault(),           &latency_fault(),         &target_not_connected_fault(),
      &agent_disconnect_fault(), &agent_reconnect_fault(), &agent_slow_ack_fault(), &instance_offline_fault()};
  return all;
}

const FaultType* find_fault_type(std::string_view name) {
  for (const FaultType* t : fault_types())
    if (t->name == name) return t;
  return nullptr;
}

namespace {

std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<std::int64_t>(v));
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

std::string allowed_names(const FaultType& type) {
  if (type.attributes.empty()) return "none";
  std::string out;
  for (const auto& a : type.attributes) {
    if (!out.empty()) out += ", ";
    out += a.name;
  }
  return out;
}

}  // namespace

// The one place defaults are applied and attribute values checked.
std::optional<std::pair<std::string, std::string>> complete_attributes(const FaultType& type,
                                                                         Attributes& attributes) {
  using Problem = std::pair<std::string, std::string>;
  for (const auto& [name, value] : attributes.items()) {
    bool known = false;
    for (const auto& spec : type.attributes) known = known || spec.name == name;
    if (!known) {
      return Problem(name, "'" + std::string(type.name) + "' has no such attribute (allowed: " +
                               allowed_names(type) + ")");
    }
  }
  Attributes out;
  for (const auto& spec : type.attributes) {
    const std::string name(spec.name);
    AttrValue value;
    bool given = false;
    for (const auto& [n, v] : attributes.items()) {
      if (n == name) {
        value = v;
        given = true;
      }
    }
    if (!given) {
      if (!spec.default_value) return Problem(name, "is required");
      out.set(name, *spec.default_value);
      continue;
    }
    const std::string range = " between " + number_text(spec.min) + " and " + number_text(spec.max);
    switch (spec.type) {
      case AttrType::integer: {
        auto* i = std::get_if<std::int64_t>(&value);
        if (!i) return Problem(name, "must be an integer" + range);
        if (static_cast<double>(*i) < spec.min || static_cast<double>(*i) > spec.max)
          return Problem(name, "must be an integer" + range);
        break;
      }
      case AttrType::number: {
        double d = 0;
        if (auto* i = std::get_if<std::int64_t>(&value)) {
          d = static_cast<double>(*i);
        } else if (auto* f = std::get_if<double>(&value)) {
          d = *f;
        } else {
          return Problem(name, "must be a number" + range);
        }
        if (!(d >= spec.min && d <= spec.max)) return Problem(name, "must be a number" + range);
        value = d;
        break;
      }
      case AttrType::boolean:
        if (!std::holds_alternative<bool>(value)) return Problem(name, "must be true or false");
        break;
      case AttrType::text: {
        auto* s = std::get_if<std::string>(&value);
        if (!s) return Problem(name, "must be a string");
        if (!spec.choices.empty()) {
          bool ok = false;
          std::string list;
          for (auto c : spec.choices) {
            ok = ok || c == *s;
            if (!list.empty()) list += ", ";
            list += c;
          }
          if (!ok) return Problem(name, "must be one of: " + list);
        }
        break;
      }
    }
    out.set(name, std::move(value));
  }
  if (type.check) {
    if (auto problem = type.check(out)) return problem;
  }
  attributes = std::move(out);
  return std::nullopt;
}

}  // namespace mocksvc::fault
