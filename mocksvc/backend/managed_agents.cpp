#include "mocksvc/backend/managed_agents.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <random>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/rsa_key.hpp"
#include "mocksvc/backend/text_codec.hpp"
#include "mocksvc/base/hex.hpp"

namespace mocksvc::backend {
namespace {

// ---- The errors of this file, worded once ----

// The channel calls answer AccessDeniedException with 403 (the agent matches the element name,
// agent.md §1); the text follows IAM's "User: ... is not authorized to perform: ..." form.
AwsError channel_denied(const Caller& caller, std::string_view action, std::string_view resource,
                        std::string_view why) {
  return AwsError("AccessDeniedException",
                  "User: " + caller.arn +
                      " is not authorized to perform: ssmmessages:" + std::string(action) +
                      " on resource: " + std::string(resource) + " (" + std::string(why) + ")",
                  403);
}
AwsError session_terminated() {
  return AwsError("BadRequest", "Session is already terminated", 400);
}
AwsError unknown_session(std::string_view session_id) {
  return AwsError("BadRequest", "Session " + std::string(session_id) + " does not exist.", 400);
}
AwsError invalid_activation() {
  return AwsError("InvalidActivation",
                  "The activation isn't valid. The activation might have been deleted, or the "
                  "ActivationId and the ActivationCode don't match.",
                  400);
}
AwsError invalid_activation_id() {
  return AwsError("InvalidActivationId",
                  "The activation ID isn't valid. Verify that you entered the correct "
                  "ActivationId or ActivationCode and try again.",
                  400);
}
AwsError activation_expired() {
  return AwsError("ActivationExpired", "The activation has expired.", 400);
}
AwsError registration_limit_exceeded() {
  return AwsError("RegistrationLimitExceeded", "The activation has reached its registration limit.",
                  400);
}
AwsError invalid_public_key(std::string_view why) {
  return AwsError("InvalidPublicKey", std::string(why), 400);
}
AwsError fingerprint_mismatch() {
  return AwsError("MachineFingerprintDoesNotMatch",
                  "The machine fingerprint does not match the registered fingerprint.", 400);
}
AwsError not_registered(std::string_view instance_id) {
  return AwsError::invalid_instance_id("Instance Id " + std::string(instance_id) +
                                       " is not a registered managed instance.");
}

std::string instance_arn(std::string_view account, std::string_view region,
                         std::string_view instance_id) {
  return "arn:aws:ssm:" + std::string(region) + ":" + std::string(account) + ":" +
         (instance_id.rfind("mi-", 0) == 0 ? "managed-instance/" : "instance/") +
         std::string(instance_id);
}

struct TokenRecord {
  std::string value;
  std::string owner;  // the instance the token was issued to
  TimePoint expires_at{};
};

struct Activation {
  ActivationInfo info;
  std::string code;
  std::string account_id;
  std::string region;
};

struct Registration {
  std::string public_key;
  std::string fingerprint;
  std::string iam_role;
};

struct RoleCredential {
  RoleCredentials creds;
  std::string instance_id;
  std::string account_id;
  std::string iam_role;
};

// Keeps the newest `limit` tokens and drops expired ones.
void push_token(std::deque<TokenRecord>& tokens, TokenRecord record, TimePoint now,
                std::size_t limit) {
  std::erase_if(tokens, [&](const TokenRecord& t) { return t.expires_at <= now; });
  tokens.push_back(std::move(record));
  while (tokens.size() > limit) tokens.pop_front();
}

bool has_token(const std::deque<TokenRecord>& tokens, std::string_view value,
               std::string_view owner, TimePoint now) {
  return !value.empty() && std::any_of(tokens.begin(), tokens.end(), [&](const TokenRecord& t) {
    return t.value == value && t.owner == owner && now < t.expires_at;
  });
}

bool matches_any(const std::vector<std::string>& values, const std::string& field) {
  return std::find(values.begin(), values.end(), field) != values.end();
}

}  // namespace

struct ManagedAgents::State {
  bool auto_register = true;
  std::chrono::minutes token_ttl{60};

