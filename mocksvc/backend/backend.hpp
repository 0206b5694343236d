// All of the mock's state and the rules over it: accounts, instances and sessions per (account,
// region), data-channel tokens, session preferences and the audit trail. One method per action,
// each returning a value or an AwsError; no I/O, no sockets, time from an injected clock.
// reset() returns to the configured initial state. What concerns real agents beyond their
// instance records lives in ManagedAgents (agents()).
//
// Threading: every public method may be called from any thread; one internal mutex guards the
// state. The observer and the audit sink are called on the calling thread *after* the state
// mutex is released, so they may call back into the Backend.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "mocksvc/backend/audit.hpp"
#include "mocksvc/backend/error.hpp"
#include "mocksvc/backend/model.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::backend {

// Everything the broker needs to start a session's agent side.
struct SessionStart {
  std::string account_id;
  std::string region;
  std::string session_id;
  std::string target;
  InstanceKind kind = InstanceKind::virtual_instance;
  VirtualOptions virtual_options;  // meaningful for kind virtual
  std::string document_name;
  std::string session_type;
  std::string properties_json;  // the substituted document `properties`
  // The interactive_shell task for the agent (agent.md §5.1): DocumentContent has
  // schemaVersion "1.0" and the parameters already substituted.
  wire::InteractiveShellTask task;
  int idle_timeout_minutes = 20;
  int max_session_duration_minutes = 0;  // 0: none
};

// Implemented by the broker. Called after the Backend's mutex is released, on the thread that
// made the change (an API request, an admin request, or a backend call from the broker itself).
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_session_started(const SessionStart& start) = 0;
  // TerminateSession, the admin API or instance removal asked for the session to end. The
  // broker closes both sides and then calls Backend::session_ended.
  virtual void on_session_terminate_requested(const std::string& session_id,
                                              const std::string& reason) = 0;
};

// Why a data-channel token was refused.
enum class TokenError { unknown_session, bad_token, expired, session_terminated };
std::string_view to_string(TokenError e);

// What a valid data-channel token grants.
struct DataChannelGrant {
  std::string session_id;
  std::string account_id;
  std::string region;
  std::string target;
  InstanceKind kind = InstanceKind::virtual_instance;
  SessionStatus status = SessionStatus::connecting;
  std::string document_name;
  std::string session_type;
  TimePoint token_expires_at{};
};

struct BackendStats {
  std::size_t instances = 0;
  std::size_t sessions_active = 0;
  std::size_t sessions_history = 0;
  std::size_t sessions_started = 0;  // since start or reset
  std::size_t audit_events = 0;      // since start or reset
};

// MaxResults when the caller gives none. AWS does not document these defaults; 20 sessions and
// the model's maximum of 50 instances are the mock's choice (clients follow NextToken anyway).
inline constexpr int kDescribeSessionsDefaultMaxResults = 20;
inline constexpr int kDescribeInstancesDefaultMaxResults = 50;

class ManagedAgents;

class Backend {
 public:
  explicit Backend(BackendConfig config, ClockFn clock = &Clock::now);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // nullptr detaches. The observer must outlive the Backend or be detached first.
  void set_observer(SessionObserver* observer);
  // Receives each audit line (no trailing newline); called with no state lock held, one call at
  // a time, in the order the lines were recorded.
  void set_audit_sink(std::function<void(std::string_view line)> sink);
  TimePoint now() const;

  // ---- Identity ----
  // A configured account, or role credentials issued to a registered instance (agents()).
  std::optional<Account> find_account(std::string_view access_key_id) const;
  bool accept_any_credentials() const;
  const std::string& default_region() const;
  // The caller for a signed request: the configured account of that key, or (any-credentials
  // mode, or no key at all) the default account with the key as principal name.
  Caller caller_for(std::string_view access_key_id, std::string_view region) const;

  // ---- AWS-facing actions (inputs already shape-validated by api/) ----
  Result<SessionCredentials> start_session(const Caller& caller, const StartSessionRequest& request,
                                           const StreamEndpoint& endpoint);
  Result<SessionCredentials> resume_session(const Caller& caller, std::string_view session_id,
                                            const StreamEndpoint& endpoint);
  // Returns the session id; unknown ids succeed too, as on AWS.
  Result<std::string> terminate_session(const Caller& caller, std::string_view session_id);
  Result<SessionPage> describe_sessions(const Caller& caller,
                                        const DescribeSessionsRequest& request) const;
  ConnectionStatus get_connection_status(const Caller& caller, std::string_view target) const;
  Result<InstancePage> describe_instance_information(const Caller& caller,
                                                     const DescribeInstancesRequest& request) const;
  Result<void> update_instance_information(const Caller& caller, const InstanceReport& report);

  // ---- Called by the broker and the network layer ----
  // A real agent's control channel opened (true) or closed (false). False if unknown.
  bool set_agent_connected(std::string_view instance_id, bool connected);
  boost::system::result<DataChannelGrant, TokenError> check_data_channel_token(
      std::string_view session_id, std::string_view token, TimePoint now) const;
  boost::system::result<DataChannelGrant, TokenError> check_data_channel_token(
      std::string_view session_id, std::string_view token) const;
  // Moves an active session between Connecting, Connected, Disconnected and Terminating.
  // False (and no change) for unknown or ended sessions, or a terminal status.
  bool set_session_status(std::string_view session_id, SessionStatus status);
  // The session is over: final_status Terminated or Failed; it moves to History.
  bool session_ended(std::string_view session_id, SessionStatus final_status,
                     std::string_view output);
  std::optional<SessionInfo> find_session(std::string_view session_id) const;
  std::optional<InstanceInfo> find_instance(std::string_view instance_id) const;

  // ---- Administration (/_mock) ----
  Result<InstanceInfo> add_instance(InstanceSpec spec);
  // Active sessions on the instance are asked to terminate.
  Result<void> remove_instance(std::string_view instance_id);
  Result<InstanceInfo> set_ping_status(std::string_view instance_id, PingStatus status);
  std::vector<InstanceInfo> list_instances() const;
  std::vector<SessionInfo> list_sessions() const;  // newest first, every account and region
  // Marks an active session Terminating and notifies the observer; unknown: not_found.
  Result<SessionInfo> request_termination(std::string_view session_id, std::string_view reason);
  SessionPreferences preferences() const;
  Result<void> set_preferences(const SessionPreferences& preferences);
  void reset();
  BackendStats stats() const;

  // ---- Real agents: channel tokens, activations, registrations (managed_agents.hpp) ----
  ManagedAgents& agents();
  const ManagedAgents& agents() const;

  // ---- Audit ----
  void record_audit(const AuditEvent& event);
  // The most recent lines, oldest first, at most `limit`.
  std::vector<std::string> audit_lines(std::size_t limit) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<ManagedAgents> agents_;
};

// Lets check_data_channel_token(...).value() throw; callers normally test has_value().
[[noreturn]] void throw_exception_from_error(TokenError e, const boost::source_location& loc);

// Checks a configuration the way the constructor will use it (the constructor skips invalid or
// duplicate instances silently): the config loader calls this first and reports the error.
Result<void> validate_config(const BackendConfig& config);

// "i-" + 8 or 17 lower-case hex, or "mi-" + 17 lower-case hex.
bool is_valid_instance_id(std::string_view id);

// An agent version as botocore's Version shape allows: ^[0-9]{1,6}(\.[0-9]{1,6}){2,3}$
bool is_agent_version(std::string_view version);

}  // namespace mocksvc::backend
