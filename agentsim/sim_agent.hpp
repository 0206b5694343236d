// One simulated SSM agent: its identity (given keys, or on-prem registration with an RSA key
// and role-token credentials refreshed at half life), the idle agent's SSM calls (health
// reports, association polls), the control channel with the real agent's reconnect loop, and
// the sessions it starts from interactive_shell (agent.md §2, §5, §7, §9).
//
// Runs on a strand of its own; its sessions each run on another. The public methods may be
// called from any thread. Hooks are called on the agent's strand and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agentsim/channel_link.hpp"
#include "agentsim/credential_store.hpp"
#include "agentsim/data_session.hpp"
#include "agentsim/rsa_key.hpp"
#include "agentsim/service_calls.hpp"
#include "agentsim/settings.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace ssmh::agentsim {

// What every agent of a fleet shares, read-only.
struct Fleet {
  SimConfig config;
  std::shared_ptr<const Endpoint> endpoint;
  std::shared_ptr<const Timing> timing;
};

// A snapshot of one agent, for tests, the load generator and logs.
struct AgentStatus {
  std::size_t index = 0;
  std::string instance_id;  // empty until registration assigned one
  bool control_channel_open = false;
  bool offline = false;
  bool failed = false;  // gave up for good (registration refused)
  std::string last_error;
  std::uint64_t control_channel_opens = 0;
  std::uint64_t control_channel_failures = 0;  // attempts that did not open
  std::uint64_t health_reports = 0;            // UpdateInstanceInformation calls answered 200
  std::uint64_t association_polls = 0;
  std::uint64_t api_failures = 0;              // SSM / ec2messages calls that were not 200
  std::uint64_t credential_refreshes = 0;      // role tokens obtained (on-prem)
  std::uint64_t key_rotations = 0;             // UpdateManagedInstancePublicKey accepted
  std::uint64_t sessions_started = 0;
  std::uint64_t sessions_ended = 0;
  std::size_t sessions_active = 0;
  std::uint64_t task_completes_sent = 0;  // every send, resends included
  std::uint64_t task_completes_acked = 0;
  std::uint64_t ignored_messages = 0;  // control-channel frames dropped (bad, unknown, refused)
};

class SimAgent : public std::enable_shared_from_this<SimAgent> {
 public:
  struct Hooks {
    std::function<void(const AgentStatus&)> control_channel_changed;  // opened or lost
    std::function<void(const AgentStatus&)> failed;
    std::function<void(const AgentStatus&, const std::string& session_id)> session_started;
    std::function<void(const AgentStatus&, const std::string& session_id, const SessionResult&)> session_ended;
    // After stop(): every coroutine of the agent has finished.
    std::function<void(const AgentStatus&)> wound_down;
  };

  // `instance_id` empty: register with the fleet's activation first.
  static std::shared_ptr<SimAgent> create(boost::asio::any_io_executor executor, std::shared_ptr<const Fleet> fleet,
                                          std::size_t index, std::string instance_id, Hooks hooks);
  ~SimAgent();
  SimAgent(const SimAgent&) = delete;
  SimAgent& operator=(const SimAgent&) = delete;

  void start();
  // Closes the control channel and every session (without reports), cancels every wait.
  void stop();
  // Fault hooks. offline: the control channel drops and the agent makes no calls until back
  // online. drop_control_channel: the socket drops as in a network failure; the reconnect
  // loop takes over. drop_data_channel: likewise for one session's data channel.
  void set_offline(bool offline);
  void drop_control_channel();
  void drop_data_channel(const std::string& session_id);

  AgentStatus status() const;

 private:
  // An agent_task_complete waiting for its agent_task_acknowledge; the timer is the delivering
  // coroutine's, so an acknowledgement can wake it.
  struct PendingComplete {
    mocksvc::base::Uuid message_id;
    mocksvc::wire::AgentTaskComplete payload;
    boost::asio::steady_timer* timer = nullptr;
  };

  SimAgent(boost::asio::any_io_executor executor, std::shared_ptr<const Fleet> fleet, std::size_t index,
           std::string instance_id, Hooks hooks);

  // Runs `coroutine(*this)` on the strand, counted so stop() can tell when all have finished.
  template <typename Coroutine>
  void spawn(Coroutine coroutine);
  void coroutine_ended();

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> register_instance();
  boost::asio::awaitable<bool> fetch_role_token();
  boost::asio::awaitable<void> keep_credentials();
  boost::asio::awaitable<void> keep_control_channel();
  boost::asio::awaitable<Outcome<void>> open_control_channel();
  boost::asio::awaitable<void> send_health_reports();
  boost::asio::awaitable<void> report_connected();
  boost::asio::awaitable<void> poll_associations();
  boost::asio::awaitable<void> poll_mds();
  boost::asio::awaitable<void> deliver_task_complete(std::string message_id);
  boost::asio::awaitable<bool> sleep(boost::asio::steady_timer& timer, std::chrono::milliseconds d);
  boost::asio::awaitable<CallResult> call_ssm(std::string operation, std::string body);
  boost::asio::awaitable<void> health_report(std::string channel);
  boost::asio::awaitable<bool> rotate_key();
  mocksvc::agent::InstanceProfile profile() const;

  void on_control_frame(const std::shared_ptr<ChannelLink>& link, mocksvc::wire::Bytes frame);
  void on_control_closed(const std::shared_ptr<ChannelLink>& link, std::string why);
  void start_session(mocksvc::wire::InteractiveShellTask task);
  void on_session_end(const std::string& session_id, SessionResult result);
  void send_task_complete(const std::string& session_id, const SessionResult& result);
  void close_control_channel();
  template <typename Fn>
  void update(Fn fn);

  Strand strand_;
  std::shared_ptr<const Fleet> fleet_;
  const Timing& timing_;
  std::size_t index_;
  Hooks hooks_;
  std::mt19937_64 rng_;
  std::shared_ptr<CredentialStore> credentials_ = std::make_shared<CredentialStore>();
  HostFacts host_;

  // On-prem identity.
  std::shared_ptr<const RsaKey> key_;
  std::string fingerprint_;
  std::chrono::system_clock::time_point credentials_expire_{};
  std::chrono::steady_clock::time_point connected_at_{};

  std::shared_ptr<ChannelLink> control_;  // the open control channel, or null
  bool ever_connected_ = false;
  bool stopping_ = false;
  bool offline_ = false;
  int live_coroutines_ = 0;
  bool wound_down_ = false;

  boost::asio::steady_timer control_timer_;   // reconnect waits, and waiting for a loss
  boost::asio::steady_timer health_timer_;
  boost::asio::steady_timer report_timer_;
  boost::asio::steady_timer associations_timer_;
  boost::asio::steady_timer mds_timer_;
  boost::asio::steady_timer credentials_timer_;

  std::map<std::string, std::shared_ptr<DataSession>> sessions_;
  std::map<std::string, PendingComplete> pending_completes_;  // by MessageId

  mutable std::mutex status_mu_;
  AgentStatus status_;
};

}  // namespace ssmh::agentsim