  mutable std::mutex mu;
  std::mt19937_64 rng;
  std::map<std::string, std::deque<TokenRecord>, std::less<>> control_tokens;  // by instance
  std::map<std::string, std::deque<TokenRecord>, std::less<>> data_tokens;     // by session
  std::map<std::string, Activation, std::less<>> activations;                  // by id
  std::map<std::string, Registration, std::less<>> registrations;              // by instance
  std::map<std::string, RoleCredential, std::less<>> credentials;              // by access key

  std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t v = rng();
      for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
    }
    return out;
  }
  std::string random_from(std::string_view alphabet, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[rng() % alphabet.size()];
    return out;
  }
  std::string random_hex(std::size_t digits) {
    std::string h = base::to_hex(random_bytes((digits + 1) / 2));
    h.resize(digits);
    return h;
  }
  std::string new_token() { return base64url_encode(random_bytes(48)); }
  std::string new_uuid() {
    std::string b = random_bytes(16);
    b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
    std::string h = base::to_hex(b);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20);
  }

  void prune_credentials(TimePoint now, std::string_view instance_id) {
    std::erase_if(credentials, [&](const auto& e) { return e.second.creds.expires_at <= now; });
    std::vector<std::pair<TimePoint, std::string>> mine;
    for (const auto& [key, c] : credentials) {
      if (c.instance_id == instance_id) mine.emplace_back(c.creds.expires_at, key);
    }
    std::sort(mine.begin(), mine.end());
    for (std::size_t i = 0; i + kMaxRoleCredentials < mine.size(); ++i) {
      credentials.erase(mine[i].second);
    }
  }
};

ManagedAgents::ManagedAgents(Backend& backend, const BackendConfig& config)
    : backend_(backend), state_(std::make_unique<State>()) {
  state_->auto_register = config.auto_register_agents;
  state_->token_ttl = config.token_ttl;
  if (config.seed) {
    // Distinct from the Backend's own stream, still reproducible.
    state_->rng.seed(*config.seed ^ 0x6d616e6167656461ULL);
  } else {
    std::random_device rd;
    state_->rng.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  }
}

ManagedAgents::~ManagedAgents() = default;

// ---- Channel tokens ----

Result<std::string> ManagedAgents::create_control_channel(const Caller& caller,
                                                          std::string_view instance_id) {
  const std::string id(instance_id);
  const std::string resource = instance_arn(caller.account_id, caller.region, id);
  auto deny = [&](std::string_view why) {
    return channel_denied(caller, "CreateControlChannel", resource, why);
  };
  if (auto bound = instance_for_key(caller.access_key_id); bound && *bound != id) {
    return deny("the credentials belong to " + *bound);
  }
  auto inst = backend_.find_instance(id);
  if (!inst) {
    auto adopted = adopt_unknown_instance(caller, id);
    if (!adopted) return deny(adopted.error());
    inst = std::move(*adopted);
  }
  if (inst->spec.kind != InstanceKind::agent) {
    return deny(
        "it is a virtual instance served by the built-in agent; give it kind \"agent\" "
        "to connect a real one");
  }
  if (!backend_.accept_any_credentials() &&
      (inst->spec.account_id != caller.account_id || inst->spec.region != caller.region)) {
    return deny("the instance is not in this account and region");
  }
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  std::string token = state_->new_token();
  push_token(state_->control_tokens[id], {token, id, now + state_->token_ttl}, now,
             kMaxChannelTokens);
  return token;
}

boost::system::result<InstanceInfo, std::string> ManagedAgents::adopt_unknown_instance(
    const Caller& caller, std::string_view instance_id) {
  using R = boost::system::result<InstanceInfo, std::string>;
  const std::string id(instance_id);
  if (!state_->auto_register) return R(boost::system::in_place_error, "no such managed instance");
  if (!is_valid_instance_id(id)) {
    return R(boost::system::in_place_error,
             "an instance id is i- followed by 8 or 17 lower-case hex digits, or mi- followed by 17");
  }
  InstanceSpec spec;
  spec.instance_id = id;
  spec.account_id = caller.account_id;
  spec.region = caller.region;
  spec.kind = InstanceKind::agent;
  auto added = backend_.add_instance(spec);
  // Two first contacts may race: the loser finds the winner's record.
  auto inst = added ? std::optional<InstanceInfo>(*added) : backend_.find_instance(id);
  if (!inst) return R(boost::system::in_place_error, "the instance could not be registered");
  return *inst;
}

