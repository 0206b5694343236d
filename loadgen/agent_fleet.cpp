#include "loadgen/agent_fleet.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "agentsim/simulator.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace ssmh::loadgen {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

asio::awaitable<void> echo_connection(tcp::socket socket) {
  char buf[16 * 1024];
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    co_await asio::async_write(socket, asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

asio::awaitable<void> accept_echo(tcp::acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    s.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(s.get_executor(), echo_connection(std::move(s)), asio::detached);
  }
}

}  // namespace

bool agents_available() { return true; }

struct AgentFleet::Impl {
  std::optional<mocksvc::runtime::IoThreads> io;
  std::optional<tcp::acceptor> echo;
  std::unique_ptr<agentsim::Simulator> sim;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::vector<std::string>> ready;
  std::string failed;
  double ready_seconds = 0;
};

AgentFleet::AgentFleet() : impl_(std::make_unique<Impl>()) {}
AgentFleet::~AgentFleet() { stop(); }

boost::system::result<std::vector<std::string>, std::string> AgentFleet::start(const ServiceTarget& target,
                                                                                const Options& o,
                                                                                std::chrono::milliseconds timeout) {
  using R = boost::system::result<std::vector<std::string>, std::string>;
  auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
  Impl& d = *impl_;
  d.io.emplace(o.agent_threads);

  // The port workload's target: a TCP echo on loopback, on the agents' threads.
  d.echo.emplace(d.io->executor());
  boost::system::error_code ec;
  d.echo->open(tcp::v4(), ec);
  if (!ec) d.echo->bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0), ec);
  if (!ec) d.echo->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot start the agents' echo target: " + ec.message());
  asio::co_spawn(d.io->executor(), accept_echo(*d.echo), asio::detached);

  agentsim::SimConfig c;
  c.endpoint = target.endpoint;
  c.ca_bundle = target.ca_bundle;
  c.region = target.region;
  mocksvc::auth::Credentials creds;
  creds.access_key_id = target.access_key_id;
  creds.secret_access_key = target.secret_access_key;
  creds.session_token = target.session_token;
  c.identity.credentials = creds;
  for (std::uint64_t i = 0; i < o.agents; ++i) c.identity.instance_ids.push_back(agentsim::generated_instance_id(o.seed, i));
  c.identity.count = o.agents;
  c.port_targets[std::to_string(o.port)] = "127.0.0.1:" + std::to_string(d.echo->local_endpoint().port());
  c.seed = o.seed;
  // Association polls every 30 s from thousands of agents would be load of their own; the run
  // measures sessions.
  c.timing.associations = std::chrono::seconds(0);

  d.sim = std::make_unique<agentsim::Simulator>(d.io->executor(), std::move(c));
  agentsim::SimEvents events;
  const auto t0 = Clock::now();
  events.ready = [&d, t0](const std::vector<std::string>& ids) {
    std::lock_guard lock(d.mu);
    d.ready = ids;
    d.ready_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    d.cv.notify_all();
  };
  events.failed = [&d](const agentsim::AgentStatus& s) {
    std::lock_guard lock(d.mu);
    if (d.failed.empty()) d.failed = "agent " + std::to_string(s.index) + " gave up: " + s.last_error;
    d.cv.notify_all();
  };
  d.io->start();
  if (auto started = d.sim->start(std::move(events)); !started) return fail("agents: " + started.error());
  std::unique_lock lock(d.mu);
  if (!d.cv.wait_for(lock, timeout, [&d] { return d.ready.has_value() || !d.failed.empty(); }))
    return fail("agents: not every control channel opened within " + std::to_string(timeout.count() / 1000) + " s");
  if (!d.failed.empty()) return fail(d.failed);
  return *d.ready;
}

void AgentFleet::stop() {
  Impl& d = *impl_;
  if (d.sim) d.sim->stop();
  if (d.echo) {
    boost::system::error_code ec;
    d.echo->close(ec);
  }
  if (d.io) d.io->stop();
  d.sim.reset();
  d.echo.reset();
  d.io.reset();
}

double AgentFleet::ready_seconds() const { return impl_->ready_seconds; }
std::size_t AgentFleet::ready_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ready ? impl_->ready->size() : 0;
}

}  // namespace ssmh::loadgen
