#include "mocksvc/wire/smux.hpp"

namespace mocksvc::wire {

void smux_encode(const SmuxFrame& f, std::string& out) {
  const auto len = static_cast<std::uint16_t>(f.data.size());
  char h[kSmuxHeaderSize] = {static_cast<char>(kSmuxVersion), static_cast<char>(f.command),
                             static_cast<char>(len & 0xff), static_cast<char>(len >> 8),
                             static_cast<char>(f.stream_id & 0xff),
                             static_cast<char>((f.stream_id >> 8) & 0xff),
                             static_cast<char>((f.stream_id >> 16) & 0xff),
                             static_cast<char>((f.stream_id >> 24) & 0xff)};
  out.append(h, kSmuxHeaderSize);
  out.append(f.data, 0, len);
}

std::string smux_encode(const SmuxFrame& f) {
  std::string out;
  smux_encode(f, out);
  return out;
}

void smux_encode_data(std::uint32_t stream_id, std::string_view data, std::string& out) {
  while (!data.empty()) {
    auto n = std::min(data.size(), kSmuxMaxFrameData);
    smux_encode(SmuxFrame{SmuxCommand::psh, stream_id, std::string(data.substr(0, n))}, out);
    data.remove_prefix(n);
  }
}

void SmuxReader::feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<SmuxFrame> SmuxReader::next() {
  if (sticky_ != Error::ok) return sticky_;
  if (buffered() < kSmuxHeaderSize) return Error::smux_incomplete;
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf_.data() + pos_);
  if (p[0] != kSmuxVersion) return sticky_ = Error::smux_bad_version;
  if (p[1] > static_cast<std::uint8_t>(SmuxCommand::nop)) return sticky_ = Error::smux_bad_command;
  const std::size_t len = static_cast<std::size_t>(p[2]) | static_cast<std::size_t>(p[3]) << 8;
  if (buffered() < kSmuxHeaderSize + len) return Error::smux_incomplete;
  SmuxFrame f;
  f.command = static_cast<SmuxCommand>(p[1]);
  f.stream_id = static_cast<std::uint32_t>(p[4]) | static_cast<std::uint32_t>(p[5]) << 8 |
                static_cast<std::uint32_t>(p[6]) << 16 | static_cast<std::uint32_t>(p[7]) << 24;
  f.data.assign(buf_, pos_ + kSmuxHeaderSize, len);
  pos_ += kSmuxHeaderSize + len;
  return f;
}

}  // namespace mocksvc::wire
