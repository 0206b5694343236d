// A small stand-in for the service side the simulated agent talks to, over real loopback
// sockets (net::Server, plain HTTP): the SSM JSON calls (registration with a real RSA-PSS check,
// role tokens, key rotation, health reports), CreateControlChannel/CreateDataChannel, and both
// WebSockets, whose frames the test reads and writes. Every request's SigV4 is verified and the
// verdict recorded. Knobs let a test make calls fail. Thread-safe; waits take a timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mocksvc/auth/request.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/server.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "mocksvc/wire/frame.hpp"

namespace ssmh::agentsim::testing {

inline constexpr const char* kAccessKey = "AKIDEXAMPLE";
inline constexpr const char* kSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Recorded {
  mocksvc::auth::HttpRequest request;
  std::string what;           // "AmazonSSM.<Op>", "CreateControlChannel", "ws control", ...
  bool signature_ok = false;  // SigV4 (or the on-prem RSA-PSS) checked out
  std::string verify_error;
};

// One WebSocket the agent opened.
struct FakeChannel {
  std::string path;  // target of the upgrade
  std::shared_ptr<mocksvc::broker::Peer> peer;
  std::vector<std::string> texts;
  std::vector<mocksvc::wire::Message> frames;  // binary frames, decoded
  bool closed = false;
  bool clean = false;
};

class FakeService {
 public:
  FakeService();
  ~FakeService();

  std::string endpoint() const;  // http://127.0.0.1:<port>

  // Waits until `pred` holds, checking it after every event; false after `timeout`. `pred` may
  // use the accessors below.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::vector<Recorded> requests() const;
  std::size_t count(const std::string& what) const;
  std::size_t control_count() const;
  std::size_t data_count() const;
  // Copies of the channels' state (index in connection order).
  FakeChannel control(std::size_t i) const;
  FakeChannel data(std::size_t i) const;
  void send_control(std::size_t i, const mocksvc::wire::Bytes& frame);
  void send_data(std::size_t i, const mocksvc::wire::Bytes& frame);
  void close_control(std::size_t i);
  void close_data(std::size_t i);
  // The instance id assigned at registration (empty before).
  std::string registered_instance() const;
  // Key ids of temporary credentials handed out by RequestManagedInstanceRoleToken.
  std::vector<std::string> issued_keys() const;

  // Knobs (set before the agent needs them).
  void fail_control_channel_creates(int n, int status = 500, std::string body = R"({"message":"boom"})");
  void fail_data_channel_creates(int n, int status, std::string body);
  void set_update_key_pair(bool on);
  // Lifetime of the role tokens handed out (default 1 h).
  void set_token_lifetime(std::chrono::seconds lifetime);
  // Auto-acknowledge every output_stream_data on data channels (default on).
  void set_auto_ack(bool on);
  // Acknowledge agent_task_complete on the control channel (default on).
  void set_ack_task_complete(bool on);

  struct State;  // shared with the connections' inbound handlers

 private:
  std::shared_ptr<State> state_;
  mocksvc::runtime::IoThreads io_{2};
  std::unique_ptr<mocksvc::net::Server> server_;
};

// The input_stream_data frame a client sends.
mocksvc::wire::Bytes input_frame(std::int64_t seq, mocksvc::wire::PayloadType type, std::string_view payload);
// Text of every output_stream_data of PayloadType 1 in `channel`, in sequence order, deduplicated.
std::string output_text(const FakeChannel& channel);
// The AgentSessionState values the agent sent, in order.
std::vector<std::string> session_states(const FakeChannel& channel);
// agent_task_complete payloads on a control channel.
std::vector<std::string> task_completes(const FakeChannel& channel);

}  // namespace ssmh::agentsim::testing
