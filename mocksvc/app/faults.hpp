// The fault injector's wiring into the service: FaultControl carries out scenario actions on
// agents, instances and sessions (virtual instances through the backend's ping status, real
// agents through hooks their control-channel registry provides), and ApiFaultsAdapter lets the
// SSM API consult the injector before each operation.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "mocksvc/api/api_faults.hpp"
#include "mocksvc/backend/backend.hpp"
#include "mocksvc/broker/broker.hpp"
#include "mocksvc/fault/fault.hpp"
#include "mocksvc/fault/injector.hpp"

namespace mocksvc::app {

// Called on the injector's strand; the backend and broker it uses are thread-safe.
class FaultControl final : public fault::ServiceControl {
 public:
  // What real agents need beyond the backend: closing an instance's control-channel WebSocket.
  // Empty hooks: real agents are treated like virtual instances (ping status only).
  struct RealAgentHooks {
    std::function<bool(const std::string& instance_id)> drop_control_channel;
  };

  FaultControl(backend::Backend& backend, broker::Broker& broker) : backend_(backend), broker_(broker) {}
  void set_real_agent_hooks(RealAgentHooks hooks);

  bool disconnect_agent(const std::string& instance_id) override;
  bool reconnect_agent(const std::string& instance_id) override;
  bool set_instance_online(const std::string& instance_id, bool online) override;
  std::vector<std::string> instance_ids() override;
  std::size_t drop_clients(const std::string& target) override;
  std::size_t terminate_sessions(const std::string& target) override;

 private:
  std::vector<std::string> active_sessions(const std::string& target) const;

  backend::Backend& backend_;
  broker::Broker& broker_;
  std::mutex mu_;
  RealAgentHooks hooks_;
};

class ApiFaultsAdapter final : public api::ApiFaults {
 public:
  explicit ApiFaultsAdapter(fault::Injector& injector) : injector_(injector) {}
  api::ApiVerdict before_operation(const api::ApiCallFacts& call) override;

 private:
  fault::Injector& injector_;
};

}  // namespace mocksvc::app