bool ManagedAgents::check_control_channel_token(std::string_view instance_id,
                                                std::string_view token) const {
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  auto it = state_->control_tokens.find(instance_id);
  return it != state_->control_tokens.end() && has_token(it->second, token, instance_id, now);
}

Result<std::string> ManagedAgents::create_data_channel(const Caller& caller,
                                                       std::string_view session_id) {
  auto session = backend_.find_session(session_id);
  if (!session) return unknown_session(session_id);
  const std::string resource = "arn:aws:ssm:" + session->region + ":" + session->account_id +
                               ":session/" + session->session_id;
  auto deny = [&](std::string_view why) {
    return channel_denied(caller, "CreateDataChannel", resource, why);
  };
  if (!backend_.accept_any_credentials() &&
      (session->account_id != caller.account_id || session->region != caller.region)) {
    return deny("the session is not in this account and region");
  }
  if (auto bound = instance_for_key(caller.access_key_id); bound && *bound != session->target) {
    return deny("the session's target is " + session->target + ", the credentials belong to " +
                *bound);
  }
  if (session->target_kind != InstanceKind::agent) {
    return deny("its target is a virtual instance served by the built-in agent");
  }
  if (!is_active(session->status) || session->status == SessionStatus::terminating) {
    return session_terminated();
  }
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  // Tokens of sessions long gone expire here rather than piling up.
  for (auto it = state_->data_tokens.begin(); it != state_->data_tokens.end();) {
    std::erase_if(it->second, [&](const TokenRecord& t) { return t.expires_at <= now; });
    it = it->second.empty() ? state_->data_tokens.erase(it) : std::next(it);
  }
  std::string token = state_->new_token();
  push_token(state_->data_tokens[session->session_id],
             {token, session->target, now + state_->token_ttl}, now, kMaxChannelTokens);
  return token;
}

bool ManagedAgents::check_data_channel_token(std::string_view session_id, std::string_view token,
                                             std::string_view instance_id) const {
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  auto it = state_->data_tokens.find(session_id);
  return it != state_->data_tokens.end() && has_token(it->second, token, instance_id, now);
}

// ---- Activations ----

Result<ActivationCredentials> ManagedAgents::create_activation(
    const Caller& caller, const CreateActivationRequest& request) {
  TimePoint now = backend_.now();
  if (request.iam_role.empty()) {
    return AwsError::validation(
        "1 validation error detected: Value null at 'iamRole' failed to satisfy constraint: "
        "Member must not be null");
  }
  if (request.registration_limit < 1 || request.registration_limit > kMaxRegistrationLimit) {
    return AwsError::validation("RegistrationLimit must be 1 to " +
                                std::to_string(kMaxRegistrationLimit) + ".");
  }
  TimePoint expires = request.expiration_date.value_or(now + kDefaultActivationLifetime);
  if (expires <= now || expires > now + kMaxActivationLifetime) {
    return AwsError::validation(
        "ExpirationDate must be in the future and at most 30 days from now.");
  }
  Activation a;
  a.info.description = request.description;
  a.info.default_instance_name = request.default_instance_name;
  a.info.iam_role = request.iam_role;
  a.info.registration_limit = request.registration_limit;
  a.info.expiration_date = expires;
  a.info.created_date = now;
  a.info.tags = request.tags;
  a.account_id = caller.account_id;
  a.region = caller.region;
  std::lock_guard lock(state_->mu);
  do {
    a.info.activation_id = state_->new_uuid();
  } while (state_->activations.count(a.info.activation_id));
  // Real codes are 20 characters of the base64 alphabet, e.g. "Fjz3/sZfSvv78EXAMPLE".
  a.code =
      state_->random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 20);
  ActivationCredentials out{a.info.activation_id, a.code};
  state_->activations.emplace(a.info.activation_id, std::move(a));
  return out;
}

