#include "loadgen/api_pool.hpp"

#include <boost/asio/post.hpp>

namespace ssmh::loadgen {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct ApiPool::Lane {
  asio::strand<asio::any_io_executor> strand;
  std::shared_ptr<plugin::SsmApi> api;
  struct Pending {
    std::string operation;
    std::string body;
    asio::any_io_executor done_executor;
    Done done;
    Clock::time_point queued_at;
  };
  std::deque<Pending> queue;  // strand only
  bool busy = false;          // strand only
};

ApiPool::ApiPool(asio::any_io_executor executor, plugin::SsmEndpoint endpoint, unsigned lanes) {
  lanes_.reserve(std::max(1u, lanes));
  for (unsigned i = 0; i < std::max(1u, lanes); ++i) {
    auto lane = std::make_shared<Lane>(Lane{asio::make_strand(executor), nullptr, {}, false});
    plugin::SsmEndpoint e = endpoint;
    if (e.seed) e.seed = *e.seed + i;
    lane->api = plugin::SsmApi::create(executor, std::move(e));
    lanes_.push_back(std::move(lane));
  }
}

ApiPool::~ApiPool() = default;

std::shared_ptr<plugin::SsmApi> ApiPool::api_for(std::uint64_t index) const {
  return lanes_[index % lanes_.size()]->api;
}

void ApiPool::call(std::string operation, std::string json_body, asio::any_io_executor done_executor, Done done) {
  auto lane = lanes_[next_.fetch_add(1, std::memory_order_relaxed) % lanes_.size()];
  asio::post(lane->strand, [this, lane, p = Lane::Pending{std::move(operation), std::move(json_body),
                                                          std::move(done_executor), std::move(done), Clock::now()}]() mutable {
    lane->queue.push_back(std::move(p));
    if (!lane->busy) run_next(lane);
  });
}

// On the lane's strand.
void ApiPool::run_next(const std::shared_ptr<Lane>& lane) {
  if (lane->queue.empty()) {
    lane->busy = false;
    return;
  }
  lane->busy = true;
  auto p = std::make_shared<Lane::Pending>(std::move(lane->queue.front()));
  lane->queue.pop_front();
  const auto sent_at = Clock::now();
  lane->api->call(p->operation, p->body, lane->strand, [this, lane, p, sent_at](plugin::SsmResult r) {
    const ApiTiming timing{sent_at - p->queued_at, Clock::now() - sent_at};
    if (r.attempts > 1) retries_.fetch_add(static_cast<std::uint64_t>(r.attempts - 1), std::memory_order_relaxed);
    asio::post(p->done_executor, [p, r = std::move(r), timing]() mutable { p->done(std::move(r), timing); });
    run_next(lane);
  });
}

}  // namespace ssmh::loadgen
