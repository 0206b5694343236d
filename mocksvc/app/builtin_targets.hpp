// Port-forwarding targets the service runs itself on loopback, so virtual instances have
// something to forward to out of the box: a small web page (HTTP) and a TCP echo.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>
#include <memory>
#include <string>

namespace mocksvc::app {

class BuiltinTargets {
 public:
  explicit BuiltinTargets(boost::asio::any_io_executor executor);
  ~BuiltinTargets();
  boost::system::result<void, std::string> start();
  void stop();
  // "127.0.0.1:<port>" of each target.
  std::string http_address() const;
  std::string echo_address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mocksvc::app
