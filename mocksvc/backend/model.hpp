// The plain values the mock's state is made of: instances (with the options the built-in agent
// consumes), sessions, accounts and callers, session preferences, the requests and pages of the
// session operations, and the configuration the backend starts from. No behaviour beyond
// enum <-> text conversion; the rules live in backend.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mocksvc::backend {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
// Injected time source: tests pass a manual clock, the service passes system_clock::now.
using ClockFn = std::function<TimePoint()>;

// PingStatus as DescribeInstanceInformation reports it (botocore shape PingStatus).
enum class PingStatus { online, connection_lost, inactive };
std::string_view to_string(PingStatus s);
std::optional<PingStatus> parse_ping_status(std::string_view text);  // "Online", ...

// virtual: the built-in agent serves the instance in-process and it is Online unless told
// otherwise. agent: a real agent must hold a control channel; Online only while it does.
enum class InstanceKind { virtual_instance, agent };
std::string_view to_string(InstanceKind k);  // "virtual" / "agent"
std::optional<InstanceKind> parse_instance_kind(std::string_view text);

// Session Status (botocore SessionStatus). Active = the first four, History = the last two.
enum class SessionStatus { connecting, connected, disconnected, terminating, terminated, failed };
std::string_view to_string(SessionStatus s);
std::optional<SessionStatus> parse_session_status(std::string_view text);  // "Connected", ...
bool is_active(SessionStatus s);

// Options of a virtual instance, consumed by the built-in agent (not by AWS-facing calls).
struct VirtualOptions {
  std::string shell = "emulated";                     // "emulated" or "pty" (a real /bin/sh)
  std::map<std::uint16_t, std::string> port_targets;  // port -> "host:port"; absent: 127.0.0.1
  std::string hostname;                               // empty: the instance's ComputerName
  std::string user = "ssm-user";

  friend bool operator==(const VirtualOptions&, const VirtualOptions&) = default;
};

struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};

// An instance as configured or added through the admin API. Empty strings mean "use the
// default" where a default is documented.
struct InstanceSpec {
  std::string instance_id;  // "i-" + 17 hex (or 8) / "mi-" + 17 hex; empty: generated
  std::string account_id;   // empty: the default account
  std::string region;       // empty: the default region
  InstanceKind kind = InstanceKind::virtual_instance;
  std::string name;
  std::vector<Tag> tags;
  std::string platform_type = "Linux";  // Linux | Windows | MacOS
  std::string platform_name = "Amazon Linux";
  std::string platform_version = "2023";
  std::string agent_version = "3.3.0.0";
  // Initial ping status. For kind agent, Online means "Online while the agent is connected".
  PingStatus ping_status = PingStatus::online;
  std::string ip_address = "127.0.0.1";
  std::string computer_name;  // empty: the virtual hostname, else "ip-127-0-0-1.mock.internal"
  std::string iam_role;
  std::string activation_id;
  std::string association_status;              // empty: not reported
  std::optional<TimePoint> registration_date;  // empty: when it was added
  VirtualOptions virtual_options;

  friend bool operator==(const InstanceSpec&, const InstanceSpec&) = default;
};

// An instance as the backend reports it: the resolved spec plus live state.
struct InstanceInfo {
  InstanceSpec spec;          // every default filled in
  std::string resource_type;  // EC2Instance | ManagedInstance (from the id prefix)
  std::string source_type;    // AWS::EC2::Instance | AWS::SSM::ManagedInstance
  PingStatus ping_status = PingStatus::online;  // effective status
  TimePoint last_ping{};
  TimePoint registration_date{};
  bool agent_connected = false;  // kind agent only
  bool is_latest_version = false;
  // What the agent last reported through UpdateInstanceInformation (agent.md §7).
  std::string agent_name;
  std::string agent_status;
  std::string availability_zone;
  std::string ssm_connection_channel;
};

struct Account {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::string account_id;
  std::string user_name;  // empty: the access key id stands in (session id prefix)
  std::string arn;        // empty: arn:aws:iam::<account>:user/<user name>
};

// Who is calling, after authentication: the account and region whose state is used.
struct Caller {
  std::string account_id;
  std::string region;
  std::string access_key_id;
  std::string arn;             // session Owner
  std::string principal_name;  // session id prefix
};

