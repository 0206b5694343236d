// The two faces of a connected party as the broker sees it. A Peer is where frames go (a
// client's data channel, a real agent's data or control channel, a virtual instance); an Inbound
// is where a connection delivers what it reads. net/ implements Peer over WebSockets and
// app/ over virtual instances, so the broker never knows which kind it talks to.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mocksvc/wire/frame.hpp"

namespace mocksvc::broker {

struct CloseSpec {
  enum class Kind {
    normal,  // WebSocket close frame with `code`/`reason`, after everything queued is written
    abrupt,  // drop the TCP connection at once, no close frame (what the real agent does)
  };
  Kind kind = Kind::normal;
  std::uint16_t code = 1000;
  std::string reason;
};

// Thread-safe: any thread may call any method; none blocks.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual void send_binary(wire::Bytes frame) = 0;
  virtual void send_text(std::string text) = 0;
  virtual void close(CloseSpec spec) = 0;
  // Bytes accepted by send_* and not yet written: the back-pressure signal.
  virtual std::size_t queued_bytes() const = 0;
  // Calls `fn` once (on an unspecified thread) when queued_bytes() is at or below the low-water
  // mark; at once if it already is, or if the peer is closed.
  virtual void when_drained(std::function<void()> fn) = 0;
  // For logs: "client 127.0.0.1:50412", "virtual i-0123...".
  virtual std::string describe() const = 0;
};

// Called by one connection, one call at a time, in the order frames arrived.
class Inbound {
 public:
  virtual ~Inbound() = default;
  virtual void on_text(std::string_view text) = 0;
  virtual void on_binary(wire::ByteView frame) = 0;
  // The connection ended; `clean` is true for a close frame or an orderly end of stream.
  virtual void on_closed(bool clean, std::string_view why) = 0;
  // The peer this inbound forwards to, when it is over its high-water mark: the connection
  // stops reading until that peer drains. nullptr when reading may go on.
  virtual std::shared_ptr<Peer> congested() { return nullptr; }
};

}  // namespace mocksvc::broker
