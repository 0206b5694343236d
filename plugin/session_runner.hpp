// The client engine (mocksvc/client's ClientSession) glued to real sockets: a Dialer that opens
// the data-channel WebSocket with net::connect_websocket (plain upgrade like plugin 1.2.677, or
// SigV4-signed for service `ssmmessages` like 1.2.764+, data-channel.md §3.2, §14), a Transport
// over the connection, and the ResumeSession / TerminateSession control plane (ssm_call.hpp).
// SessionRunner bundles them for one session; the ssm-client program and the load generator
// both build on it.
//
// Everything runs on the session's strand: the WebSocket connection itself, every
// ConnectionEvents call (reads are posted there in arrival order) and every API completion.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mocksvc/client/session.hpp"
#include "mocksvc/client/strand_scheduler.hpp"
#include "plugin/ssm_call.hpp"

namespace mocksvc::broker {
class Peer;
}

namespace ssmh::plugin {

using Strand = mocksvc::client::StrandScheduler::Strand;

// The WebSocket handshake limit of the plugin's dialer (§3.2).
inline constexpr std::chrono::milliseconds kWebSocketHandshakeTimeout{45000};

// The client's WebSocket ping "keepalive", right after connecting and then this often (§3.3).
inline constexpr std::chrono::milliseconds kKeepaliveInterval{5 * 60 * 1000};

struct DialOptions {
  // wss only: the trust to verify the server with; null means the system store.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // Sign the upgrade GET with SigV4 (service `ssmmessages`), as 1.2.764.0+ does, unless the
  // StreamUrl already carries presign parameters (§14). Off: the bare upgrade of 1.2.677.
  bool sign_upgrade = false;
  CredentialsProvider credentials;  // used only when signing
  std::string region;
  std::chrono::milliseconds timeout = kWebSocketHandshakeTimeout;
  // Called after each attempt, before the engine hears of it (loadgen times the upgrades):
  // how long the upgrade took, or why it failed. Optional.
  std::function<void(std::chrono::steady_clock::duration)> opened;
  std::function<void(std::string_view why)> failed;
};

// A Dialer whose connections run on `strand` (the session's). Each call makes one attempt and
// reports opened()/failed() and then the connection's frames and its end, all on the strand.
mocksvc::client::Dialer make_dialer(Strand strand, DialOptions options);

// The engine's Transport over a connected peer. close() sends a close frame after every frame
// already queued, so nothing sent before it is lost.
mocksvc::client::Transport make_transport(std::shared_ptr<mocksvc::broker::Peer> peer);

// True when the URL's query already authenticates it (X-Amz-Signature / X-Amz-Credential).
bool has_presign_query(std::string_view url);

// The endpoint the Go SDK's default resolver picks when argv[6] is empty.
std::string default_ssm_endpoint(std::string_view region);

struct RunnerOptions {
  mocksvc::client::SessionConfig session;
  std::string ssm_endpoint;         // argv[6]; empty: default_ssm_endpoint(region)
  CredentialsProvider credentials;  // for the API calls (and a signed upgrade)
  // Trust for both wss:// and https://; null means the system store.
  std::shared_ptr<boost::asio::ssl::context> tls;
  bool sign_upgrade = false;
  RetryPolicy retry;
  std::chrono::milliseconds api_timeout{60000};
  std::chrono::milliseconds connect_timeout = kWebSocketHandshakeTimeout;
  // Shared by many sessions (load generator); null: one of its own for this session.
  std::shared_ptr<SsmApi> api;
  mocksvc::client::HandlerFactory make_handler;
  std::function<void(std::string_view)> print;  // the program's stdout; empty discards
  // Once, on the strand. Must not destroy the runner from inside: post, or signal a thread.
  std::function<void(int exit_code)> on_finished;
};

// One session on its strand. start() and stop() may be called from any thread (they post);
// session() only on the strand. Destroy it on the strand, or once no thread runs the strand's
// context; work it posted must not outlive it.
class SessionRunner {
 public:
  SessionRunner(Strand strand, RunnerOptions options);
  ~SessionRunner();
  SessionRunner(const SessionRunner&) = delete;
  SessionRunner& operator=(const SessionRunner&) = delete;

  void start();
  void stop(int exit_code);

  mocksvc::client::ClientSession& session() { return *session_; }
  mocksvc::client::StrandScheduler& scheduler() { return scheduler_; }
  const Strand& strand() const { return scheduler_.strand(); }
  const std::shared_ptr<SsmApi>& api() const { return api_; }

 private:
  mocksvc::client::StrandScheduler scheduler_;
  std::shared_ptr<SsmApi> api_;
  std::unique_ptr<mocksvc::client::ClientSession> session_;
};

}  // namespace ssmh::plugin
