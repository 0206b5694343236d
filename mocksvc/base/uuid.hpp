// A 128-bit UUID in canonical byte order, its lower-case hyphenated text form, and random v4
// generation. The wire layout (halves swapped) belongs to wire/frame.hpp, not here.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mocksvc::base {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // Random version-4 UUID from a per-thread generator seeded from std::random_device.
  static Uuid random();
  // Accepts the 36-character hyphenated form in either case; nullopt otherwise.
  static std::optional<Uuid> parse(std::string_view text);
  // Lower-case hyphenated, e.g. "aab6886b-3925-401a-be5e-337b6fa403ba".
  std::string to_string() const;
  bool is_nil() const;

  friend auto operator<=>(const Uuid&, const Uuid&) = default;
};

// Shorthand for Uuid::random().to_string(): request ids, client ids, message ids in JSON.
std::string random_uuid_string();

}  // namespace mocksvc::base
