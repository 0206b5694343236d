#include "mocksvc/base/uuid.hpp"

#include <random>

#include "mocksvc/base/hex.hpp"

namespace mocksvc::base {

Uuid Uuid::random() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  Uuid u;
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = gen();
    for (int i = 0; i < 8; ++i) u.bytes[half * 8 + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0f) | 0x40);  // version 4
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
    return std::nullopt;
  std::string hex;
  hex.reserve(32);
  for (char c : text)
    if (c != '-') hex.push_back(c);
  auto raw = from_hex(hex);
  if (!raw || raw->size() != 16) return std::nullopt;
  Uuid u;
  std::copy(raw->begin(), raw->end(), u.bytes.begin());
  return u;
}

std::string Uuid::to_string() const {
  std::string h = to_hex(bytes);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20);
}

bool Uuid::is_nil() const {
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

std::string random_uuid_string() { return Uuid::random().to_string(); }

}  // namespace mocksvc::base
