#include "plugin/ssm_call.hpp"

#include <algorithm>
#include <array>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/net/http_client.hpp"

namespace ssmh::plugin {
namespace {

namespace asio = boost::asio;
namespace auth = mocksvc::auth;
using mocksvc::base::LogLevel;
using json = nlohmann::json;
using Idle = std::vector<std::unique_ptr<mocksvc::net::HttpClient>>;
constexpr std::string_view kLog = "ssm-api";

// The JSON 1.1 protocol's content type and target prefix (ssm-api.md §1).
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
constexpr std::string_view kTargetPrefix = "AmazonSSM.";
// Kept-alive connections per endpoint: the engine makes at most two calls at once.
constexpr std::size_t kMaxIdleConnections = 4;

// Error codes aws-sdk-go v1 retries whatever the status (request/retryer.go: throttling,
// timeouts and expired credentials, which it refreshes before retrying).
constexpr std::array<std::string_view, 18> kRetryableCodes = {
    "ProvisionedThroughputExceededException",
    "ThrottledException",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "TransactionInProgressException",
    "EC2ThrottledException",
    "RequestError",
    "RequestTimeout",
    "ResponseTimeout",
    "RequestTimeoutException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
};

auth::HttpRequest make_request(std::string_view operation, std::string body, const std::string& user_agent) {
  auth::HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers.emplace_back("Content-Type", std::string(kJsonContentType));
  r.headers.emplace_back("X-Amz-Target", std::string(kTargetPrefix) + std::string(operation));
  if (!user_agent.empty()) r.headers.emplace_back("User-Agent", user_agent);
  r.body = std::move(body);
  return r;
}

// The Go SDK's signed-header set for JSON calls (§2 [observed]): content-length is included.
std::function<void(auth::HttpRequest&)> ssm_signer(auth::Credentials credentials, std::string region) {
  return [credentials = std::move(credentials), region = std::move(region)](auth::HttpRequest& r) {
    auth::SignOptions o;
    o.service = "ssm";
    o.region = region;
    o.now = auth::Clock::now();
    o.signed_headers = {"content-length", "content-type", "host", "x-amz-date"};
    if (!credentials.session_token.empty()) o.signed_headers.emplace_back("x-amz-security-token");
    o.signed_headers.emplace_back("x-amz-target");
    auth::sign_in_place(r, credentials, o);
  };
}

// The call with its retries. `endpoint`, `rng` and `idle` outlive the coroutine (they belong to
// the SsmApi or to call_ssm's frame); it runs on `executor`, where `idle` is used.
asio::awaitable<SsmResult> send_with_retries(asio::any_io_executor executor, const SsmEndpoint& endpoint,
                                             std::mt19937_64& rng, Idle& idle, std::string operation,
                                             std::string json_body) {
  SsmResult result;
  for (int attempt = 0;; ++attempt) {
    result = SsmResult{};
    result.attempts = attempt + 1;
    std::optional<auth::Credentials> credentials;
    if (endpoint.credentials) credentials = endpoint.credentials();
    if (!credentials) {
      result.error = "no AWS credentials (environment or shared credentials file)";
      co_return result;
    }
    std::unique_ptr<mocksvc::net::HttpClient> client;
    if (!idle.empty()) {
      client = std::move(idle.back());
      idle.pop_back();
    } else {
      client = std::make_unique<mocksvc::net::HttpClient>(executor, endpoint.url, endpoint.tls);
    }
    auto sent = co_await client->send(make_request(operation, json_body, endpoint.user_agent),
                                      ssm_signer(*credentials, endpoint.region), endpoint.timeout);
    if (sent) {
      result.status = sent->status;
      result.body = std::move(sent->body);
      if (result.status != 200) result.error = aws_error_code(result.body, sent->header("x-amzn-ErrorType"));
      if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(client));
    } else {
      result.error = sent.error();
    }
    if (result.ok() || !is_retryable(result) || attempt >= endpoint.retry.max_retries) co_return result;
    const auto delay = retry_delay(endpoint.retry, attempt, rng);
    mocksvc::base::log(LogLevel::debug, kLog, operation, " attempt ", attempt + 1, " failed (",
                       result.status == 0 ? result.error : std::to_string(result.status) + " " + result.error,
                       "), retrying in ", delay.count(), " ms");
    asio::steady_timer timer(executor, delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

std::mt19937_64 make_rng(const std::optional<std::uint64_t>& seed) {
  return std::mt19937_64(seed ? *seed : std::random_device{}());
}

std::string session_id_body(const std::string& session_id) {
  return json{{"SessionId", session_id}}.dump();
}

std::string describe(const SsmResult& r) {
  if (r.status == 0) return r.error;
  return "HTTP " + std::to_string(r.status) + (r.error.empty() ? "" : " " + r.error);
}

}  // namespace

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry, std::mt19937_64& rng) {
  const auto lo = policy.delay_min.count();
  const auto hi = std::max(policy.delay_max.count(), lo + 1);
  std::uniform_int_distribution<std::int64_t> jitter(lo, hi - 1);
  const int shift = std::clamp(retry, 0, 30);
  return std::chrono::milliseconds(jitter(rng) << shift);
}

std::string aws_error_code(std::string_view body, std::optional<std::string_view> error_type_header) {
  std::string code;
  if (error_type_header && !error_type_header->empty()) {
    code = std::string(*error_type_header);
  } else {
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_object()) {
      for (const char* key : {"__type", "code", "Code"}) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) {
          code = it->get<std::string>();
          break;
        }
      }
    }
  }
  if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
  if (auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  return code;
}

