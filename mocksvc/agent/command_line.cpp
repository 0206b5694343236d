#include "mocksvc/agent/command_line.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <system_error>

namespace mocksvc::agent {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), 0 if the bytes there are not one. Its code point goes to *cp.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t v = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, v = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, v = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, v = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool is_unicode_space(std::uint32_t cp) {
  switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// The lexer's states, named as shlex names them.
enum class State { start, in_word, escaping, escaping_quoted, quoting_escaping, quoting, comment };

}  // namespace

Result<std::vector<std::string>> shlex_split(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  State state = State::start;
  bool is_word = false;  // the token being read is a word (not a comment)
  auto end_token = [&] {
    if (is_word) words.push_back(std::move(word));
    word.clear();
    is_word = false;
    state = State::start;
  };
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    std::size_t len = utf8_sequence(s, i, &cp);
    std::string_view rune = len ? s.substr(i, len) : kReplacementChar;
    i += len ? len : 1;
    const char c = len == 1 ? static_cast<char>(cp) : '\0';
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    switch (state) {
      case State::start:
        if (space) break;
        if (c == '#') {
          state = State::comment;
          break;
        }
        is_word = true;
        if (c == '"') state = State::quoting_escaping;
        else if (c == '\'') state = State::quoting;
        else if (c == '\\') state = State::escaping;
        else {
          word.append(rune);
          state = State::in_word;
        }
        break;
      case State::in_word:
        if (space) end_token();
        else if (c == '"') state = State::quoting_escaping;
        else if (c == '\'') state = State::quoting;
        else if (c == '\\') state = State::escaping;
        else word.append(rune);
        break;
      case State::escaping:
        word.append(rune);
        state = State::in_word;
        break;
      case State::escaping_quoted:
        word.append(rune);
        state = State::quoting_escaping;
        break;
      case State::quoting_escaping:
        if (c == '"') state = State::in_word;
        else if (c == '\\') state = State::escaping_quoted;
        else word.append(rune);
        break;
      case State::quoting:
        if (c == '\'') state = State::in_word;
        else word.append(rune);
        break;
      case State::comment:
        if (c == '\n') end_token();
        break;
    }
  }
  switch (state) {
    case State::escaping:
    case State::escaping_quoted:
      return make_error_code(Error::trailing_escape);
    case State::quoting_escaping:
    case State::quoting:
      return make_error_code(Error::unterminated_quote);
    default:
      end_token();
      return words;
  }
}

bool is_blank_command(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, &cp);
    if (len == 0 || !is_unicode_space(cp)) return false;
    i += len;
  }
  return true;
}

Result<std::vector<std::string>> command_argv(std::string_view commands) {
  if (is_blank_command(commands)) return std::vector<std::string>{"sh"};
  return shlex_split(commands);
}

std::string parse_failure_text(const boost::system::error_code& ec) {
  return "Unable to start command: Failed to parse commands input: " + ec.message() + "\n\n";
}

std::string StartFailure::text() const {
  switch (kind) {
    case Kind::no_command:
      return "exec: no command";
    case Kind::not_found:
      return "exec: " + go_quote(name) + ": executable file not found in $PATH";
    case Kind::relative_path:
      return "exec: " + go_quote(name) + ": cannot run executable found relative to current directory";
    case Kind::exec_failed:
      return "fork/exec " + name + ": " + go_errno_text(error);
  }
  return "exec: " + go_quote(name) + ": unknown error";
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, &cp);
    const auto b = static_cast<unsigned char>(s[i]);
    if (len > 1) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    ++i;
    switch (b) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (len == 1 && b >= 0x20 && b < 0x7F) {
          out += static_cast<char>(b);
        } else {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", b);
          out += buf;
        }
    }
  }
  out += '"';
  return out;
}

std::string go_errno_text(int error) {
  std::string text = std::error_code(error, std::generic_category()).message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace mocksvc::agent
