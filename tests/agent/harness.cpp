#include "tests/agent/harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::agent::test {

using boost::asio::ip::tcp;
using boost::system::error_code;

std::string document(std::string_view session_type, std::string_view properties,
                     std::string_view inputs) {
  return R"({"schemaVersion":"1.0","description":"test","sessionType":")" + std::string(session_type) +
         R"(","inputs":)" + std::string(inputs) + R"(,"parameters":{},"properties":)" +
         std::string(properties) + "}";
}

Harness::Harness()
    : guard_(ioc_.get_executor()),
      strand_(boost::asio::any_io_executor(ioc_.get_executor())),
      client_(stream::Settings::client()),
      client_tick_(strand_) {}

Harness::~Harness() {
  closed_ = true;
  client_tick_.cancel();
  if (agent_) {
    boost::asio::post(strand_, [a = agent_] { a->stop(); });
    ioc_.poll();
  }
}

void Harness::start(InstanceProfile profile, std::string document_json, SessionOptions options) {
  if (profile.instance_id.empty()) profile.instance_id = "i-0123456789abcdef0";
  wire::InteractiveShellTask task;
  task.session_id = "sess-1";
  task.document_name = "test-document";
  task.document_content_json = std::move(document_json);
  agent_ = SessionAgent::create(
      strand_, std::move(profile), std::move(task),
      [this](wire::Bytes b) {
        boost::asio::post(strand_, [this, b = std::move(b)] { on_agent_frame(b); });
      },
      [this](SessionEnd e) {
        end = std::move(e);
        frames_at_end = frames.size();
      },
      options);
  boost::asio::post(strand_, [a = agent_] { a->start(); });
  arm_client_tick();
}

bool Harness::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ioc_.run_one_for(5ms);
  }
  return true;
}

void Harness::run_for(std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < deadline) ioc_.run_one_until(deadline);
}

void Harness::send(wire::PayloadType type, std::string_view payload) {
  auto s = client_.send(type, payload, stream::Clock::now());
  ASSERT_TRUE(s);
  sent.push_back(s->message);
  to_agent(s->message);
}

void Harness::send_raw(const wire::Message& m) { to_agent(m); }

void Harness::to_agent(const wire::Message& m) {
  if (closed_ || (drop_to_agent && drop_to_agent(m))) return;
  boost::asio::post(strand_, [a = agent_, bytes = wire::encode(m)] { a->on_frame(bytes); });
}

void Harness::arm_client_tick() {
  client_tick_.expires_after(stream::kTickInterval);
  client_tick_.async_wait([this](error_code ec) {
    if (ec || closed_) return;
    auto tick = client_.on_tick(stream::Clock::now());
    if (tick.resend) to_agent(*tick.resend);
    arm_client_tick();
  });
}

void Harness::on_agent_frame(const wire::Bytes& bytes) {
  auto d = wire::decode(bytes, wire::DecodeMode::strict);
  ASSERT_TRUE(d) << d.error().message();
  const wire::Message& m = d->message;
  if (drop_to_client && drop_to_client(m)) return;
  frames.push_back(m);
  if (m.message_type == wire::msg::kAcknowledge) {
    client_.on_ack(m, stream::Clock::now());
    return;
  }
  if (m.message_type != wire::msg::kOutputStreamData) return;
  auto in = client_.on_incoming(m, client_ready);
  if (in.ack && client_acks) to_agent(*in.ack);
  for (auto& msg : in.deliver) {
    delivered.push_back(msg);
    if (msg.payload_type == wire::PayloadType::handshake_request && auto_handshake) {
      wire::HandshakeResponse r;
      r.client_version = client_version;
      r.processed_client_actions.push_back({"SessionType", handshake_action_status, "null", ""});
      send(wire::PayloadType::handshake_response, r.to_json());
    }
  }
}

std::string Harness::text(wire::PayloadType type) const {
  std::string out;
  for (const auto& m : delivered) {
    if (m.payload_type == type) out += m.payload_text();
  }
  return out;
}

std::vector<const wire::Message*> Harness::frames_of(std::string_view message_type) const {
  std::vector<const wire::Message*> out;
  for (const auto& m : frames) {
    if (m.message_type == message_type) out.push_back(&m);
  }
  return out;
}

bool Harness::has_session_state(std::string_view state) const {
  for (const auto* m : frames_of(wire::msg::kAgentSessionState)) {
    auto s = wire::parse_agent_session_state(m->payload_text());
    if (s && s->session_state == state) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

TcpTarget::TcpTarget(boost::asio::io_context& io, Mode mode, std::size_t flood_bytes)
    : acceptor_(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
      mode_(mode),
      flood_bytes_(flood_bytes) {
  port_ = acceptor_.local_endpoint().port();
  accept();
}

TcpTarget::~TcpTarget() {
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& s : sockets_) s->close(ignored);
}

std::string TcpTarget::http_response() {
  return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, agent\n";
}

std::string TcpTarget::flood_pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 1024) % 26);
  return s;
}

void TcpTarget::accept() {
  acceptor_.async_accept([this](error_code ec, tcp::socket sock) {
    if (ec) return;
    ++*accepted_;
    auto s = std::make_shared<tcp::socket>(std::move(sock));
    sockets_.push_back(s);  // kept open until the target goes: closing with unread data resets
    if (mode_ == Mode::echo) {
      auto buf = std::make_shared<std::array<char, 4096>>();
      auto loop = std::make_shared<std::function<void()>>();
      *loop = [s, buf, loop] {
        s->async_read_some(boost::asio::buffer(*buf), [s, buf, loop](error_code e, std::size_t n) {
          if (e) {
            error_code ignored;
            s->shutdown(tcp::socket::shutdown_send, ignored);  // echo the half-close too
            *loop = nullptr;                                    // break the cycle
            return;
          }
          boost::asio::async_write(*s, boost::asio::buffer(buf->data(), n),
                                   [s, buf, loop](error_code e2, std::size_t) {
                                     if (!e2 && *loop) (*loop)();
                                   });
        });
      };
      (*loop)();
    } else if (mode_ == Mode::http) {
      auto req = std::make_shared<boost::asio::streambuf>();
      boost::asio::async_read_until(*s, *req, "\r\n\r\n", [s, req](error_code e, std::size_t) {
        if (e) return;
        auto resp = std::make_shared<std::string>(http_response());
        boost::asio::async_write(*s, boost::asio::buffer(*resp), [s, resp](error_code, std::size_t) {
          error_code ignored;
          s->shutdown(tcp::socket::shutdown_both, ignored);
          s->close(ignored);
        });
      });
    } else {
      auto data = std::make_shared<std::string>(flood_pattern(flood_bytes_));
      boost::asio::async_write(*s, boost::asio::buffer(*data), [s, data](error_code, std::size_t) {
        error_code ignored;
        s->shutdown(tcp::socket::shutdown_send, ignored);
      });
    }
    accept();
  });
}

std::uint16_t closed_port(boost::asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  auto port = a.local_endpoint().port();
  a.close();
  return port;
}

}  // namespace mocksvc::agent::test
