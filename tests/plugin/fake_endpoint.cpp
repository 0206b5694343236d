#include "tests/plugin/fake_endpoint.hpp"

#include <algorithm>
#include <stdexcept>

namespace ssmh::plugin::testing {

namespace api = mocksvc::api;
namespace auth = mocksvc::auth;
namespace broker = mocksvc::broker;
namespace net = mocksvc::net;

class FakeEndpoint::Recorder final : public broker::Inbound {
 public:
  Recorder(FakeEndpoint& owner, std::shared_ptr<Connection> conn) : owner_(owner), conn_(std::move(conn)) {}
  void on_text(std::string_view t) override {
    std::lock_guard l(owner_.mu_);
    conn_->texts.emplace_back(t);
    owner_.cv_.notify_all();
  }
  void on_binary(mocksvc::wire::ByteView b) override {
    std::lock_guard l(owner_.mu_);
    conn_->binaries.emplace_back(b.begin(), b.end());
    owner_.cv_.notify_all();
  }
  void on_closed(bool, std::string_view) override {
    std::lock_guard l(owner_.mu_);
    conn_->closed = true;
    owner_.cv_.notify_all();
  }

 private:
  FakeEndpoint& owner_;
  std::shared_ptr<Connection> conn_;
};

api::HttpResponse json_response(int status, std::string body) {
  api::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  r.headers.emplace_back("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000");
  r.body = std::move(body);
  return r;
}

FakeEndpoint::FakeEndpoint() {
  io_.start();
  net::ServerHandlers h;
  h.handle = [this](const auth::HttpRequest& req, const api::RequestContext&) {
    std::lock_guard l(mu_);
    requests_.push_back(req);
    cv_.notify_all();
    if (script_.empty()) return json_response(200, "{}");
    auto r = std::move(script_.front());
    script_.pop_front();
    return r;
  };
  h.transport_error = [](int status, std::string_view why) { return json_response(status, std::string(why)); };
  h.upgrade = [this](const auth::HttpRequest& req, const api::RequestContext&) {
    net::UpgradeDecision d;
    std::lock_guard l(mu_);
    upgrades_.push_back(req);
    auto conn = std::make_shared<Connection>();
    connections_.push_back(conn);
    cv_.notify_all();
    d.bind = [this, conn](std::shared_ptr<broker::Peer> peer) -> std::shared_ptr<broker::Inbound> {
      {
        std::lock_guard l2(mu_);
        conn->peer = peer;
      }
      return std::make_shared<Recorder>(*this, conn);
    };
    return d;
  };
  server_ = std::make_unique<net::Server>(io_.executor(), net::ServerOptions{}, h);
  auto started = server_->start();
  if (!started) throw std::runtime_error(started.error());
  const auto port = std::to_string(server_->local_endpoint().port());
  url_ = "http://127.0.0.1:" + port;
  ws_url_ = "ws://127.0.0.1:" + port + "/v1/data-channel/s-1?role=publish_subscribe&cell-number=AAEA";
}

FakeEndpoint::~FakeEndpoint() {
  server_->stop();
  {
    std::lock_guard l(mu_);
    for (auto& c : connections_)
      if (c->peer) c->peer->close(broker::CloseSpec{broker::CloseSpec::Kind::abrupt, 1000, ""});
  }
  // Connections whose client side stopped first wait in their close handshake: don't.
  io_.stop(std::chrono::milliseconds(200));
}

void FakeEndpoint::push_response(api::HttpResponse r) {
  std::lock_guard l(mu_);
  script_.push_back(std::move(r));
}

std::vector<auth::HttpRequest> FakeEndpoint::requests() {
  std::lock_guard l(mu_);
  return requests_;
}

std::vector<auth::HttpRequest> FakeEndpoint::upgrades() {
  std::lock_guard l(mu_);
  return upgrades_;
}

std::size_t FakeEndpoint::request_count() {
  std::lock_guard l(mu_);
  return requests_.size();
}

std::vector<std::shared_ptr<FakeEndpoint::Connection>> FakeEndpoint::connections() {
  std::lock_guard l(mu_);
  return connections_;
}

FakeEndpoint::Connection FakeEndpoint::snapshot(const std::shared_ptr<Connection>& c) {
  std::lock_guard l(mu_);
  return *c;
}

bool FakeEndpoint::wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  // pred takes the lock itself (through the accessors), so it runs unlocked; the wake-ups only
  // shorten the wait between two looks.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    std::unique_lock l(mu_);
    if (cv_.wait_until(l, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50))) ==
            std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      l.unlock();
      return pred();
    }
  }
}

}  // namespace ssmh::plugin::testing
