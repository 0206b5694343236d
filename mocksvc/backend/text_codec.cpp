#include "mocksvc/backend/text_codec.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace mocksvc::backend {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m;
  unsigned d;
};
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at text[pos].
std::optional<unsigned> digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

std::optional<TimePoint> parse_epoch(std::string_view text) {
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole.size() > 12) return std::nullopt;
  std::int64_t secs = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
  if (ec != std::errc{} || p != whole.data() + whole.size() || secs < 0) return std::nullopt;
  std::int64_t ms = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = text.substr(dot + 1);
    if (frac.empty()) return std::nullopt;
    int scale = 100;
    for (char c : frac) {
      if (!is_digit(c)) return std::nullopt;
      ms += (c - '0') * scale;
      scale /= 10;
    }
  }
  return from_epoch_millis(secs * 1000 + ms);
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

double epoch_seconds(TimePoint t) { return static_cast<double>(epoch_millis(t)) / 1000.0; }

std::int64_t epoch_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_epoch_millis(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

std::string format_iso8601(TimePoint t) {
  std::int64_t secs = epoch_millis(t) / 1000;
  if (epoch_millis(t) < 0 && epoch_millis(t) % 1000 != 0) --secs;
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  Civil c = civil_from_days(days);
  std::array<char, 32> buf{};
  auto two = [](char* out, unsigned v) {
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
  };
  std::string year = std::to_string(c.y);
  while (year.size() < 4) year.insert(year.begin(), '0');
  std::string out = year;
  out += '-';
  two(buf.data(), c.m);
  out.append(buf.data(), 2);
  out += '-';
  two(buf.data(), c.d);
  out.append(buf.data(), 2);
  out += 'T';
  two(buf.data(), static_cast<unsigned>(rem / 3600));
  out.append(buf.data(), 2);
  out += ':';
  two(buf.data(), static_cast<unsigned>(rem / 60 % 60));
  out.append(buf.data(), 2);
  out += ':';
  two(buf.data(), static_cast<unsigned>(rem % 60));
  out.append(buf.data(), 2);
  out += 'Z';
  return out;
}

std::optional<TimePoint> parse_timestamp(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  if (text.find('-') == std::string_view::npos || text.find('-') > 4 || text.size() < 10) {
    return parse_epoch(text);
  }
  auto y = digits(text, 0, 4);
  auto mo = digits(text, 5, 2);
  auto d = digits(text, 8, 2);
  if (!y || !mo || !d || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  std::int64_t day_count = days_from_civil(*y, *mo, *d);
  // Reject 2026-02-31 and the like: the date must survive a round trip.
  Civil back = civil_from_days(day_count);
  if (back.m != *mo || back.d != *d) return std::nullopt;
  std::int64_t ms = day_count * 86400 * 1000;
  std::size_t pos = 10;
  if (pos == text.size()) return from_epoch_millis(ms);
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
  ++pos;
  auto h = digits(text, pos, 2);
  auto mi = digits(text, pos + 3, 2);
  if (!h || !mi || pos + 2 >= text.size() || text[pos + 2] != ':' || *h > 23 || *mi > 59) {
    return std::nullopt;
  }
  ms += (static_cast<std::int64_t>(*h) * 3600 + *mi * 60) * 1000;
  pos += 5;
  if (pos < text.size() && text[pos] == ':') {
    auto s = digits(text, pos + 1, 2);
    if (!s || *s > 60) return std::nullopt;
    ms += static_cast<std::int64_t>(*s) * 1000;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int scale = 100;
      std::size_t start = pos;
      while (pos < text.size() && is_digit(text[pos])) {
        ms += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
  }
  if (pos == text.size()) return from_epoch_millis(ms);
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) {
    return from_epoch_millis(ms);
  }
  if (text[pos] == '+' || text[pos] == '-') {
    int sign = text[pos] == '+' ? 1 : -1;
    auto oh = digits(text, pos + 1, 2);
    std::size_t mpos = pos + 3;
    if (mpos < text.size() && text[mpos] == ':') ++mpos;
    auto om = digits(text, mpos, 2);
    if (!oh || !om || mpos + 2 != text.size() || *oh > 23 || *om > 59) return std::nullopt;
    ms -= sign * (static_cast<std::int64_t>(*oh) * 3600 + *om * 60) * 1000;
    return from_epoch_millis(ms);
  }
  return std::nullopt;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    std::uint32_t v = at(i) << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
  } else if (bytes.size() - i == 2) {
    std::uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = decode_char(c);
    if (v < 0) return std::nullopt;
    acc = acc << 6 | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xff);
    }
  }
  // Leftover bits must be zero, or the text is not a canonical encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out = base64url_encode(bytes);
  for (char& c : out) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string body(text.substr(0, text.size() - pad));
  for (char& c : body) {
    if (c == '-' || c == '_' || c == '=') return std::nullopt;
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return base64url_decode(body);
}

std::size_t count_code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace mocksvc::backend