struct SessionPreferences {
  int idle_timeout_minutes = 20;         // 1..60, enforced by the broker
  int max_session_duration_minutes = 0;  // 0: none; else 1..1440, enforced by the broker
  bool run_as_enabled = false;
  std::string run_as_default_user;
  std::string shell_profile_linux;

  friend bool operator==(const SessionPreferences&, const SessionPreferences&) = default;
};

struct SessionInfo {
  std::string session_id;
  std::string account_id;
  std::string region;
  std::string target;
  InstanceKind target_kind = InstanceKind::virtual_instance;
  SessionStatus status = SessionStatus::connecting;
  TimePoint start_date{};
  std::optional<TimePoint> end_date;
  std::string document_name;
  std::string
      session_type;   // Standard_Stream | Port | InteractiveCommands | NonInteractiveCommands
  std::string owner;  // caller ARN
  std::string access_key_id;
  std::string reason;
  std::string details;
  std::string output;  // what the session ended with (agent output / channel_closed text)
  std::string parameters_json = "{}";  // resolved parameter values, name -> string
  int idle_timeout_minutes = 20;
  int max_session_duration_minutes = 0;
  std::string access_type = "Standard";
  std::string stream_path;  // "/v1/data-channel/<id>?role=publish_subscribe&cell-number=..."
};

// ---- Requests and replies of the AWS-facing actions (already shape-validated by api/) ----

struct StartSessionRequest {
  std::string target;
  std::string document_name;  // empty: SSM-SessionManagerRunShell
  std::string reason;
  std::vector<std::pair<std::string, std::vector<std::string>>> parameters;
};

// How the request reached us: decides the StreamUrl scheme and host.
struct StreamEndpoint {
  bool tls = false;
  std::string host;  // Host header value, with port when non-default
};

struct SessionCredentials {
  std::string session_id;
  std::string token_value;
  std::string stream_url;
};

struct SessionFilter {
  std::string key;  // InvokedAfter, InvokedBefore, Target, Owner, Status, SessionId, AccessType
  std::string value;
};
struct DescribeSessionsRequest {
  std::string state;  // Active | History
  std::optional<int> max_results;
  std::string next_token;
  std::vector<SessionFilter> filters;
};
struct SessionPage {
  std::vector<SessionInfo> sessions;
  std::string next_token;  // empty: last page
};

struct InstanceFilter {
  std::string key;
  std::vector<std::string> values;
};
struct DescribeInstancesRequest {
  std::vector<InstanceFilter> instance_information_filter_list;  // enum keys
  std::vector<InstanceFilter> filters;                           // string keys, tag:<k>
  std::optional<int> max_results;
  std::string next_token;
};
struct InstancePage {
  std::vector<InstanceInfo> instances;
  std::string next_token;
};

// UpdateInstanceInformation as the agent sends it; empty fields leave the stored value alone.
struct InstanceReport {
  std::string instance_id;
  std::string agent_name;
  std::string agent_version;
  std::string agent_status;
  std::string platform_type;
  std::string platform_name;
  std::string platform_version;
  std::string ip_address;
  std::string computer_name;
  std::string availability_zone;
  std::string ssm_connection_channel;
};

enum class ConnectionStatus { connected, not_connected };
std::string_view to_string(ConnectionStatus s);  // "Connected" / "NotConnected"

// ---- Configuration ----

struct BackendConfig {
  std::vector<Account> accounts;
  // Accept any access key and signature; unknown keys then act in default_account_id.
  bool accept_any_credentials = false;
  std::string default_account_id = "123456789012";
  std::string default_region = "us-east-1";
  std::vector<InstanceSpec> instances;
  SessionPreferences preferences;
  std::chrono::minutes token_ttl{60};
  std::string latest_agent_version = "3.3.0.0";
  std::size_t audit_capacity = 1000;     // audit lines kept for GET /_mock/audit
  std::size_t history_capacity = 10000;  // ended sessions kept; the oldest go first
  std::optional<std::uint64_t> seed;     // fixes ids and tokens for reproducible runs
  // CreateControlChannel for an unknown, well-formed instance id creates an agent instance in
  // the caller's account and region (managed_agents.hpp).
  bool auto_register_agents = true;
};

}  // namespace mocksvc::backend
