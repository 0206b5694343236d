#include "tests/agentsim/fake_service.hpp"

#include <nlohmann/json.hpp>

#include "agentsim/rsa_key.hpp"
#include "mocksvc/auth/verify.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/channel_xml.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "tests/agentsim/test_util.hpp"

namespace ssmh::agentsim::testing {

namespace auth = mocksvc::auth;
namespace wire = mocksvc::wire;
namespace broker = mocksvc::broker;
using json = nlohmann::json;

struct FakeService::State {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<Recorded> requests;
  std::vector<std::shared_ptr<FakeChannel>> controls;
  std::vector<std::shared_ptr<FakeChannel>> datas;
  std::map<std::string, auth::Credentials> temporary;  // issued role tokens by key id
  std::map<std::string, std::string> public_keys;      // instance id -> base64 PKIX
  std::string registered;
  int next_token = 0;
  int cc_failures = 0;
  int cc_fail_status = 500;
  std::string cc_fail_body;
  int dc_failures = 0;
  int dc_fail_status = 400;
  std::string dc_fail_body;
  bool update_key_pair = false;
  std::chrono::seconds token_lifetime{3600};
  bool auto_ack = true;
  bool ack_task_complete = true;

  std::uint64_t version = 0;  // bumped by every event, so waiters can check predicates unlocked

  void notify() {
    ++version;
    cv.notify_all();
  }

  std::optional<auth::Credentials> lookup(std::string_view key) {
    if (key == kAccessKey) return auth::Credentials{kAccessKey, kSecretKey, ""};
    auto it = temporary.find(std::string(key));
    if (it == temporary.end()) return std::nullopt;
    return it->second;
  }

  // SigV4 check for `service`; caller holds the lock.
  void check_sigv4(Recorded& r, std::string_view service) {
    auth::VerifyOptions o;
    o.now = auth::Clock::now();
    o.expected_service = std::string(service);
    o.expected_region = "us-east-1";
    auto id = auth::verify(r.request, [this](std::string_view k) { return lookup(k); }, o);
    r.signature_ok = static_cast<bool>(id);
    if (!id) r.verify_error = id.error().message;
  }

  // The on-prem RSA-PSS check; caller holds the lock. Returns the instance id.
  std::string check_rsa(Recorded& r) {
    auth::VerifyOptions o;
    o.now = auth::Clock::now();
    o.check_signature = false;
    o.expected_service = "ssm";
    auto id = auth::verify(r.request, {}, o);
    if (!id) {
      r.verify_error = id.error().message;
      return {};
    }
    auto key = public_keys.find(id->access_key_id);
    auto sig = base64_decode(id->signature);
    if (key == public_keys.end() || !sig) {
      r.verify_error = "unknown instance or signature not base64";
      return {};
    }
    r.signature_ok = verify_pss(key->second, id->string_to_sign, *sig);
    if (!r.signature_ok) r.verify_error = "RSA-PSS signature does not verify";
    return id->access_key_id;
  }
};

namespace {

mocksvc::api::HttpResponse reply(int status, std::string body, std::string type = "application/x-amz-json-1.1") {
  mocksvc::api::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(type));
  r.body = std::move(body);
  return r;
}

class ChannelInbound final : public broker::Inbound {
 public:
  ChannelInbound(std::shared_ptr<FakeService::State> state, std::shared_ptr<FakeChannel> channel, bool control)
      : state_(std::move(state)), channel_(std::move(channel)), control_(control) {}

  void on_text(std::string_view text) override {
    std::lock_guard lock(state_->mu);
    channel_->texts.emplace_back(text);
    state_->notify();
  }
  void on_binary(wire::ByteView frame) override {
    auto d = wire::decode(frame, wire::DecodeMode::strict);
    std::shared_ptr<broker::Peer> peer;
    bool auto_ack = false, ack_complete = false;
    {
      std::lock_guard lock(state_->mu);
      if (d) channel_->frames.push_back(d->message);
      peer = channel_->peer;
      auto_ack = state_->auto_ack;
      ack_complete = state_->ack_task_complete;
      state_->notify();
    }
    if (!d || !peer) return;
    const auto& m = d->message;
    if (!control_ && auto_ack && m.message_type == wire::msg::kOutputStreamData) {
      wire::Acknowledge a{std::string(wire::msg::kOutputStreamData), m.message_id.to_string(), m.sequence_number, true};
      peer->send_binary(wire::encode(wire::make_message(wire::msg::kAcknowledge, 0, wire::kFlagSyn | wire::kFlagFin,
                                                        wire::PayloadType::none, a.to_json())));
    }
    if (control_ && ack_complete && m.message_type == wire::msg::kAgentTaskComplete) {
      auto tc = wire::parse_agent_task_complete(m.payload_text());
      peer->send_binary(task_acknowledge_frame(m.message_id.to_string(), tc ? tc->task_id : ""));
    }
  }
  void on_closed(bool clean, std::string_view) override {
    std::lock_guard lock(state_->mu);
    channel_->closed = true;
    channel_->clean = clean;
    state_->notify();
  }

