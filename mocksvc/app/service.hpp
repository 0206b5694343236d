// The whole fake service as one embeddable object: I/O threads, the listener, the backend,
// the API, the broker and the virtual instances, wired together. Tests start it in-process on
// 127.0.0.1:0 and read back its endpoint and CA bundle; mocksvc's main() starts it from flags.
#pragma once

#include <boost/system/result.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mocksvc/app/config.hpp"
#include "mocksvc/backend/backend.hpp"
#include "mocksvc/broker/broker.hpp"

namespace mocksvc::fault {
class Injector;
struct Scenario;
}  // namespace mocksvc::fault

namespace mocksvc::app {

class FaultControl;

// How to reach a running service.
struct ServiceInfo {
  std::string endpoint;      // http://127.0.0.1:<port>
  std::string endpoint_tls;  // https://127.0.0.1:<port> (empty without TLS); same port
  unsigned short port = 0;
  std::string ca_bundle;     // PEM to trust for endpoint_tls (empty without TLS)
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
  std::vector<std::string> instance_ids;
  std::string state_dir;
  std::string builtin_http;  // "127.0.0.1:<port>" of the built-in web target (empty: none)
  std::string builtin_echo;  // "127.0.0.1:<port>" of the built-in TCP echo target

  // One JSON line: what mocksvc prints when it is ready.
  std::string ready_json() const;
};

class Service {
 public:
  explicit Service(ServiceConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Creates the state directory and certificates, binds, starts the threads. The error is one
  // line fit for a startup message.
  boost::system::result<ServiceInfo, std::string> start();
  // Ends live sessions, closes connections, joins the threads. Idempotent.
  void stop();

  const ServiceInfo& info() const;
  const ServiceConfig& config() const;
  backend::Backend& backend();
  broker::Broker& broker();

  // Fault scenarios (scenarios/README.md): activate one (replacing any), load one from a file,
  // or clear it. Live sessions switch pipelines between messages. Before start() the scenario
  // waits and is activated by start().
  void set_scenario(fault::Scenario scenario);
  boost::system::result<void, std::string> load_scenario(const std::filesystem::path& file);
  void clear_scenario();
  // Valid after start(): counters, rule switches, timeline events.
  fault::Injector& faults();
  // Valid after start(): hooks for real agents' control channels.
  FaultControl& fault_control();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mocksvc::app
