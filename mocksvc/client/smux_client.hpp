// The client half of an smux v1 session (xtaci/smux 1.5.x, data-channel.md §10.4) carried in
// Output payloads of a multiplexed port-forwarding session: stream ids odd from 3, SYN to open,
// PSH for data, FIN to close (sent once per stream, also after the peer's FIN, as smux's
// Stream.Close does), NOP for keep-alive. No sockets: bytes go out through a callback and come
// in through on_bytes(), in chunks whose boundaries need not match frames.
//
// Not thread-safe: one owner (the port handler on the session's strand) calls every member.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string_view>
#include <utility>

#include "mocksvc/wire/smux.hpp"

namespace mocksvc::client {

// smux DefaultConfig keep-alive (§8): a NOP every 10 s; the session dies when nothing at all
// was received during a 30 s period. Only used with agents at or below 3.1.1511.0.
inline constexpr auto kSmuxKeepAliveInterval = std::chrono::seconds(10);
inline constexpr auto kSmuxKeepAliveTimeout = std::chrono::seconds(30);
// The client's first stream id: smux clients count odd ids from 1 and pre-increment (§10.4).
inline constexpr std::uint32_t kSmuxFirstClientStream = 3;

class SmuxClient {
 public:
  struct Callbacks {
    std::function<void(std::string_view bytes)> send;  // encoded frames, to the data channel
    std::function<void(std::uint32_t stream, std::string_view data)> on_data;
    std::function<void(std::uint32_t stream)> on_fin;  // the peer closed this stream
    std::function<void()> on_dead;  // protocol error or keep-alive timeout: all streams gone
  };
  explicit SmuxClient(Callbacks callbacks) : cb_(std::move(callbacks)) {}

  // Opens the next stream (SYN) and returns its id; 0 once the session is dead.
  std::uint32_t open_stream();
  void write(std::uint32_t stream, std::string_view data);
  // Sends FIN once and forgets the stream; later data for it is dropped.
  void close_stream(std::uint32_t stream);
  void send_nop();
  void on_bytes(std::string_view bytes);
  // smux's dataReady flag: true if any frame arrived since the last call.
  bool take_data_ready() { return std::exchange(data_ready_, false); }
  // Ends the session: streams are forgotten, nothing more is sent, on_dead() runs once.
  void kill();

  bool dead() const { return dead_; }
  bool is_open(std::uint32_t stream) const { return streams_.contains(stream); }
  std::size_t open_streams() const { return streams_.size(); }

 private:
  Callbacks cb_;
  wire::SmuxReader reader_;
  std::uint32_t next_id_ = kSmuxFirstClientStream - 2;
  std::set<std::uint32_t> streams_;
  bool data_ready_ = false;
  bool dead_ = false;
};

}  // namespace mocksvc::client
