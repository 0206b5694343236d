// smux v1 framing (github.com/xtaci/smux protocol version 1), carried opaquely inside Output
// payloads of multiplexed port-forwarding sessions (data-channel.md §10.4).
//
//   offset size field
//        0    1 version   1
//        1    1 command   0 SYN, 1 FIN, 2 PSH, 3 NOP
//        2    2 length    u16 little-endian, bytes of data that follow
//        4    4 stream id u32 little-endian (client streams odd, from 3)
//        8    n data
//
// The session layer does not preserve frame boundaries, so SmuxReader reassembles frames from
// arbitrary chunks. Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/wire/error.hpp"

namespace mocksvc::wire {

inline constexpr std::uint8_t kSmuxVersion = 1;
inline constexpr std::size_t kSmuxHeaderSize = 8;
// smux DefaultConfig MaxFrameSize (data-channel.md §10.4): writers split data at this size.
inline constexpr std::size_t kSmuxMaxFrameData = 32768;

enum class SmuxCommand : std::uint8_t { syn = 0, fin = 1, psh = 2, nop = 3 };

struct SmuxFrame {
  SmuxCommand command = SmuxCommand::psh;
  std::uint32_t stream_id = 0;
  std::string data;
};

// Appends one encoded frame (data must be at most 65535 bytes).
void smux_encode(const SmuxFrame& f, std::string& out);
std::string smux_encode(const SmuxFrame& f);
// Appends PSH frames for `data`, split at kSmuxMaxFrameData.
void smux_encode_data(std::uint32_t stream_id, std::string_view data, std::string& out);

// Incremental reader: feed() bytes as they arrive, then next() until it yields
// Error::smux_incomplete. A version or command error is sticky: the stream is unusable.
class SmuxReader {
 public:
  void feed(std::string_view bytes);
  Result<SmuxFrame> next();
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  Error sticky_ = Error::ok;
};

}  // namespace mocksvc::wire