bool is_retryable(const SsmResult& r) {
  if (r.ok()) return false;
  if (r.status == 0 || r.status == 429 || (r.status >= 500 && r.status != 501)) return true;
  for (auto code : kRetryableCodes)
    if (r.error == code) return true;
  return false;
}

// ---- SsmApi -------------------------------------------------------------------------------

std::shared_ptr<SsmApi> SsmApi::create(asio::any_io_executor executor, SsmEndpoint endpoint) {
  return std::shared_ptr<SsmApi>(new SsmApi(asio::make_strand(executor), std::move(endpoint)));
}

SsmApi::SsmApi(asio::any_io_executor strand, SsmEndpoint endpoint)
    : strand_(std::move(strand)), endpoint_(std::move(endpoint)), rng_(make_rng(endpoint_.seed)) {}

SsmApi::~SsmApi() = default;

asio::awaitable<SsmResult> SsmApi::call_with_retries(std::string operation, std::string json_body) {
  SsmResult r = co_await send_with_retries(strand_, endpoint_, rng_, idle_, std::move(operation), std::move(json_body));
  co_return r;
}

void SsmApi::call(std::string operation, std::string json_body, asio::any_io_executor done_executor,
                  std::function<void(SsmResult)> done) {
  asio::co_spawn(
      strand_,
      [self = shared_from_this(), operation = std::move(operation), json_body = std::move(json_body)]() mutable {
        return self->call_with_retries(std::move(operation), std::move(json_body));
      },
      asio::bind_executor(done_executor, [done = std::move(done)](std::exception_ptr e, SsmResult r) {
        if (e) {
          r = SsmResult{};
          r.error = "the call failed unexpectedly";
        }
        if (done) done(std::move(r));
      }));
}

asio::awaitable<SsmResult> SsmApi::call(std::string operation, std::string json_body) {
  SsmResult r = co_await asio::co_spawn(
      strand_,
      [self = shared_from_this(), operation = std::move(operation), json_body = std::move(json_body)]() mutable {
        return self->call_with_retries(std::move(operation), std::move(json_body));
      },
      asio::use_awaitable);
  co_return r;
}

asio::awaitable<SsmResult> call_ssm(asio::any_io_executor executor, SsmEndpoint endpoint, std::string operation,
                                    std::string json_body) {
  std::mt19937_64 rng = make_rng(endpoint.seed);
  Idle idle;
  SsmResult r = co_await send_with_retries(executor, endpoint, rng, idle, std::move(operation), std::move(json_body));
  co_return r;
}

// ---- the engine's control plane -----------------------------------------------------------

mocksvc::client::ControlPlane make_control_plane(std::shared_ptr<SsmApi> api, asio::any_io_executor session_strand) {
  using mocksvc::client::ResumeResult;
  mocksvc::client::ControlPlane cp;
  cp.resume_session = [api, session_strand](const std::string& session_id, std::function<void(ResumeResult)> done) {
    api->call("ResumeSession", session_id_body(session_id), session_strand,
              [session_id, done = std::move(done)](SsmResult r) {
                ResumeResult out;
                json j = r.ok() ? json::parse(r.body, nullptr, false) : json();
                if (!r.ok() || !j.is_object()) {
                  mocksvc::base::log(LogLevel::info, kLog, session_id, ": ResumeSession failed: ",
                                     r.ok() ? "the response is not a JSON object" : describe(r));
                  out.call_failed = true;
                } else {
                  if (auto it = j.find("TokenValue"); it != j.end() && it->is_string())
                    out.token_value = it->get<std::string>();
                  if (auto it = j.find("StreamUrl"); it != j.end() && it->is_string())
                    out.stream_url = it->get<std::string>();
                }
                if (done) done(std::move(out));
              });
  };
  cp.terminate_session = [api, session_strand](const std::string& session_id) {
    api->call("TerminateSession", session_id_body(session_id), session_strand, [session_id](SsmResult r) {
      if (!r.ok())
        mocksvc::base::log(LogLevel::info, kLog, session_id, ": TerminateSession failed: ", describe(r));
    });
  };
  return cp;
}

}  // namespace ssmh::plugin
