// A small leveled logger writing one line per event to stderr: time, level, component, text.
// Thread-safe; the level is process-wide. Tests and embedders can silence it or capture it.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace mocksvc::base {

enum class LogLevel { trace, debug, info, warn, error, off };

void set_log_level(LogLevel level);
LogLevel log_level();
// Parses "trace".."off"; returns false and leaves the level alone on anything else.
bool set_log_level(std::string_view name);
// Replaces the stderr sink (nullptr restores it). Used by tests that assert on log lines.
void set_log_sink(std::function<void(LogLevel, std::string_view line)> sink);

void log_line(LogLevel level, std::string_view component, std::string_view text);

namespace detail {
template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

// log(LogLevel::info, "net", "listening on ", endpoint): formats only when enabled.
template <typename... Args>
void log(LogLevel level, std::string_view component, Args&&... args) {
  if (level < log_level()) return;
  log_line(level, component, detail::concat(std::forward<Args>(args)...));
}

}  // namespace mocksvc::base
