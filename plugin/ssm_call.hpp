// Calling the SSM JSON 1.1 API the way the plugin's Go SDK does (data-channel.md §2, ssm-api.md
// §1): `POST /` with `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target:
// AmazonSSM.<Operation>`, SigV4 for service `ssm` signing content-length, content-type, host,
// x-amz-date, [x-amz-security-token,] x-amz-target, and the SDK's retry policy. Also the
// ControlPlane (ResumeSession / TerminateSession) the client engine needs, built on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "mocksvc/auth/request.hpp"
#include "mocksvc/client/session.hpp"

namespace boost::asio::ssl {
class context;
}

namespace mocksvc::net {
class HttpClient;
}

namespace ssmh::plugin {

// aws-sdk-go v1's DefaultRetryer as the plugin uses it (§2): at most 3 retries, the n-th
// (0-based) after 2^n × U[delay_min, delay_max).
struct RetryPolicy {
  int max_retries = 3;
  std::chrono::milliseconds delay_min{1000};
  std::chrono::milliseconds delay_max{1500};  // exclusive
};

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

struct SsmResult {
  int status = 0;     // HTTP status; 0 when no response arrived (connect, TLS, timeout)
  std::string body;   // the response body as received
  std::string error;  // the AWS error code (non-200), or one line on what failed (status 0)
  int attempts = 0;   // 1 + retries made
  bool ok() const { return status == 200; }
};

// The code of an AWS JSON error: x-amzn-ErrorType, else the body's `__type` (or `code`), with a
// `namespace#` prefix and a `:...` suffix stripped. Empty when neither says.
std::string aws_error_code(std::string_view body, std::optional<std::string_view> error_type_header);

// What the SDK retries: no response at all, any 5xx, HTTP 429, and the throttling codes
// (ThrottlingException, Throttling, RequestLimitExceeded, ...) whatever their status.
bool is_retryable(const SsmResult& result);

using CredentialsProvider = std::function<std::optional<mocksvc::auth::Credentials>()>;

struct SsmEndpoint {
  std::string url;  // scheme://host[:port] (argv[6]); a path is ignored
  std::string region;
  // Asked before every attempt; nullopt fails the call at once ("no credentials").
  CredentialsProvider credentials;
  // https only: the trust to verify the server with; null means the system store.
  std::shared_ptr<boost::asio::ssl::context> tls;
  RetryPolicy retry;
  // One attempt: connect, send, read. The SDK's HTTP client has no limit; ours must have one.
  std::chrono::milliseconds timeout{60000};
  std::string user_agent = "ssm-harness-client";
  // Seeds the retry jitter; unset draws from std::random_device.
  std::optional<std::uint64_t> seed;
};

// One SSM endpoint with a few kept-alive connections. Runs on its own strand (made from the
// executor given); call() and the coroutine may be used from any thread. Must be owned by a
// shared_ptr (create()); calls in flight keep it alive.
class SsmApi : public std::enable_shared_from_this<SsmApi> {
 public:
  static std::shared_ptr<SsmApi> create(boost::asio::any_io_executor executor, SsmEndpoint endpoint);
  ~SsmApi();
  SsmApi(const SsmApi&) = delete;
  SsmApi& operator=(const SsmApi&) = delete;

  // AmazonSSM.<operation> with `json_body`, retried per the policy; `done` runs on
  // `done_executor`.
  void call(std::string operation, std::string json_body, boost::asio::any_io_executor done_executor,
            std::function<void(SsmResult)> done);
  // The same as a coroutine; resumes on the awaiting coroutine's executor.
  boost::asio::awaitable<SsmResult> call(std::string operation, std::string json_body);

  const SsmEndpoint& endpoint() const { return endpoint_; }

 private:
  SsmApi(boost::asio::any_io_executor strand, SsmEndpoint endpoint);
  boost::asio::awaitable<SsmResult> call_with_retries(std::string operation, std::string json_body);

  boost::asio::any_io_executor strand_;
  SsmEndpoint endpoint_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<mocksvc::net::HttpClient>> idle_;  // strand only
};

// One call with a connection of its own: StartSession and friends for the load generator and
// tests. Runs on `executor`.
boost::asio::awaitable<SsmResult> call_ssm(boost::asio::any_io_executor executor, SsmEndpoint endpoint,
                                           std::string operation, std::string json_body);

// ResumeSession and TerminateSession for a ClientSession whose strand is `session_strand`
// (completions are delivered there). A ResumeSession that fails after retries, or answers with
// something other than a JSON object, is a failed call; a TokenValue that is absent, null or
// not a string is reported as absent (the engine then prints "timed out").
mocksvc::client::ControlPlane make_control_plane(std::shared_ptr<SsmApi> api,
                                                 boost::asio::any_io_executor session_strand);

}  // namespace ssmh::plugin
