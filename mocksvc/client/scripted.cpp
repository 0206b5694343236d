#include "mocksvc/client/scripted.hpp"

#include <utility>

namespace mocksvc::client {

ScriptedHandler::ScriptedHandler(Scheduler& scheduler) : ScriptedHandler(scheduler, Options{}) {}

ScriptedHandler::ScriptedHandler(Scheduler& scheduler, Options options)
    : scheduler_(scheduler), options_(std::move(options)), timer_(scheduler.make_timer()) {}

ScriptedHandler::~ScriptedHandler() {
  // No callbacks from a destructor: a pending expectation is simply dropped.
  done_ = nullptr;
  timer_->cancel();
}

void ScriptedHandler::start(HandlerContext& ctx) {
  ctx_ = &ctx;
  if (options_.send_size) ctx.send_size(options_.size.cols, options_.size.rows);
  if (!queued_input_.empty()) {
    std::string input = std::move(queued_input_);
    queued_input_.clear();
    ctx.send_output(input);
  }
  for (auto flag : std::exchange(queued_flags_, {})) ctx.send_flag(flag);
  if (options_.on_started) options_.on_started(*this);
}

void ScriptedHandler::send(std::string_view bytes) {
  if (stopped_) return;
  if (!ctx_) {
    queued_input_.append(bytes);
    return;
  }
  ctx_->send_output(bytes);
}

void ScriptedHandler::send_flag(wire::FlagValue flag) {
  if (stopped_) return;
  if (!ctx_) {
    queued_flags_.push_back(flag);
    return;
  }
  ctx_->send_flag(flag);
}

void ScriptedHandler::expect(std::string needle, Duration timeout,
                             std::function<void(bool)> done) {
  if (done_) complete(false);
  if (stopped_) {
    if (done) done(false);
    return;
  }
  needle_ = std::move(needle);
  done_ = std::move(done);
  scan_from_ = 0;
  timer_->start(timeout, [this] { complete(false); });
  try_match();
}

void ScriptedHandler::on_payload(wire::PayloadType type, std::string_view payload) {
  ++payloads_received_;
  bytes_received_ += payload.size();
  if (options_.on_output) options_.on_output(type, payload);
  buffer_.append(payload);
  if (done_) {
    try_match();
  } else if (buffer_.size() > options_.max_buffered) {
    buffer_.erase(0, buffer_.size() - options_.max_buffered);
  }
}

void ScriptedHandler::try_match() {
  if (!done_) return;
  const auto at = buffer_.find(needle_, scan_from_);
  if (at == std::string::npos) {
    // Resume next time where a match could still start.
    scan_from_ = buffer_.size() >= needle_.size() ? buffer_.size() - needle_.size() + 1 : 0;
    return;
  }
  buffer_.erase(0, at + needle_.size());
  complete(true);
}

void ScriptedHandler::complete(bool found) {
  timer_->cancel();
  auto done = std::move(done_);
  done_ = nullptr;
  needle_.clear();
  scan_from_ = 0;
  if (done) done(found);
}

void ScriptedHandler::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (done_) complete(false);
}

}  // namespace mocksvc::client
