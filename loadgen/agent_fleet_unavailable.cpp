#include <boost/system/result.hpp>

#include "loadgen/agent_fleet.hpp"

namespace ssmh::loadgen {

struct AgentFleet::Impl {};

bool agents_available() { return false; }

AgentFleet::AgentFleet() = default;
AgentFleet::~AgentFleet() = default;

boost::system::result<std::vector<std::string>, std::string> AgentFleet::start(const ServiceTarget&, const Options&,
                                                                                std::chrono::milliseconds) {
  return {boost::system::in_place_error, "this loadgen was built without agentsim/, so --agents is not available"};
}
void AgentFleet::stop() {}
double AgentFleet::ready_seconds() const { return 0; }
std::size_t AgentFleet::ready_count() const { return 0; }

}  // namespace ssmh::loadgen
