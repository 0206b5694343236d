// The mocksvc a run drives: one started in this process (app::Service on 127.0.0.1:0 with the
// embedded default), one started as a separate process (the mocksvc program, whose ready line
// says where it listens), or one already running at a URL. Whichever it is, the run gets an
// endpoint, the trust for TLS, credentials, and a pid to read memory figures from.
//
// Not thread-safe: one owner starts and stops it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "loadgen/child.hpp"
#include "loadgen/options.hpp"
#include "loadgen/system.hpp"

namespace mocksvc::app {
class Service;
}

namespace ssmh::loadgen {

struct ServiceTarget {
  Placement placement = Placement::in_process;
  std::string endpoint;  // http(s)://host:port, the one sessions use
  std::string ca_bundle;
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::int64_t pid = 0;  // 0: memory figures unavailable
  unsigned threads = 0;  // the service's I/O threads, when this run started it
};

class ServiceHandle {
 public:
  ServiceHandle();
  ~ServiceHandle();  // stop()
  ServiceHandle(const ServiceHandle&) = delete;
  ServiceHandle& operator=(const ServiceHandle&) = delete;

  // The error is one line fit for a startup message.
  boost::system::result<ServiceTarget, std::string> start(const Options& o);
  void stop();

 private:
  std::unique_ptr<mocksvc::app::Service> service_;
  ChildProcess child_;
  std::string state_dir_;
};

}  // namespace ssmh::loadgen
