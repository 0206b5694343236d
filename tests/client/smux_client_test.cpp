// The smux v1 client half in memory: the captured plugin bytes, stream ids, FIN once, and
// frames reassembled from arbitrary chunks (data-channel.md §10.4).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mocksvc/base/hex.hpp"
#include "mocksvc/client/smux_client.hpp"

namespace mocksvc::client {
namespace {

std::string bytes(std::string_view hex) {
  auto b = *base::from_hex(hex);
  return std::string(b.begin(), b.end());
}

struct Recorder {
  std::vector<std::string> sent;
  std::vector<std::pair<std::uint32_t, std::string>> data;
  std::vector<std::uint32_t> fins;
  int deaths = 0;
  SmuxClient::Callbacks callbacks() {
    return {[this](std::string_view b) { sent.emplace_back(b); },
            [this](std::uint32_t id, std::string_view d) { data.emplace_back(id, std::string(d)); },
            [this](std::uint32_t id) { fins.push_back(id); }, [this] { ++deaths; }};
  }
};

TEST(SmuxClient, OpensOddStreamsFromThreeWithTheCapturedBytes) {
  Recorder r;
  SmuxClient c(r.callbacks());
  EXPECT_EQ(c.open_stream(), 3u);
  c.write(3, "GET / HTTP/1.0\r\n\r\n");
  c.close_stream(3);
  EXPECT_EQ(c.open_stream(), 5u);
  EXPECT_EQ(c.open_stream(), 7u);
  ASSERT_EQ(r.sent.size(), 5u);
  EXPECT_EQ(r.sent[0], bytes("0100000003000000"));
  EXPECT_EQ(r.sent[1], bytes("0102120003000000") + "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.sent[2], bytes("0101000003000000"));
  EXPECT_EQ(r.sent[3], bytes("0100000005000000"));
}

TEST(SmuxClient, SendsFinOnceAndNothingForAClosedStream) {
  Recorder r;
  SmuxClient c(r.callbacks());
  auto id = c.open_stream();
  c.close_stream(id);
  c.close_stream(id);
  c.write(id, "late");
  EXPECT_EQ(r.sent.size(), 2u);
  EXPECT_FALSE(c.is_open(id));
}

TEST(SmuxClient, DispatchesFramesSplitAtAnyByte) {
  const std::string incoming = wire::smux_encode({wire::SmuxCommand::nop, 0, ""}) +
                               wire::smux_encode({wire::SmuxCommand::psh, 3, "HTTP/1.0 200 OK\r\n"}) +
                               wire::smux_encode({wire::SmuxCommand::psh, 9, "unknown stream"}) +
                               wire::smux_encode({wire::SmuxCommand::syn, 2, ""}) +
                               wire::smux_encode({wire::SmuxCommand::fin, 3, ""});
  for (std::size_t chunk = 1; chunk <= incoming.size(); ++chunk) {
    Recorder r;
    SmuxClient c(r.callbacks());
    c.open_stream();
    for (std::size_t i = 0; i < incoming.size(); i += chunk) {
      c.on_bytes(std::string_view(incoming).substr(i, chunk));
    }
    ASSERT_EQ(r.data.size(), 1u) << chunk;
    EXPECT_EQ(r.data[0], (std::pair<std::uint32_t, std::string>{3, "HTTP/1.0 200 OK\r\n"}));
    EXPECT_EQ(r.fins, (std::vector<std::uint32_t>{3}));
    EXPECT_TRUE(c.take_data_ready());
    EXPECT_FALSE(c.take_data_ready());
  }
}

TEST(SmuxClient, DiesOnAProtocolError) {
  Recorder r;
  SmuxClient c(r.callbacks());
  c.open_stream();
  c.on_bytes(bytes("0202000003000000"));
  EXPECT_TRUE(c.dead());
  EXPECT_EQ(r.deaths, 1);
  EXPECT_EQ(c.open_stream(), 0u);
  EXPECT_EQ(c.open_streams(), 0u);
  c.send_nop();
  EXPECT_EQ(r.sent.size(), 1u);  // only the first SYN
}

TEST(SmuxClient, SplitsLargeWritesAtTheMaximumFrameSize) {
  Recorder r;
  SmuxClient c(r.callbacks());
  auto id = c.open_stream();
  c.write(id, std::string(40000, 'x'));
  wire::SmuxReader reader;
  reader.feed(r.sent.at(1));
  std::vector<std::size_t> sizes;
  for (auto f = reader.next(); f; f = reader.next()) sizes.push_back(f->data.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{32768, 40000 - 32768}));
}

}  // namespace
}  // namespace mocksvc::client