 private:
  std::shared_ptr<FakeService::State> state_;
  std::shared_ptr<FakeChannel> channel_;
  bool control_;
};

}  // namespace

FakeService::FakeService() : state_(std::make_shared<State>()) {
  mocksvc::net::ServerOptions options;
  mocksvc::net::ServerHandlers h;
  auto state = state_;
  h.handle = [state](const auth::HttpRequest& req, const mocksvc::api::RequestContext&) {
    std::lock_guard lock(state->mu);
    Recorded rec;
    rec.request = req;
    const std::string path(req.path());
    auto finish = [&](mocksvc::api::HttpResponse r) {
      state->requests.push_back(std::move(rec));
      state->notify();
      return r;
    };
    for (const auto& [prefix, name] : {std::pair<std::string, std::string>{"/v1/control-channel/", "CreateControlChannel"},
                                       {"/v1/data-channel/", "CreateDataChannel"}}) {
      if (path.rfind(prefix, 0) != 0) continue;
      rec.what = name;
      state->check_sigv4(rec, "ssmmessages");
      const bool control = name == "CreateControlChannel";
      int& failures = control ? state->cc_failures : state->dc_failures;
      if (failures > 0) {
        --failures;
        return finish(reply(control ? state->cc_fail_status : state->dc_fail_status,
                            control ? state->cc_fail_body : state->dc_fail_body, "application/xml"));
      }
      wire::ChannelTokenReply t;
      t.root = control ? "CreateControlChannelResponse" : "CreateDataChannelResponse";
      t.token_value = (control ? "cc-token-" : "dc-token-") + std::to_string(++state->next_token);
      return finish(reply(201, t.to_xml(), "application/xml"));
    }
    rec.what = std::string(req.header("X-Amz-Target").value_or("?"));
    json body = json::parse(req.body, nullptr, false);
    if (rec.what == "AmazonSSM.RegisterManagedInstance") {
      rec.signature_ok = !req.header("Authorization");
      if (!body.is_object() || !body.contains("PublicKey")) return finish(reply(400, R"({"__type":"ValidationException"})"));
      state->registered = "mi-0fa4e00000000000" + std::to_string(state->public_keys.size());
      state->public_keys[state->registered] = body["PublicKey"].get<std::string>();
      return finish(reply(200, json{{"InstanceId", state->registered}}.dump()));
    }
    if (rec.what == "AmazonSSM.RequestManagedInstanceRoleToken") {
      const std::string instance = state->check_rsa(rec);
      if (!rec.signature_ok) return finish(reply(400, R"({"__type":"InvalidSignatureException"})"));
      auth::Credentials c{"ASIAFAKE" + std::to_string(state->temporary.size()), "secret-" + instance,
                          "token-" + std::to_string(state->temporary.size())};
      state->temporary[c.access_key_id] = c;
      const auto expires = std::chrono::duration_cast<std::chrono::seconds>(
                               (auth::Clock::now() + state->token_lifetime).time_since_epoch())
                               .count();
      json r{{"AccessKeyId", c.access_key_id},
             {"SecretAccessKey", c.secret_access_key},
             {"SessionToken", c.session_token},
             {"TokenExpirationDate", expires},
             {"UpdateKeyPair", state->update_key_pair}};
      state->update_key_pair = false;
      return finish(reply(200, r.dump()));
    }
    if (rec.what == "AmazonSSM.UpdateManagedInstancePublicKey") {
      const std::string instance = state->check_rsa(rec);
      if (!rec.signature_ok) return finish(reply(400, R"({"__type":"InvalidSignatureException"})"));
      state->public_keys[instance] = body.value("NewPublicKey", "");
      return finish(reply(200, "{}"));
    }
    state->check_sigv4(rec, rec.what.rfind("EC2WindowsMessageDeliveryService.", 0) == 0 ? "ec2messages" : "ssm");
    return finish(reply(200, "{}"));
  };
  h.transport_error = [](int status, std::string_view why) { return reply(status, std::string(why), "text/plain"); };
  h.upgrade = [state](const auth::HttpRequest& req, const mocksvc::api::RequestContext&) {
    mocksvc::net::UpgradeDecision d;
    const std::string path(req.path());
    const bool control = path.rfind("/v1/control-channel/", 0) == 0;
    const bool data = path.rfind("/v1/data-channel/", 0) == 0;
    Recorded rec;
    rec.request = req;
    rec.what = control ? "ws control" : data ? "ws data" : "ws ?";
    {
      std::lock_guard lock(state->mu);
      state->check_sigv4(rec, "ssmmessages");
      state->requests.push_back(rec);
      state->notify();
    }
    if (!control && !data) {
      d.reject = reply(404, "{}");
      return d;
    }
    d.bind = [state, control, target = req.target](std::shared_ptr<broker::Peer> peer) {
      auto channel = std::make_shared<FakeChannel>();
      channel->path = target;
      channel->peer = peer;
      {
        std::lock_guard lock(state->mu);
        (control ? state->controls : state->datas).push_back(channel);
        state->notify();
      }
      return std::make_shared<ChannelInbound>(state, channel, control);
    };
    return d;
  };
  server_ = std::make_unique<mocksvc::net::Server>(io_.executor(), options, h);
  auto started = server_->start();
  if (!started) throw std::runtime_error(started.error());
  io_.start();
}