Result<ActivationPage> ManagedAgents::describe_activations(
    const Caller& caller, const DescribeActivationsRequest& request) const {
  constexpr std::string_view kCursor = "activations\n";
  const int max = std::clamp(request.max_results.value_or(50), 1, 50);
  std::string after;
  if (!request.next_token.empty()) {
    auto raw = base64url_decode(request.next_token);
    if (!raw || raw->rfind(kCursor, 0) != 0) return AwsError::invalid_next_token();
    after = raw->substr(kCursor.size());
  }
  for (const auto& f : request.filters) {
    if (f.key != "ActivationIds" && f.key != "DefaultInstanceName" && f.key != "IamRole") {
      return AwsError::validation("The filter key " + f.key + " is not valid.");
    }
  }
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  ActivationPage page;
  bool more = false;
  for (auto it = after.empty() ? state_->activations.begin()
                               : state_->activations.upper_bound(after);
       it != state_->activations.end(); ++it) {
    const Activation& a = it->second;
    if (a.account_id != caller.account_id || a.region != caller.region) continue;
    bool ok = std::all_of(request.filters.begin(), request.filters.end(), [&](const auto& f) {
      if (f.key == "ActivationIds") return matches_any(f.values, a.info.activation_id);
      if (f.key == "DefaultInstanceName")
        return matches_any(f.values, a.info.default_instance_name);
      return matches_any(f.values, a.info.iam_role);
    });
    if (!ok) continue;
    if (static_cast<int>(page.activations.size()) == max) {
      more = true;
      break;
    }
    ActivationInfo info = a.info;
    info.expired = now >= info.expiration_date;
    page.activations.push_back(std::move(info));
  }
  if (more) {
    page.next_token =
        base64url_encode(std::string(kCursor) + page.activations.back().activation_id);
  }
  return page;
}

Result<void> ManagedAgents::delete_activation(const Caller& caller,
                                              std::string_view activation_id) {
  std::lock_guard lock(state_->mu);
  auto it = state_->activations.find(activation_id);
  if (it == state_->activations.end() || it->second.account_id != caller.account_id ||
      it->second.region != caller.region) {
    return invalid_activation_id();
  }
  state_->activations.erase(it);
  return {};
}

// ---- Registration and credentials ----

Result<std::string> ManagedAgents::register_managed_instance(const RegisterInstanceRequest& r) {
  if (!r.public_key_type.empty() && r.public_key_type != "Rsa") {
    return invalid_public_key("PublicKeyType must be Rsa.");
  }
  if (auto problem = rsa_public_key_problem(r.public_key)) return invalid_public_key(*problem);
  TimePoint now = backend_.now();
  InstanceSpec spec;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->activations.find(r.activation_id);
    if (it == state_->activations.end() || it->second.code != r.activation_code) {
      return invalid_activation();
    }
    ActivationInfo& a = it->second.info;
    if (now >= a.expiration_date) return activation_expired();
    if (a.registrations_count >= a.registration_limit) return registration_limit_exceeded();
    ++a.registrations_count;  // reserved now, returned if the instance cannot be added
    spec.account_id = it->second.account_id;
    spec.region = it->second.region;
    spec.name = a.default_instance_name;
    spec.iam_role = a.iam_role;
    spec.activation_id = a.activation_id;
    spec.tags = a.tags;
  }
  for (const Tag& t : r.tags) {
    auto same = std::find_if(spec.tags.begin(), spec.tags.end(),
                             [&](const Tag& s) { return s.key == t.key; });
    if (same != spec.tags.end()) {
      same->value = t.value;
    } else {
      spec.tags.push_back(t);
    }
  }
  spec.kind = InstanceKind::agent;
  spec.registration_date = now;
  for (int attempt = 0; attempt < 8; ++attempt) {
    {
      std::lock_guard lock(state_->mu);
      spec.instance_id = "mi-" + state_->random_hex(17);
    }
    auto added = backend_.add_instance(spec);
    if (added) {
      std::lock_guard lock(state_->mu);
      state_->registrations[spec.instance_id] = {r.public_key, r.fingerprint, spec.iam_role};
      return spec.instance_id;
    }
    if (added.error().code != "conflict") break;
  }
  std::lock_guard lock(state_->mu);
  if (auto it = state_->activations.find(r.activation_id); it != state_->activations.end()) {
    --it->second.info.registrations_count;
  }
  return AwsError::internal_server_error("The instance could not be registered.");
}

