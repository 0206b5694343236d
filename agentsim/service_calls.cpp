#include "agentsim/service_calls.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agentsim/ssm_bodies.hpp"
#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/net/http_client.hpp"
#include "mocksvc/wire/channel_xml.hpp"

namespace ssmh::agentsim {

namespace asio = boost::asio;
namespace auth = mocksvc::auth;

namespace {

// The JSON 1.1 protocol's content type (agent.md §7).
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
constexpr int kChannelTokenStatus = 201;

// A transport failure or a refused signature, as a CallResult with no status.
CallResult failed(std::string why) {
  CallResult r;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::string sdk_user_agent(std::string_view agent_version) {
  return "aws-sdk-go/1.51.20 (go1.22.8; linux; amd64) amazon-ssm-agent/" + std::string(agent_version);
}

Signer sigv4_json_signer(auth::Credentials credentials, std::string region, std::string service) {
  return [credentials = std::move(credentials), region = std::move(region),
          service = std::move(service)](auth::HttpRequest& r) -> Outcome<void> {
    auth::SignOptions o;
    o.service = service;
    o.region = region;
    o.now = auth::Clock::now();
    o.signed_headers = {"content-length", "content-type", "host", "x-amz-date", "x-amz-target"};
    if (!credentials.session_token.empty()) o.signed_headers.emplace_back("x-amz-security-token");
    auth::sign_in_place(r, credentials, o);
    return {};
  };
}

Signer rsa_signer(std::shared_ptr<const RsaKey> key, std::string instance_id, std::string region) {
  return [key = std::move(key), instance_id = std::move(instance_id),
          region = std::move(region)](auth::HttpRequest& r) -> Outcome<void> {
    return sign_with_rsa(r, *key, instance_id, region, auth::Clock::now());
  };
}

std::function<void(auth::HttpRequest&)> websocket_signer(auth::Credentials credentials, std::string region) {
  return [credentials = std::move(credentials), region = std::move(region)](auth::HttpRequest& r) {
    auth::SignOptions o;
    o.service = "ssmmessages";
    o.region = region;
    o.now = auth::Clock::now();
    o.signed_headers = {"host", "x-amz-date"};
    if (!credentials.session_token.empty()) o.signed_headers.emplace_back("x-amz-security-token");
    auth::sign_in_place(r, credentials, o);
  };
}

asio::awaitable<CallResult> call_json(const Endpoint& endpoint, std::string target, std::string body, Signer sign) {
  auto executor = co_await asio::this_coro::executor;
  mocksvc::net::HttpClient client(executor, endpoint.url, endpoint.tls);
  auth::HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.headers.emplace_back("Content-Type", std::string(kJsonContentType));
  request.headers.emplace_back("User-Agent", endpoint.sdk_user_agent);
  request.headers.emplace_back("X-Amz-Target", std::move(target));
  request.body = std::move(body);
  std::string sign_error;
  std::function<void(auth::HttpRequest&)> signer = [&sign, &sign_error](auth::HttpRequest& r) {
    if (!sign) return;
    if (auto signed_ok = sign(r); !signed_ok) sign_error = signed_ok.error();
  };
  auto response = co_await client.send(std::move(request), std::move(signer), endpoint.timeout);
  if (!sign_error.empty()) co_return failed("signing failed: " + sign_error);
  if (!response) co_return failed(response.error());
  CallResult r;
  r.status = response->status;
  r.body = std::move(response->body);
  if (r.status != 200) {
    r.error = json_error_code(r.body);
    if (r.error.empty()) r.error = "HTTP " + std::to_string(r.status);
  }
  co_return r;
}

asio::awaitable<Outcome<std::string>> fetch_channel_token(const Endpoint& endpoint, const auth::Credentials& credentials,
                                                          std::string path, std::string body) {
  auto executor = co_await asio::this_coro::executor;
  mocksvc::net::HttpClient client(executor, endpoint.url, endpoint.tls);
  auth::HttpRequest request;
  request.method = "POST";
  request.target = std::move(path);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("User-Agent", std::string(kGoUserAgent));
  request.body = std::move(body);
  std::function<void(auth::HttpRequest&)> signer = [&credentials, &endpoint](auth::HttpRequest& r) {
    auth::SignOptions o;
    o.service = "ssmmessages";
    o.region = endpoint.region;
    o.now = auth::Clock::now();
    o.signed_headers = {"content-type", "host", "x-amz-date"};
    if (!credentials.session_token.empty()) o.signed_headers.emplace_back("x-amz-security-token");
    auth::sign_in_place(r, credentials, o);
  };
  auto response = co_await client.send(std::move(request), std::move(signer), endpoint.timeout);
  if (!response) co_return failure<std::string>(response.error());
  if (response->status != kChannelTokenStatus)
    co_return failure<std::string>("unexpected response from the service " + response->body);
  auto reply = mocksvc::wire::parse_channel_token_reply(response->body);
  if (!reply || reply->token_value.empty())
    co_return failure<std::string>("failed to unmarshal the channel token response: " + response->body);
  co_return success(std::move(reply->token_value));
}

}  // namespace ssmh::agentsim
