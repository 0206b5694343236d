// Splitting output into stream messages without cutting a UTF-8 character in two, as the real
// agent's shell reader does (agent.md §6.5): a character cut by a read is held back and sent with
// the next read; invalid bytes pass through unchanged. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mocksvc::agent {

// Length of `s` without a trailing, still incomplete UTF-8 sequence (at most 3 bytes held back).
std::size_t utf8_complete_prefix(std::string_view s);

// Splits `s` into pieces of at most `max` bytes (max >= 4). With utf8 set, a cut never falls
// inside a multi-byte character.
std::vector<std::string_view> split_chunks(std::string_view s, std::size_t max, bool utf8);

// Holds back a character cut at the end of one read until the next read completes it.
class Utf8Carry {
 public:
  // Returns the bytes ready to send: the held-back bytes, then `data`, minus a new incomplete tail.
  std::string push(std::string_view data);
  // Returns whatever is held back (at end of stream).
  std::string flush();

 private:
  std::string carry_;
};

}  // namespace mocksvc::agent
