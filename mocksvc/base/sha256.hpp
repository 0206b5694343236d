// SHA-256 and HMAC-SHA256 over byte strings (OpenSSL libcrypto underneath).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace mocksvc::base {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::span<const std::uint8_t> data);
Digest sha256(std::string_view data);
Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);

}  // namespace mocksvc::base
