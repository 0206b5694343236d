// The message gateway: one Relay per session, created when the backend starts a session,
// found by data-channel connections, ended by the relay or by TerminateSession. Implements the
// backend's SessionObserver (sessions starting and asked to end) and the relays' SessionHooks
// (status changes and ends, written back to the backend). Who plays the agent side is decided
// by an AgentLauncher (virtual instances, real agents), so the broker never cares which.
//
// Thread-safe: any method may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/broker/relay.hpp"
#include "mocksvc/broker/stage.hpp"

namespace mocksvc::broker {

class AgentLauncher {
 public:
  virtual ~AgentLauncher() = default;
  // Starts the agent side of a session that was just created. A virtual instance attaches to
  // `relay` at once; a real agent is told over its control channel and attaches when its data
  // channel opens. On failure, call relay->agent_finished(false, why).
  virtual void launch(const backend::SessionStart& start, std::shared_ptr<Relay> relay) = 0;
  // The session ended; tell the agent side if it needs telling beyond its data channel.
  virtual void ended(const std::string& session_id, const std::string& target) = 0;
};

// Decides whether an agent-variant OpenDataChannel may join a session (issue: real agents).
using AgentTokenCheck =
    std::function<bool(const std::string& session_id, const std::string& token, const std::string& instance_id)>;

struct BrokerOptions {
  // Keep a transcript of every relayed frame and hand it over when the session ends.
  bool session_logging = false;
  std::function<void(const std::string& session_id, const std::string& transcript)> transcript_sink;
};

class Broker final : public backend::SessionObserver, public SessionHooks {
 public:
  Broker(boost::asio::any_io_executor executor, backend::Backend& backend, BrokerOptions options = {});
  ~Broker() override;

  void set_agent_launcher(AgentLauncher* launcher);
  void set_agent_token_check(AgentTokenCheck check);
  // Replaces the stage pipelines of new and live sessions.
  void set_stage_factory(StageFactory factory);
  void set_options(BrokerOptions options);

  void on_session_started(const backend::SessionStart& start) override;
  void on_session_terminate_requested(const std::string& session_id, const std::string& reason) override;
  void on_status(const std::string& session_id, std::string_view status) override;
  void on_ended(const std::string& session_id, std::string_view final_status, std::string_view output) override;

  // A WebSocket was accepted on /v1/data-channel/<session_id>: the returned Inbound reads its
  // OpenDataChannel, checks the token, and joins the connection to the session as client or
  // agent.
  std::shared_ptr<Inbound> bind_data_channel(std::string session_id, std::shared_ptr<Peer> connection);

  std::shared_ptr<Relay> find(const std::string& session_id) const;
  bool drop_client(const std::string& session_id);
  std::size_t active_relays() const;
  // {"sessions":{"<id>":{frames, bytes, faults...}}, "totals":{...}} for /_mock/stats.
  std::string stats_json() const;
  // Ends every live session (service stopping).
  void shutdown();

 private:
  boost::asio::any_io_executor executor_;
  backend::Backend& backend_;
  mutable std::mutex mu_;
  BrokerOptions options_;
  AgentLauncher* launcher_ = nullptr;
  AgentTokenCheck agent_token_check_;
  StageFactory stage_factory_;
  std::map<std::string, std::shared_ptr<Relay>> relays_;
  std::map<std::string, std::string> targets_;  // session id -> target, for AgentLauncher::ended
  RelayStats ended_totals_;
  std::uint64_t sessions_ended_ = 0;
};

}  // namespace mocksvc::broker
