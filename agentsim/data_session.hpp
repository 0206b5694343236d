// One session on a simulated agent, from the interactive_shell that started it to its
// agent_task_complete: CreateDataChannel, the data-channel WebSocket and its OpenDataChannel,
// agent::SessionAgent running the session plugin over it, the data channel's reconnect loop,
// and the abrupt close the real agent ends with (agent.md §1, §2.6, §6).
//
// Runs on a strand of its own. start(), cancel(), shutdown() and drop_connection() may be
// called from any thread; OnEnd is called on the session's strand, at most once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agentsim/channel_link.hpp"
#include "agentsim/credential_store.hpp"
#include "agentsim/service_calls.hpp"
#include "agentsim/settings.hpp"
#include "mocksvc/agent/session_agent.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace ssmh::agentsim {

// What a session needs from its agent; the pointers are shared read-only (the store is
// thread-safe).
struct SessionEnv {
  std::shared_ptr<const Endpoint> endpoint;
  std::shared_ptr<const Timing> timing;
  std::shared_ptr<CredentialStore> credentials;
  mocksvc::agent::InstanceProfile profile;
  std::uint64_t seed = 1;
};

// How the session ended, for agent_task_complete. `report` is false when the agent says nothing
// (a document refused by the session engine).
struct SessionResult {
  std::string final_status = "Success";
  std::string output;
  bool report = true;
};

class DataSession : public std::enable_shared_from_this<DataSession> {
 public:
  using OnEnd = std::function<void(SessionResult)>;

  static std::shared_ptr<DataSession> create(boost::asio::any_io_executor executor, SessionEnv env,
                                             mocksvc::wire::InteractiveShellTask task, OnEnd on_end);
  ~DataSession();
  DataSession(const DataSession&) = delete;
  DataSession& operator=(const DataSession&) = delete;

  const std::string& session_id() const { return task_.session_id; }

  // Opens the data channel (retrying per Timing::data_retry) and starts the session plugin.
  void start();
  // channel_closed arrived on the control channel: stop the plugin, close the data socket at
  // once (no Terminating), and end with Success (agent.md §5.2).
  void cancel();
  // The agent is going away: stop everything, report nothing.
  void shutdown();
  // Fault hook: drop the data socket as a network failure would; the session reconnects.
  void drop_connection();

 private:
  DataSession(boost::asio::any_io_executor executor, SessionEnv env, mocksvc::wire::InteractiveShellTask task,
              OnEnd on_end);

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> reconnect();
  boost::asio::awaitable<Outcome<void>> connect_with_retries(bool reconnecting);
  boost::asio::awaitable<Outcome<void>> open_channel();
  boost::asio::awaitable<void> close_after_flush(SessionResult result);
  boost::asio::awaitable<bool> sleep(std::chrono::milliseconds d);

  void on_frame(const std::shared_ptr<ChannelLink>& link, mocksvc::wire::Bytes frame);
  void on_closed(const std::shared_ptr<ChannelLink>& link, std::string why);
  void on_agent_end(mocksvc::agent::SessionEnd end);
  void close_now();
  void finish(SessionResult result);

  Strand strand_;
  SessionEnv env_;
  mocksvc::wire::InteractiveShellTask task_;
  OnEnd on_end_;
  std::mt19937_64 rng_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<ChannelLink> link_;  // the open data channel, or null
  std::shared_ptr<mocksvc::agent::SessionAgent> agent_;
  bool ending_ = false;       // no more reconnects: cancelled, shut down or the plugin ended
  bool reported_ = false;
  bool reconnecting_ = false;
};

}  // namespace ssmh::agentsim