Result<void> ManagedAgents::verify_instance_signature(std::string_view instance_id,
                                                      std::string_view string_to_sign,
                                                      std::string_view base64_signature) const {
  std::string key;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->registrations.find(instance_id);
    if (it == state_->registrations.end()) return AwsError::unrecognized_client();
    key = it->second.public_key;
  }
  if (!verify_rsa_pss_sha256(key, string_to_sign, base64_signature)) {
    return AwsError::invalid_signature();
  }
  return {};
}

Result<RoleCredentials> ManagedAgents::request_role_token(std::string_view instance_id,
                                                          std::string_view fingerprint) {
  auto inst = backend_.find_instance(instance_id);
  if (!inst) return not_registered(instance_id);
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  auto reg = state_->registrations.find(instance_id);
  if (reg == state_->registrations.end()) return not_registered(instance_id);
  if (reg->second.fingerprint != fingerprint) return fingerprint_mismatch();
  RoleCredential c;
  c.instance_id = std::string(instance_id);
  c.account_id = inst->spec.account_id;
  c.iam_role = reg->second.iam_role;
  do {
    // Temporary keys start ASIA, then 16 characters of base32.
    c.creds.access_key_id = "ASIA" + state_->random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
  } while (state_->credentials.count(c.creds.access_key_id));
  c.creds.secret_access_key = base64_encode(state_->random_bytes(30));
  c.creds.session_token = base64_encode(state_->random_bytes(240));
  // Whole seconds: the agent reads TokenExpirationDate as epoch seconds.
  c.creds.expires_at = std::chrono::floor<std::chrono::seconds>(now + kRoleCredentialLifetime);
  c.creds.update_key_pair = false;
  RoleCredentials out = c.creds;
  state_->credentials.emplace(c.creds.access_key_id, std::move(c));
  state_->prune_credentials(now, instance_id);
  return out;
}

Result<void> ManagedAgents::update_public_key(std::string_view instance_id,
                                              std::string_view public_key,
                                              std::string_view public_key_type) {
  if (public_key_type != "Rsa") return invalid_public_key("NewPublicKeyType must be Rsa.");
  if (auto problem = rsa_public_key_problem(public_key)) return invalid_public_key(*problem);
  std::lock_guard lock(state_->mu);
  auto it = state_->registrations.find(instance_id);
  if (it == state_->registrations.end()) return not_registered(instance_id);
  it->second.public_key = std::string(public_key);
  return {};
}

std::optional<Account> ManagedAgents::find_credentials(std::string_view access_key_id) const {
  TimePoint now = backend_.now();
  std::lock_guard lock(state_->mu);
  auto it = state_->credentials.find(access_key_id);
  if (it == state_->credentials.end() || now >= it->second.creds.expires_at) return std::nullopt;
  const RoleCredential& c = it->second;
  Account a;
  a.access_key_id = c.creds.access_key_id;
  a.secret_access_key = c.creds.secret_access_key;
  a.session_token = c.creds.session_token;
  a.account_id = c.account_id;
  a.user_name = c.instance_id;
  a.arn = "arn:aws:sts::" + c.account_id + ":assumed-role/" +
          (c.iam_role.empty() ? std::string("SSMServiceRole") : c.iam_role) + "/" + c.instance_id;
  return a;
}

std::optional<std::string> ManagedAgents::instance_for_key(std::string_view access_key_id) const {
  if (access_key_id.empty()) return std::nullopt;
  std::lock_guard lock(state_->mu);
  auto it = state_->credentials.find(access_key_id);
  if (it == state_->credentials.end()) return std::nullopt;
  return it->second.instance_id;
}

void ManagedAgents::reset() {
  std::lock_guard lock(state_->mu);
  state_->control_tokens.clear();
  state_->data_tokens.clear();
  state_->activations.clear();
  state_->registrations.clear();
  state_->credentials.clear();
}

}  // namespace mocksvc::backend
