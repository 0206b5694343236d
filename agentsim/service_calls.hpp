// The agent's HTTP calls as coroutines: AWS JSON 1.1 calls to the SSM API and ec2messages
// (signed with SigV4, with the on-prem RSA signature, or not at all) and the ssmmessages REST
// calls that fetch a channel token (agent.md §1, §3, §7, §9.2). Each call uses a connection of
// its own, closed afterwards, so an idle simulated agent holds no HTTP connection.
//
// The coroutines run on the awaiting coroutine's executor (the agent's or session's strand).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "agentsim/rsa_key.hpp"
#include "mocksvc/auth/request.hpp"

namespace boost::asio::ssl {
class context;
}

namespace ssmh::agentsim {

// Where the fleet's calls go; shared read-only by every agent.
struct Endpoint {
  std::string url;      // scheme://host[:port] for the SSM API, ec2messages and ssmmessages REST
  std::string ws_base;  // ws[s]://host[:port] for the two WebSockets
  std::shared_ptr<boost::asio::ssl::context> tls;  // https/wss trust; null: the system store
  std::string region;
  std::string sdk_user_agent;  // User-Agent of the SDK calls
  std::chrono::milliseconds timeout{15000};
};

// "aws-sdk-go/1.51.20 (go1.22.8; linux; amd64) amazon-ssm-agent/<version>" (agent.md §7).
std::string sdk_user_agent(std::string_view agent_version);

struct CallResult {
  int status = 0;      // 0: no response (connect, TLS, timeout)
  std::string body;
  std::string error;   // the AWS error code of a non-200 answer, or what failed
  bool ok() const { return status == 200; }
};

// Adds the authentication headers to a request that is otherwise ready to send.
using Signer = std::function<Outcome<void>(mocksvc::auth::HttpRequest&)>;

// SigV4 as aws-sdk-go signs a JSON call: content-length;content-type;host;x-amz-date;
// [x-amz-security-token;]x-amz-target, for `service` ("ssm", "ec2messages").
Signer sigv4_json_signer(mocksvc::auth::Credentials credentials, std::string region, std::string service);
// The on-prem RSA-PSS variant (rsa_key.hpp), for RequestManagedInstanceRoleToken and
// UpdateManagedInstancePublicKey.
Signer rsa_signer(std::shared_ptr<const RsaKey> key, std::string instance_id, std::string region);

// POST / with X-Amz-Target `target` ("AmazonSSM.UpdateInstanceInformation"); an empty signer
// sends the request unsigned (RegisterManagedInstance).
boost::asio::awaitable<CallResult> call_json(const Endpoint& endpoint, std::string target, std::string body,
                                             Signer sign);

// CreateControlChannel / CreateDataChannel: POST `path` with `body`, SigV4 for ssmmessages over
// content-type;host;x-amz-date[;x-amz-security-token]. Only 201 with an XML TokenValue is
// success; anything else is "unexpected response from the service <body>", as the agent
// words it (§1), so callers can look for "<AccessDeniedException>" or "Session is already
// terminated" in it.
boost::asio::awaitable<Outcome<std::string>> fetch_channel_token(const Endpoint& endpoint,
                                                                 const mocksvc::auth::Credentials& credentials,
                                                                 std::string path, std::string body);

// What gorilla/websocket and Go's HTTP client send as User-Agent (agent.md §1, §2.2).
inline constexpr std::string_view kGoUserAgent = "Go-http-client/1.1";

// The SigV4 upgrade signature of the channel WebSockets: host;x-amz-date[;x-amz-security-token]
// with the empty payload hash (§2.2).
std::function<void(mocksvc::auth::HttpRequest&)> websocket_signer(mocksvc::auth::Credentials credentials,
                                                                  std::string region);

}  // namespace ssmh::agentsim
