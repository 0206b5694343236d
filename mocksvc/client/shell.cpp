#include "mocksvc/client/shell.hpp"

#include <utility>

namespace mocksvc::client {

// ---- ShellHandler -------------------------------------------------------------------------

ShellHandler::ShellHandler(Options options) : options_(std::move(options)) {}
ShellHandler::~ShellHandler() { stop(); }

void ShellHandler::start(HandlerContext& ctx) {
  ctx_ = &ctx;
  resize_timer_ = ctx.scheduler().make_timer();
  check_size();  // the first Size goes out before anything else the shell sends (§6.1 step 5)
  if (options_.input && !stopped_) options_.input->start(*this);
}

void ShellHandler::check_size() {
  if (stopped_) return;
  std::optional<TerminalSize> now;
  if (options_.terminal_size) now = options_.terminal_size();
  const TerminalSize size = now.value_or(kDefaultTerminalSize);
  if (!sent_size_ || *sent_size_ != size) {
    sent_size_ = size;
    ctx_->send_size(size.cols, size.rows);
  }
  resize_timer_->start(options_.resize_poll, [this] { check_size(); });
}

void ShellHandler::on_payload(wire::PayloadType, std::string_view payload) {
  // Output, StdErr, ExitCode and anything else: raw to stdout (§9, §10.1).
  if (options_.write) options_.write(payload);
}

bool ShellHandler::on_control_signal(ControlSignal signal) {
  if (!ctx_ || stopped_) return false;
  const char byte = static_cast<char>(control_signal_byte(signal));
  ctx_->send_output(std::string_view(&byte, 1));
  return true;
}

void ShellHandler::on_input(std::string_view bytes) {
  if (ctx_ && !stopped_) ctx_->send_output(bytes);
}

void ShellHandler::on_input_eof() {
  if (ctx_ && !stopped_ && !options_.keep_session_after_eof) ctx_->finish(0);
}

void ShellHandler::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (resize_timer_) resize_timer_->cancel();
  if (options_.input) options_.input->stop();
}

// ---- StdioPortHandler ---------------------------------------------------------------------

StdioPortHandler::StdioPortHandler(StreamHandlerOptions options) : options_(std::move(options)) {}
StdioPortHandler::~StdioPortHandler() { stop(); }

void StdioPortHandler::start(HandlerContext& ctx) {
  ctx_ = &ctx;
  if (options_.input && !stopped_) options_.input->start(*this);
}

void StdioPortHandler::on_payload(wire::PayloadType, std::string_view payload) {
  if (options_.write) options_.write(payload);
}

bool StdioPortHandler::on_control_signal(ControlSignal) {
  if (!ctx_ || stopped_) return false;
  ctx_->print("Terminate signal received, exiting.\n");
  ctx_->send_flag(wire::FlagValue::terminate_session);
  ctx_->finish(0);
  return true;
}

void StdioPortHandler::on_input(std::string_view bytes) {
  if (ctx_ && !stopped_) ctx_->send_output(bytes);
}

void StdioPortHandler::on_input_eof() {
  if (ctx_ && !stopped_ && !options_.keep_session_after_eof) ctx_->finish(0);
}

void StdioPortHandler::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (options_.input) options_.input->stop();
}

}  // namespace mocksvc::client
