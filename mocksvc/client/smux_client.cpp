#include "mocksvc/client/smux_client.hpp"

#include <string>

namespace mocksvc::client {

std::uint32_t SmuxClient::open_stream() {
  if (dead_) return 0;
  next_id_ += 2;
  streams_.insert(next_id_);
  if (cb_.send) cb_.send(wire::smux_encode({wire::SmuxCommand::syn, next_id_, {}}));
  return next_id_;
}

void SmuxClient::write(std::uint32_t stream, std::string_view data) {
  if (dead_ || !streams_.contains(stream) || data.empty()) return;
  std::string out;
  wire::smux_encode_data(stream, data, out);
  if (cb_.send) cb_.send(out);
}

void SmuxClient::close_stream(std::uint32_t stream) {
  if (streams_.erase(stream) == 0 || dead_) return;
  if (cb_.send) cb_.send(wire::smux_encode({wire::SmuxCommand::fin, stream, {}}));
}

void SmuxClient::send_nop() {
  if (!dead_ && cb_.send) cb_.send(wire::smux_encode({wire::SmuxCommand::nop, 0, {}}));
}

void SmuxClient::on_bytes(std::string_view bytes) {
  if (dead_) return;
  reader_.feed(bytes);
  for (;;) {
    auto frame = reader_.next();
    if (!frame) {
      if (frame.error() != make_error_code(wire::Error::smux_incomplete)) kill();
      return;
    }
    data_ready_ = true;
    switch (frame->command) {
      case wire::SmuxCommand::psh:
        if (streams_.contains(frame->stream_id) && cb_.on_data) {
          cb_.on_data(frame->stream_id, frame->data);
        }
        break;
      case wire::SmuxCommand::fin:
        if (streams_.contains(frame->stream_id) && cb_.on_fin) cb_.on_fin(frame->stream_id);
        break;
      case wire::SmuxCommand::syn:  // a server-opened stream: this client never accepts one
      case wire::SmuxCommand::nop:
        break;
    }
    if (dead_) return;
  }
}

void SmuxClient::kill() {
  if (dead_) return;
  dead_ = true;
  streams_.clear();
  if (cb_.on_dead) cb_.on_dead();
}

}  // namespace mocksvc::client
