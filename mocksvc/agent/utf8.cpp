#include "mocksvc/agent/utf8.hpp"

#include <algorithm>

namespace mocksvc::agent {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // a stray continuation or invalid byte stands alone
}

}  // namespace

std::size_t utf8_complete_prefix(std::string_view s) {
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if (is_continuation(c)) continue;
    const std::size_t need = sequence_length(c);
    return need > back ? n - back : n;
  }
  return n;
}

std::vector<std::string_view> split_chunks(std::string_view s, std::size_t max, bool utf8) {
  std::vector<std::string_view> out;
  max = std::max<std::size_t>(max, 4);
  while (!s.empty()) {
    std::size_t n = std::min(s.size(), max);
    if (utf8 && n < s.size()) {
      std::size_t cut = utf8_complete_prefix(s.substr(0, n));
      // A cut character sits at most 3 bytes back; if the prefix holds nothing whole, cut anyway.
      if (cut > 0) n = cut;
    }
    out.push_back(s.substr(0, n));
    s.remove_prefix(n);
  }
  return out;
}

std::string Utf8Carry::push(std::string_view data) {
  carry_.append(data);
  const std::size_t keep = utf8_complete_prefix(carry_);
  std::string ready = carry_.substr(0, keep);
  carry_.erase(0, keep);
  return ready;
}

std::string Utf8Carry::flush() {
  std::string rest;
  rest.swap(carry_);
  return rest;
}

}  // namespace mocksvc::agent
