// A scripted HTTP + WebSocket endpoint on 127.0.0.1:0 for the plugin library's unit tests: it
// answers requests from a queue of responses (200 `{}` when empty), records every request and
// upgrade, and keeps the WebSocket connections it accepted so a test can read what the client
// sent and talk back. Handlers run on the server's threads; everything here is locked.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mocksvc/api/http.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/server.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace ssmh::plugin::testing {

class FakeEndpoint {
 public:
  struct Connection {
    std::shared_ptr<mocksvc::broker::Peer> peer;
    std::vector<std::string> texts;
    std::vector<mocksvc::wire::Bytes> binaries;
    bool closed = false;
  };

  FakeEndpoint();
  ~FakeEndpoint();

  std::string url() const { return url_; }      // http://127.0.0.1:<port>
  std::string ws_url() const { return ws_url_; }  // ws://127.0.0.1:<port>/v1/data-channel/s-1?role=...
  void push_response(mocksvc::api::HttpResponse r);
  std::vector<mocksvc::auth::HttpRequest> requests();
  std::vector<mocksvc::auth::HttpRequest> upgrades();
  // Waits until pred() holds or the timeout passes; returns pred's last value. pred may call
  // the accessors below (it runs without the lock held).
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
  std::size_t request_count();
  std::vector<std::shared_ptr<Connection>> connections();
  // The connection's recorded state, copied under the lock.
  Connection snapshot(const std::shared_ptr<Connection>& c);

 private:
  class Recorder;
  mocksvc::runtime::IoThreads io_{2};
  std::unique_ptr<mocksvc::net::Server> server_;
  std::string url_;
  std::string ws_url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<mocksvc::api::HttpResponse> script_;
  std::vector<mocksvc::auth::HttpRequest> requests_;
  std::vector<mocksvc::auth::HttpRequest> upgrades_;
  std::vector<std::shared_ptr<Connection>> connections_;
};

mocksvc::api::HttpResponse json_response(int status, std::string body);

}  // namespace ssmh::plugin::testing
