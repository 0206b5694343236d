#include <gtest/gtest.h>

#include "mocksvc/base/hex.hpp"
#include "mocksvc/wire/smux.hpp"

namespace mocksvc::wire {
namespace {

std::string bytes(std::string_view hex) {
  auto b = *base::from_hex(hex);
  return std::string(b.begin(), b.end());
}

// The frames the official plugin sent for one HTTP request (data-channel.md §10.4).
TEST(Smux, EncodesTheCapturedPluginFrames) {
  EXPECT_EQ(smux_encode({SmuxCommand::syn, 3, ""}), bytes("0100000003000000"));
  EXPECT_EQ(smux_encode({SmuxCommand::psh, 3, "GET / HTTP/1.0\r\n\r\n"}),
            bytes("0102120003000000") + "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(smux_encode({SmuxCommand::fin, 3, ""}), bytes("0101000003000000"));
}

TEST(Smux, ReassemblesFramesSplitAtAnyByte) {
  std::string stream = smux_encode({SmuxCommand::syn, 3, ""}) +
                       smux_encode({SmuxCommand::psh, 3, "GET / HTTP/1.0\r\n\r\n"}) +
                       smux_encode({SmuxCommand::fin, 3, ""});
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    SmuxReader r;
    std::vector<SmuxFrame> got;
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
      r.feed(std::string_view(stream).substr(i, chunk));
      for (auto f = r.next(); f; f = r.next()) got.push_back(*f);
    }
    ASSERT_EQ(got.size(), 3u) << chunk;
    EXPECT_EQ(got[0].command, SmuxCommand::syn);
    EXPECT_EQ(got[1].data, "GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(got[2].command, SmuxCommand::fin);
    EXPECT_EQ(got[2].stream_id, 3u);
  }
}

TEST(Smux, SplitsLargeDataAtMaxFrameSize) {
  std::string out;
  smux_encode_data(5, std::string(70000, 'a'), out);
  SmuxReader r;
  r.feed(out);
  std::size_t total = 0, frames = 0;
  for (auto f = r.next(); f; f = r.next()) {
    EXPECT_LE(f->data.size(), kSmuxMaxFrameData);
    total += f->data.size();
    ++frames;
  }
  EXPECT_EQ(total, 70000u);
  EXPECT_EQ(frames, 3u);
}

TEST(Smux, RejectsBadVersionAndCommandStickily) {
  SmuxReader r;
  r.feed(bytes("0200000003000000"));
  EXPECT_EQ(r.next().error(), make_error_code(Error::smux_bad_version));
  r.feed(smux_encode({SmuxCommand::nop, 1, ""}));
  EXPECT_EQ(r.next().error(), make_error_code(Error::smux_bad_version));
  SmuxReader c;
  c.feed(bytes("0109000003000000"));
  EXPECT_EQ(c.next().error(), make_error_code(Error::smux_bad_command));
}

}  // namespace
}  // namespace mocksvc::wire
