// One WebSocket of a simulated agent (control or data channel) as its owner sees it: reads are
// copied and posted onto the owner's strand in arrival order, tagged with the link they came
// from so an owner that has moved on to a new connection ignores the old one's stragglers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "mocksvc/broker/peer.hpp"
#include "mocksvc/wire/frame.hpp"

namespace ssmh::agentsim {

using Strand = boost::asio::strand<boost::asio::any_io_executor>;

// How the agent ends a channel: the TCP connection dropped without a close frame (§2.5).
inline mocksvc::broker::CloseSpec abrupt_close() {
  mocksvc::broker::CloseSpec spec;
  spec.kind = mocksvc::broker::CloseSpec::Kind::abrupt;
  return spec;
}

// Identity of one connection attempt; owners compare pointers. `closed` is set on the owner's
// strand when the connection's end has been delivered there.
struct ChannelLink {
  std::shared_ptr<mocksvc::broker::Peer> peer;
  bool closed = false;
  std::string close_reason;
};

// Calls `on_frame` (text and binary alike: the agent parses both as AgentMessages, agent.md
// §2.5) and `on_closed` on `strand`. The callbacks decide whether the link is still current.
class PostingInbound final : public mocksvc::broker::Inbound {
 public:
  using OnFrame = std::function<void(mocksvc::wire::Bytes)>;
  using OnClosed = std::function<void(std::string why)>;

  PostingInbound(Strand strand, OnFrame on_frame, OnClosed on_closed)
      : strand_(std::move(strand)), on_frame_(std::move(on_frame)), on_closed_(std::move(on_closed)) {}

  void on_text(std::string_view text) override { deliver(mocksvc::wire::Bytes(text.begin(), text.end())); }
  void on_binary(mocksvc::wire::ByteView frame) override {
    deliver(mocksvc::wire::Bytes(frame.begin(), frame.end()));
  }
  void on_closed(bool, std::string_view why) override {
    boost::asio::post(strand_, [fn = on_closed_, why = std::string(why)]() mutable { fn(std::move(why)); });
  }

 private:
  void deliver(mocksvc::wire::Bytes frame) {
    boost::asio::post(strand_, [fn = on_frame_, frame = std::move(frame)]() mutable { fn(std::move(frame)); });
  }

  Strand strand_;
  OnFrame on_frame_;
  OnClosed on_closed_;
};

}  // namespace ssmh::agentsim
