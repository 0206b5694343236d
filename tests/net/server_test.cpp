// The listener over real loopback sockets: HTTP and WebSocket, plain and TLS on one port.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <future>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "mocksvc/net/http_client.hpp"
#include "mocksvc/net/server.hpp"
#include "mocksvc/net/ws_client.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace mocksvc::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Echoes every message back on the same connection, binary as binary, text as text.
struct EchoInbound final : broker::Inbound {
  std::shared_ptr<broker::Peer> peer;
  void on_text(std::string_view t) override { peer->send_text(std::string(t)); }
  void on_binary(wire::ByteView b) override { peer->send_binary(wire::Bytes(b.begin(), b.end())); }
  void on_closed(bool, std::string_view) override { peer.reset(); }
};

// Collects what a client connection receives and lets the test wait for it.
struct Collector final : broker::Inbound {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  bool closed = false;
  bool clean = false;
  void on_text(std::string_view t) override { push("T:" + std::string(t)); }
  void on_binary(wire::ByteView b) override { push("B:" + std::string(b.begin(), b.end())); }
  void on_closed(bool c, std::string_view) override {
    std::lock_guard l(mu);
    closed = true;
    clean = c;
    cv.notify_all();
  }
  void push(std::string s) {
    std::lock_guard l(mu);
    got.push_back(std::move(s));
    cv.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, 10s, [&] { return got.size() >= n; });
  }
  bool wait_closed() {
    std::unique_lock l(mu);
    return cv.wait_for(l, 10s, [&] { return closed; });
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ssmh-net-" + std::to_string(::getpid()));
    auto tls = ensure_local_ca(dir_, {});
    ASSERT_TRUE(tls) << tls.error();
    tls_ = *tls;
    ServerOptions opts;
    opts.tls = tls_;
    ServerHandlers h;
    h.handle = [](const auth::HttpRequest& req, const api::RequestContext& ctx) {
      api::HttpResponse r;
      r.headers.emplace_back("Content-Type", "text/plain");
      r.body = req.method + " " + req.target + " tls=" + (ctx.tls ? "1" : "0") + " host=" + ctx.host +
               " body=" + req.body;
      return r;
    };
    h.transport_error = [](int status, std::string_view why) {
      api::HttpResponse r;
      r.status = status;
      r.body = std::string(why);
      return r;
    };
    h.upgrade = [](const auth::HttpRequest& req, const api::RequestContext&) {
      UpgradeDecision d;
      if (req.path() != "/echo") {
        api::HttpResponse r;
        r.status = 403;
        r.body = "no";
        d.reject = r;
        return d;
      }
      d.bind = [](std::shared_ptr<broker::Peer> p) {
        auto e = std::make_shared<EchoInbound>();
        e->peer = std::move(p);
        return e;
      };
      return d;
    };
    server_ = std::make_unique<Server>(io_.executor(), opts, h);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
    port_ = server_->local_endpoint().port();
    io_.start();
  }
  void TearDown() override {
    server_->stop();
    io_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::string url(const char* scheme, const char* path = "") {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  template <class T>
  T run(asio::awaitable<T> aw) {
    auto fut = asio::co_spawn(asio::make_strand(io_.context()), std::move(aw), asio::use_future);
    if (fut.wait_for(20s) != std::future_status::ready) throw std::runtime_error("timed out");
    return fut.get();
  }

  runtime::IoThreads io_{2};
  std::filesystem::path dir_;
  TlsFiles tls_;
  std::unique_ptr<Server> server_;
  unsigned short port_ = 0;
};

asio::awaitable<boost::system::result<api::HttpResponse, std::string>> post(std::string base,
                                                                            std::shared_ptr<asio::ssl::context> tls,
                                                                            std::string body) {
  auto ex = co_await asio::this_coro::executor;
  HttpClient client(ex, base, tls);
  auth::HttpRequest req{"POST", "/x?y=1", {}, body};
  auto first = co_await client.send(req);
  if (!first) co_return first;
  auto second = co_await client.send(req);  // the same kept-alive connection
  co_return second;
}

TEST_F(ServerTest, AnswersPlainHttp) {
  auto r = run(post(url("http"), nullptr, "hi"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /x?y=1 tls=0 host=127.0.0.1:" + std::to_string(port_) + " body=hi");
}

TEST_F(ServerTest, AnswersTlsOnTheSamePortWithTheGeneratedCa) {
  auto tls = make_client_tls(tls_.ca_bundle.string());
  ASSERT_TRUE(tls) << tls.error();
  auto r = run(post(url("https"), *tls, "secret"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "POST /x?y=1 tls=1 host=127.0.0.1:" + std::to_string(port_) + " body=secret");
}

TEST_F(ServerTest, RejectsTlsFromAClientThatDoesNotTrustTheCa) {
  auto tls = make_client_tls("");  // the system store does not hold our local CA
  ASSERT_TRUE(tls) << tls.error();
  auto r = run(post(url("https"), *tls, "x"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("TLS handshake"), std::string::npos) << r.error();
}

// Raw bytes over a blocking socket: what the server writes back to a given request head.
std::string exchange_raw(unsigned short port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer(request));
  std::string reply;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    auto n = sock.read_some(asio::buffer(buf), ec);
    reply.append(buf, n);
    if (ec) break;
  }
  return reply;
}

TEST_F(ServerTest, AnswersAnOversizedBodyWith413BeforeReadingIt) {
  auto reply = exchange_raw(port_, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 413") << reply;
}

TEST_F(ServerTest, AnswersGarbageWith400) {
  auto reply = exchange_raw(port_, "BLAH\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 400") << reply;
}

asio::awaitable<boost::system::result<std::shared_ptr<broker::Peer>, std::string>> open_ws(
    std::string u, std::shared_ptr<asio::ssl::context> tls, std::shared_ptr<Collector> c) {
  WsConnectOptions o;
  o.url = u;
  o.tls = tls;
  o.timeout = 10s;
  auto ex = co_await asio::this_coro::executor;
  auto r = co_await connect_websocket(ex, o, [c](std::shared_ptr<broker::Peer>) { return c; });
  co_return r;
}

TEST_F(ServerTest, EchoesWebSocketTextAndBinaryPlainAndTls) {
  auto tls = make_client_tls(tls_.ca_bundle.string());
  ASSERT_TRUE(tls);
  for (const char* scheme : {"ws", "wss"}) {
    auto c = std::make_shared<Collector>();
    auto peer = run(open_ws(url(scheme, "/echo"), *tls, c));
    ASSERT_TRUE(peer) << peer.error();
    (*peer)->send_text("hello");
    (*peer)->send_binary(wire::Bytes{0, 1, 2, 255});
    ASSERT_TRUE(c->wait_for(2)) << scheme;
    EXPECT_EQ(c->got[0], "T:hello");
    EXPECT_EQ(c->got[1], std::string("B:\0\1\2\xff", 6));
    (*peer)->close({broker::CloseSpec::Kind::normal, 1000, "bye"});
    ASSERT_TRUE(c->wait_closed());
    EXPECT_TRUE(c->clean);
  }
}

TEST_F(ServerTest, RefusesAnUnroutedUpgradeWithItsHttpResponse) {
  auto c = std::make_shared<Collector>();
  auto peer = run(open_ws(url("ws", "/nope"), nullptr, c));
  ASSERT_FALSE(peer);
  EXPECT_NE(peer.error().find("HTTP 403"), std::string::npos) << peer.error();
}

TEST_F(ServerTest, KeepsManyMessagesInOrder) {
  auto c = std::make_shared<Collector>();
  auto peer = run(open_ws(url("ws", "/echo"), nullptr, c));
  ASSERT_TRUE(peer) << peer.error();
  for (int i = 0; i < 2000; ++i) (*peer)->send_text(std::to_string(i));
  ASSERT_TRUE(c->wait_for(2000));
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(c->got[static_cast<std::size_t>(i)], "T:" + std::to_string(i));
}

// TCP_NODELAY of every socket in this process whose local port is `port` and that has a peer
// (accepted connections; the listener has none).
std::vector<int> nodelay_of_accepted(unsigned short port) {
  std::vector<int> found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return found;
  while (dirent* e = ::readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (fd <= 2) continue;
    sockaddr_in local{}, peer{};
    socklen_t len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.sin_family != AF_INET) continue;
    len = sizeof peer;
    if (ntohs(local.sin_port) != port || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    int on = 0;
    len = sizeof on;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0) found.push_back(on);
  }
  ::closedir(dir);
  return found;
}

TEST_F(ServerTest, AcceptedConnectionsSendSmallFramesWithoutNagleDelay) {
  auto c = std::make_shared<Collector>();
  auto peer = run(open_ws(url("ws", "/echo"), nullptr, c));
  ASSERT_TRUE(peer) << peer.error();
  EXPECT_EQ(nodelay_of_accepted(port_), std::vector<int>{1});
}

TEST_F(ServerTest, StopClosesOpenWebSockets) {
  auto c = std::make_shared<Collector>();
  auto peer = run(open_ws(url("ws", "/echo"), nullptr, c));
  ASSERT_TRUE(peer) << peer.error();
  server_->stop();
  ASSERT_TRUE(c->wait_closed());
  EXPECT_TRUE(c->clean);
}

}  // namespace
}  // namespace mocksvc::net