FakeService::~FakeService() {
  server_->stop();
  io_.stop();
  // The connections must go while their I/O context still exists.
  std::lock_guard lock(state_->mu);
  state_->controls.clear();
  state_->datas.clear();
}

std::string FakeService::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(server_->local_endpoint().port());
}

bool FakeService::wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(state_->mu);
      seen = state_->version;
    }
    // The predicate takes the lock itself (through the accessors), so it runs unlocked.
    if (pred()) return true;
    std::unique_lock lock(state_->mu);
    if (!state_->cv.wait_until(lock, deadline, [&] { return state_->version != seen; })) {
      lock.unlock();
      return pred();
    }
  }
}

std::vector<Recorded> FakeService::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->requests;
}

std::size_t FakeService::count(const std::string& what) const {
  std::lock_guard lock(state_->mu);
  std::size_t n = 0;
  for (const auto& r : state_->requests) n += r.what == what;
  return n;
}

std::size_t FakeService::control_count() const {
  std::lock_guard lock(state_->mu);
  return state_->controls.size();
}

std::size_t FakeService::data_count() const {
  std::lock_guard lock(state_->mu);
  return state_->datas.size();
}

FakeChannel FakeService::control(std::size_t i) const {
  std::lock_guard lock(state_->mu);
  return i < state_->controls.size() ? *state_->controls[i] : FakeChannel{};
}

FakeChannel FakeService::data(std::size_t i) const {
  std::lock_guard lock(state_->mu);
  return i < state_->datas.size() ? *state_->datas[i] : FakeChannel{};
}

void FakeService::send_control(std::size_t i, const wire::Bytes& frame) {
  if (auto p = control(i).peer) p->send_binary(frame);
}

void FakeService::send_data(std::size_t i, const wire::Bytes& frame) {
  if (auto p = data(i).peer) p->send_binary(frame);
}

void FakeService::close_control(std::size_t i) {
  if (auto p = control(i).peer) p->close(broker::CloseSpec{broker::CloseSpec::Kind::normal, 1001, "going away"});
}

void FakeService::close_data(std::size_t i) {
  if (auto p = data(i).peer) p->close(broker::CloseSpec{broker::CloseSpec::Kind::normal, 1001, "going away"});
}

std::string FakeService::registered_instance() const {
  std::lock_guard lock(state_->mu);
  return state_->registered;
}

std::vector<std::string> FakeService::issued_keys() const {
  std::lock_guard lock(state_->mu);
  std::vector<std::string> keys;
  for (const auto& [k, v] : state_->temporary) keys.push_back(k);
  return keys;
}

void FakeService::fail_control_channel_creates(int n, int status, std::string body) {
  std::lock_guard lock(state_->mu);
  state_->cc_failures = n;
  state_->cc_fail_status = status;
  state_->cc_fail_body = std::move(body);
}

void FakeService::fail_data_channel_creates(int n, int status, std::string body) {
  std::lock_guard lock(state_->mu);
  state_->dc_failures = n;
  state_->dc_fail_status = status;
  state_->dc_fail_body = std::move(body);
}

void FakeService::set_update_key_pair(bool on) {
  std::lock_guard lock(state_->mu);
  state_->update_key_pair = on;
}

void FakeService::set_token_lifetime(std::chrono::seconds lifetime) {
  std::lock_guard lock(state_->mu);
  state_->token_lifetime = lifetime;
}

void FakeService::set_auto_ack(bool on) {
  std::lock_guard lock(state_->mu);
  state_->auto_ack = on;
}

void FakeService::set_ack_task_complete(bool on) {
  std::lock_guard lock(state_->mu);
  state_->ack_task_complete = on;
}

wire::Bytes input_frame(std::int64_t seq, wire::PayloadType type, std::string_view payload) {
  return wire::encode(
      wire::make_message(wire::msg::kInputStreamData, seq, seq == 0 ? wire::kFlagSyn : 0, type, payload));
}

std::string output_text(const FakeChannel& channel) {
  std::map<std::int64_t, std::string> by_seq;
  for (const auto& m : channel.frames)
    if (m.message_type == wire::msg::kOutputStreamData && m.payload_type == wire::PayloadType::output)
      by_seq.emplace(m.sequence_number, std::string(m.payload_text()));
  std::string out;
  for (const auto& [seq, text] : by_seq) out += text;
  return out;
}

std::vector<std::string> session_states(const FakeChannel& channel) {
  std::vector<std::string> out;
  for (const auto& m : channel.frames)
    if (m.message_type == wire::msg::kAgentSessionState)
      if (auto s = wire::parse_agent_session_state(m.payload_text())) out.push_back(s->session_state);
  return out;
}

std::vector<std::string> task_completes(const FakeChannel& channel) {
  std::vector<std::string> out;
  for (const auto& m : channel.frames)
    if (m.message_type == wire::msg::kAgentTaskComplete) out.emplace_back(m.payload_text());
  return out;
}

}  // namespace ssmh::agentsim::testing
