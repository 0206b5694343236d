#include "mocksvc/app/faults.hpp"

#include <mutex>

#include "mocksvc/base/log.hpp"

namespace mocksvc::app {

void FaultControl::set_real_agent_hooks(RealAgentHooks hooks) {
  std::lock_guard lock(mu_);
  hooks_ = std::move(hooks);
}

bool FaultControl::disconnect_agent(const std::string& instance_id) {
  std::function<bool(const std::string&)> drop;
  {
    std::lock_guard lock(mu_);
    drop = hooks_.drop_control_channel;
  }
  auto info = backend_.find_instance(instance_id);
  if (!info) return false;
  if (info->spec.kind == backend::InstanceKind::agent && drop) drop(instance_id);
  return backend_.set_ping_status(instance_id, backend::PingStatus::connection_lost).has_value();
}

bool FaultControl::reconnect_agent(const std::string& instance_id) {
  return backend_.set_ping_status(instance_id, backend::PingStatus::online).has_value();
}

bool FaultControl::set_instance_online(const std::string& instance_id, bool online) {
  return backend_
      .set_ping_status(instance_id, online ? backend::PingStatus::online : backend::PingStatus::connection_lost)
      .has_value();
}

std::vector<std::string> FaultControl::instance_ids() {
  std::vector<std::string> ids;
  for (const auto& i : backend_.list_instances()) ids.push_back(i.spec.instance_id);
  return ids;
}

std::vector<std::string> FaultControl::active_sessions(const std::string& target) const {
  std::vector<std::string> ids;
  for (const auto& s : backend_.list_sessions())
    if (backend::is_active(s.status) && (target.empty() || s.target == target)) ids.push_back(s.session_id);
  return ids;
}

std::size_t FaultControl::drop_clients(const std::string& target) {
  std::size_t n = 0;
  for (const auto& id : active_sessions(target)) n += broker_.drop_client(id) ? 1 : 0;
  return n;
}

std::size_t FaultControl::terminate_sessions(const std::string& target) {
  std::size_t n = 0;
  for (const auto& id : active_sessions(target))
    n += backend_.request_termination(id, "terminated by the fault scenario").has_value() ? 1 : 0;
  return n;
}

api::ApiVerdict ApiFaultsAdapter::before_operation(const api::ApiCallFacts& call) {
  fault::ApiCall c{call.operation, call.access_key_id, call.target, call.session_id, fault::Clock::now()};
  fault::ApiOutcome o = injector_.before_api_call(c);
  api::ApiVerdict v;
  v.error = std::move(o.error);
  v.delay = o.delay;
  return v;
}

}  // namespace mocksvc::app
