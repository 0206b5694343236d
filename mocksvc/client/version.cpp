#include "mocksvc/client/version.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

namespace mocksvc::client {
namespace {

std::optional<std::vector<std::uint64_t>> parse(std::string_view v) {
  if (v.empty()) return std::nullopt;
  std::vector<std::uint64_t> parts;
  for (;;) {
    const auto dot = v.find('.');
    const std::string_view part = v.substr(0, dot);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) return std::nullopt;
    parts.push_back(n);
    if (dot == std::string_view::npos) return parts;
    v.remove_prefix(dot + 1);
  }
}

bool newer_than(std::string_view agent_version, std::string_view threshold) {
  auto c = compare_versions(agent_version, threshold);
  return c && *c > 0;
}

}  // namespace

std::optional<int> compare_versions(std::string_view a, std::string_view b) {
  auto pa = parse(a);
  auto pb = parse(b);
  if (!pa || !pb) return std::nullopt;
  const std::size_t n = std::max(pa->size(), pb->size());
  pa->resize(n, 0);
  pb->resize(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if ((*pa)[i] != (*pb)[i]) return (*pa)[i] < (*pb)[i] ? -1 : 1;
  }
  return 0;
}

bool agent_supports_multiplexing(std::string_view v) { return newer_than(v, "3.0.196.0"); }
bool agent_supports_disabling_keepalive(std::string_view v) { return newer_than(v, "3.1.1511.0"); }
bool agent_supports_terminate_flag(std::string_view v) { return newer_than(v, "2.3.722.0"); }

}  // namespace mocksvc::client
