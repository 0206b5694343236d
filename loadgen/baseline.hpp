// The same-run baseline: a plain WebSocket echo over loopback with the load run's message size,
// concurrency and pacing, and no session protocol (no StartSession, no frames, acks, relay or
// agent). Its server is mocksvc's own listener (net::Server, one binary frame echoed per binary
// frame), placed like mocksvc: in this process when mocksvc is, otherwise in a child process
// (`loadgen echo-server`). What mocksvc costs is then its figures over these.
//
// run_baseline() blocks the calling thread (not an I/O thread) until every connection finished
// or the time bound passed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>

#include "loadgen/summary.hpp"

namespace mocksvc::net {
class Server;
}

namespace ssmh::loadgen {

// The echo server. Runs on the executor given; start()/stop() from any thread.
class EchoServer {
 public:
  explicit EchoServer(boost::asio::any_io_executor executor);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  boost::system::result<unsigned short, std::string> start();
  void stop();

 private:
  std::unique_ptr<mocksvc::net::Server> server_;
};

// `loadgen echo-server`: the server on 127.0.0.1:0 with `threads` I/O threads; prints
// {"event":"ready","port":P} and runs until SIGTERM/SIGINT or its stdin closes.
int run_echo_server_program(unsigned threads);

struct BaselineSpec {
  std::string url;  // ws://127.0.0.1:<port>/echo
  std::uint64_t connections = 1;
  std::uint64_t messages = 10;
  std::uint64_t size = 64;
  std::uint64_t pipeline = 1;
  double message_rate = 0;  // per connection; 0 = back to back
  double ramp_up_s = 0;     // connection i starts at i/N of it
  std::chrono::milliseconds step_timeout{30000};
  std::chrono::milliseconds max_time{600000};
  std::uint64_t seed = 1;
};

BaselineFigures run_baseline(boost::asio::any_io_executor executor, const BaselineSpec& spec);

}  // namespace ssmh::loadgen
