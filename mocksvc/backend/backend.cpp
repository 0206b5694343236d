#include "mocksvc/backend/backend.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

#include <boost/throw_exception.hpp>

#include "mocksvc/backend/documents.hpp"
#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/backend/text_codec.hpp"
#include "mocksvc/base/hex.hpp"
#include "mocksvc/base/sha256.hpp"
#include "mocksvc/base/uuid.hpp"

namespace mocksvc::backend {

// ---- enum <-> text ----

std::string_view to_string(PingStatus s) {
  switch (s) {
    case PingStatus::online:
      return "Online";
    case PingStatus::connection_lost:
      return "ConnectionLost";
    case PingStatus::inactive:
      return "Inactive";
  }
  return "Online";
}

std::optional<PingStatus> parse_ping_status(std::string_view t) {
  if (t == "Online") return PingStatus::online;
  if (t == "ConnectionLost") return PingStatus::connection_lost;
  if (t == "Inactive") return PingStatus::inactive;
  return std::nullopt;
}

std::string_view to_string(InstanceKind k) {
  return k == InstanceKind::agent ? "agent" : "virtual";
}

std::optional<InstanceKind> parse_instance_kind(std::string_view t) {
  if (t == "virtual") return InstanceKind::virtual_instance;
  if (t == "agent") return InstanceKind::agent;
  return std::nullopt;
}

std::string_view to_string(SessionStatus s) {
  switch (s) {
    case SessionStatus::connecting:
      return "Connecting";
    case SessionStatus::connected:
      return "Connected";
    case SessionStatus::disconnected:
      return "Disconnected";
    case SessionStatus::terminating:
      return "Terminating";
    case SessionStatus::terminated:
      return "Terminated";
    case SessionStatus::failed:
      return "Failed";
  }
  return "Failed";
}

std::optional<SessionStatus> parse_session_status(std::string_view t) {
  for (auto s : {SessionStatus::connecting, SessionStatus::connected, SessionStatus::disconnected,
                 SessionStatus::terminating, SessionStatus::terminated, SessionStatus::failed}) {
    if (to_string(s) == t) return s;
  }
  return std::nullopt;
}

bool is_active(SessionStatus s) {
  return s != SessionStatus::terminated && s != SessionStatus::failed;
}

std::string_view to_string(ConnectionStatus s) {
  return s == ConnectionStatus::connected ? "Connected" : "NotConnected";
}

std::string_view to_string(TokenError e) {
  switch (e) {
    case TokenError::unknown_session:
      return "unknown session";
    case TokenError::bad_token:
      return "token not valid for this session";
    case TokenError::expired:
      return "token expired";
    case TokenError::session_terminated:
      return "Session is already terminated";
  }
  return "token refused";
}

void throw_exception_from_error(TokenError e, const boost::source_location& loc) {
  boost::throw_with_location(std::runtime_error(std::string(to_string(e))), loc);
}

bool is_valid_instance_id(std::string_view id) {
  auto hex_tail = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  if (id.rfind("i-", 0) == 0) {
    auto tail = id.substr(2);
    return (tail.size() == 8 || tail.size() == 17) && hex_tail(tail);
  }
  if (id.rfind("mi-", 0) == 0) {
    auto tail = id.substr(3);
    return tail.size() == 17 && hex_tail(tail);
  }
  return false;
}

bool is_agent_version(std::string_view v) {
  int groups = 0;
  std::size_t run = 0;
  for (char c : v) {
    if (c == '.') {
      if (run == 0) return false;
      ++groups;
      run = 0;
    } else if (c >= '0' && c <= '9') {
      if (++run > 6) return false;
    } else {
      return false;
    }
  }
  return run > 0 && (groups == 2 || groups == 3);
}

namespace {

// Tokens per session kept valid at once: every StartSession/ResumeSession adds one.
constexpr std::size_t kMaxTokensPerSession = 16;
// Session ids are at most 96 characters (botocore SessionId): prefix + '-' + 17 hex.
constexpr std::size_t kMaxPrincipalInSessionId = 96 - 18;

struct Instance {
  InstanceSpec spec;
  PingStatus admin_ping = PingStatus::online;
  bool agent_connected = false;
  TimePoint last_ping{};
  TimePoint registration_date{};
  std::string agent_name = "amazon-ssm-agent";
  std::string agent_status = "Active";
  std::string availability_zone;
  std::string ssm_connection_channel;
};

struct TokenRecord {
  std::string value;
  TimePoint expires_at;
};

struct Session {
  SessionInfo info;
  std::vector<TokenRecord> tokens;
};

PingStatus effective_ping(const Instance& i) {
  if (i.spec.kind == InstanceKind::agent && i.admin_ping == PingStatus::online) {
    return i.agent_connected ? PingStatus::online : PingStatus::connection_lost;
  }
  return i.admin_ping;
}

std::vector<long> version_parts(std::string_view v) {
  std::vector<long> out;
  long cur = 0;
  bool any = false;
  for (char c : v) {
    if (c == '.') {
      out.push_back(cur);
      cur = 0;
      any = false;
    } else if (c >= '0' && c <= '9' && cur < 100000000) {
      cur = cur * 10 + (c - '0');
      any = true;
    }
  }
  if (any || !out.empty()) out.push_back(cur);
  return out;
}

bool is_host_port(std::string_view v) {
  auto colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view port = v.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  unsigned n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

std::string stream_url(const StreamEndpoint& endpoint, std::string_view path) {
  return std::string(endpoint.tls ? "wss" : "ws") + "://" +
         (endpoint.host.empty() ? std::string("127.0.0.1") : endpoint.host) + std::string(path);
}

std::string sanitize_principal(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
    out += ok ? c : '-';
    if (out.size() == kMaxPrincipalInSessionId) break;
  }
  return out.empty() ? std::string("session") : out;
}

InstanceInfo to_info(const Instance& i, TimePoint now, std::string_view latest_agent_version) {
  InstanceInfo out;
  out.spec = i.spec;
  bool managed = i.spec.instance_id.rfind("mi-", 0) == 0;
  out.resource_type = managed ? "ManagedInstance" : "EC2Instance";
  out.source_type = managed ? "AWS::SSM::ManagedInstance" : "AWS::EC2::Instance";
  out.ping_status = effective_ping(i);
  bool live =
      i.spec.kind == InstanceKind::virtual_instance && out.ping_status == PingStatus::online;
  out.last_ping = live ? now : i.last_ping;
  out.registration_date = i.registration_date;
  out.agent_connected = i.agent_connected;
  out.is_latest_version =
      version_parts(i.spec.agent_version) >= version_parts(latest_agent_version);
  out.agent_name = i.agent_name;
  out.agent_status = i.agent_status;
  out.availability_zone = i.availability_zone;
  out.ssm_connection_channel = i.ssm_connection_channel;
  return out;
}

bool visible_to(const SessionInfo& s, const Caller& c) {
  return s.account_id == c.account_id && s.region == c.region;
}

// Events gathered under the lock and delivered after it is released.
struct Pending {
  SessionObserver* observer = nullptr;
  std::vector<SessionStart> started;
  std::vector<std::pair<std::string, std::string>> terminate;
};

void deliver(Pending& p) {
  if (!p.observer) return;
  for (const auto& s : p.started) p.observer->on_session_started(s);
  for (const auto& [id, reason] : p.terminate)
    p.observer->on_session_terminate_requested(id, reason);
}

// Checks an instance spec and fills in every default; nullopt-free so add and config agree.
Result<InstanceSpec> normalize(InstanceSpec spec, const BackendConfig& cfg, TimePoint now) {
  if (!is_valid_instance_id(spec.instance_id)) {
    return AwsError::admin_bad_request(
        "invalid_instance", "InstanceId '" + spec.instance_id +
                                "' must be i- followed by 8 or 17 lower-case hex digits, or mi- "
                                "followed by 17");
  }
  if (spec.account_id.empty()) spec.account_id = cfg.default_account_id;
  if (spec.region.empty()) spec.region = cfg.default_region;
  if (spec.platform_type != "Linux" && spec.platform_type != "Windows" &&
      spec.platform_type != "MacOS") {
    return AwsError::admin_bad_request("invalid_instance",
                                       "PlatformType must be one of Linux, Windows, MacOS");
  }
  if (!is_agent_version(spec.agent_version)) {
    return AwsError::admin_bad_request(
        "invalid_instance", "AgentVersion '" + spec.agent_version + "' must look like 3.3.0.0");
  }
  if (spec.ip_address.empty() || spec.ip_address.size() > 46) {
    return AwsError::admin_bad_request("invalid_instance", "IPAddress must be 1 to 46 characters");
  }
  const VirtualOptions& v = spec.virtual_options;
  if (v.shell != "emulated" && v.shell != "pty") {
    return AwsError::admin_bad_request("invalid_instance", "shell must be \"emulated\" or \"pty\"");
  }
  if (v.user.empty()) {
    return AwsError::admin_bad_request("invalid_instance", "user must not be empty");
  }
  for (const auto& [port, target] : v.port_targets) {
    if (port == 0 || !is_host_port(target)) {
      return AwsError::admin_bad_request(
          "invalid_instance", "port_targets entry " + std::to_string(port) + " -> '" + target +
                                  "' must map a port 1-65535 to \"host:port\"");
    }
  }
  for (const Tag& t : spec.tags) {
    if (t.key.empty() || t.key.size() > 128 || t.value.size() > 256) {
      return AwsError::admin_bad_request("invalid_instance",
                                         "tag keys must be 1-128 characters, values up to 256");
    }
  }
  if (spec.computer_name.empty()) {
    if (!v.hostname.empty()) {
      spec.computer_name = v.hostname;
    } else {
      std::string dashed = spec.ip_address;
      std::replace_if(
          dashed.begin(), dashed.end(), [](char c) { return c == '.' || c == ':'; }, '-');
      spec.computer_name = "ip-" + dashed + ".mock.internal";
    }
  }
  if (spec.virtual_options.hostname.empty()) spec.virtual_options.hostname = spec.computer_name;
  if (!spec.registration_date) spec.registration_date = now;
  return spec;
}

Result<void> check_preferences(const SessionPreferences& p) {
  if (p.idle_timeout_minutes < 1 || p.idle_timeout_minutes > 60) {
    return AwsError::admin_bad_request("invalid_preferences",
                                       "idle_timeout_minutes must be 1 to 60");
  }
  if (p.max_session_duration_minutes < 0 || p.max_session_duration_minutes > 1440) {
    return AwsError::admin_bad_request("invalid_preferences",
                                       "max_session_duration_minutes must be 0 (none) to 1440");
  }
  return {};
}

}  // namespace

struct Backend::State {
  BackendConfig config;
  ClockFn clock;

  mutable std::mutex mu;  // guards everything below up to the audit block
  std::map<std::string, Instance, std::less<>> instances;
  std::map<std::string, Session, std::less<>> sessions;
  std::deque<std::string> history_order;  // ended sessions, oldest first
  SessionPreferences preferences;
  std::mt19937_64 rng;
  std::string page_key;  // HMAC key for NextToken values
  std::size_t sessions_started = 0;
  SessionObserver* observer = nullptr;

  mutable std::mutex audit_mu;  // guards the audit ring and sink; never held with mu
  std::deque<std::string> audit;
  std::size_t audit_events = 0;
  std::function<void(std::string_view)> sink;

  std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t v = rng();
      for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
    }
    return out;
  }
  std::string random_hex(std::size_t digits) {
    std::string h = base::to_hex(random_bytes((digits + 1) / 2));
    h.resize(digits);
    return h;
  }
  std::string new_token() { return base64url_encode(random_bytes(48)); }
  std::string new_cell_number() {
    // Real cell numbers begin "AAEAA" (ssm-api issue logs); the rest is opaque.
    return base64url_encode(std::string("\x00\x01\x00\x01", 4) + random_bytes(26));
  }

  std::string sign_page(std::string_view payload) const {
    auto mac = base::hmac_sha256(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(page_key.data()),
                                      page_key.size()),
        payload);
    return base::to_hex(std::span<const std::uint8_t>(mac.data(), 8));
  }
  std::string encode_page_token(std::string_view kind, std::string_view cursor) const {
    std::string payload = std::string(kind) + '\n' + std::string(cursor);
    return base64url_encode(payload + '\n' + sign_page(payload));
  }
  std::optional<std::string> decode_page_token(std::string_view kind,
                                               std::string_view token) const {
    auto raw = base64url_decode(token);
    if (!raw) return std::nullopt;
    auto last = raw->rfind('\n');
    if (last == std::string::npos) return std::nullopt;
    std::string payload = raw->substr(0, last);
    if (raw->substr(last + 1) != sign_page(payload)) return std::nullopt;
    auto first = payload.find('\n');
    if (first == std::string::npos || payload.substr(0, first) != kind) return std::nullopt;
    return payload.substr(first + 1);
  }

  Instance* find_visible_instance(std::string_view id, const Caller& c) {
    auto it = instances.find(id);
    if (it == instances.end()) return nullptr;
    if (it->second.spec.account_id != c.account_id || it->second.spec.region != c.region)
      return nullptr;
    return &it->second;
  }
  const Instance* find_visible_instance(std::string_view id, const Caller& c) const {
    return const_cast<State*>(this)->find_visible_instance(id, c);
  }

  void move_to_history(const std::string& id) {
    history_order.push_back(id);
    while (history_order.size() > std::max<std::size_t>(config.history_capacity, 1)) {
      sessions.erase(history_order.front());
      history_order.pop_front();
    }
  }

  // Active -> Terminating, recording a terminate request. False if not active or already so.
  bool begin_termination(Session& s, std::string_view reason, Pending& p) {
    if (!is_active(s.info.status) || s.info.status == SessionStatus::terminating) return false;
    s.info.status = SessionStatus::terminating;
    p.terminate.emplace_back(s.info.session_id, std::string(reason));
    return true;
  }

  void load_initial(TimePoint now) {
    instances.clear();
    sessions.clear();
    history_order.clear();
    preferences = config.preferences;
    sessions_started = 0;
    for (const InstanceSpec& spec : config.instances) {
      auto n = normalize(spec, config, now);
      if (!n || instances.count(n->instance_id)) continue;  // validate_config reports these
      Instance inst;
      inst.spec = std::move(*n);
      inst.admin_ping = inst.spec.ping_status;
      inst.registration_date = *inst.spec.registration_date;
      inst.last_ping = inst.registration_date;
      instances.emplace(inst.spec.instance_id, std::move(inst));
    }
  }

  DataChannelGrant grant_for(const Session& s, TimePoint expires) const {
    DataChannelGrant g;
    g.session_id = s.info.session_id;
    g.account_id = s.info.account_id;
    g.region = s.info.region;
    g.target = s.info.target;
    g.kind = s.info.target_kind;
    g.status = s.info.status;
    g.document_name = s.info.document_name;
    g.session_type = s.info.session_type;
    g.token_expires_at = expires;
    return g;
  }
};

Result<void> validate_config(const BackendConfig& config) {
  if (config.default_account_id.empty() || config.default_region.empty()) {
    return AwsError::admin_bad_request("invalid_config",
                                       "default account id and default region must be set");
  }
  for (const Account& a : config.accounts) {
    if (a.access_key_id.empty() || a.secret_access_key.empty()) {
      return AwsError::admin_bad_request("invalid_config",
                                         "every account needs an access key id and a secret");
    }
  }
  if (auto p = check_preferences(config.preferences); !p) return p.error();
  std::vector<std::string> seen;
  for (const InstanceSpec& spec : config.instances) {
    auto n = normalize(spec, config, TimePoint{});
    if (!n) return n.error();
    if (std::find(seen.begin(), seen.end(), n->instance_id) != seen.end()) {
      return AwsError::admin_conflict("instance " + n->instance_id + " is configured twice");
    }
    seen.push_back(n->instance_id);
  }
  return {};
}

Backend::Backend(BackendConfig config, ClockFn clock) : state_(std::make_unique<State>()) {
  state_->config = std::move(config);
  state_->clock = clock ? std::move(clock) : ClockFn(&Clock::now);
  if (state_->config.seed) {
    state_->rng.seed(*state_->config.seed);
  } else {
    std::random_device rd;
    state_->rng.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  }
  state_->page_key = state_->random_bytes(32);
  state_->load_initial(state_->clock());
  agents_ = std::make_unique<ManagedAgents>(*this, state_->config);
}

Backend::~Backend() = default;

void Backend::set_observer(SessionObserver* observer) {
  std::lock_guard lock(state_->mu);
  state_->observer = observer;
}

void Backend::set_audit_sink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(state_->audit_mu);
  state_->sink = std::move(sink);
}

TimePoint Backend::now() const { return state_->clock(); }

// ---- Identity ----

std::optional<Account> Backend::find_account(std::string_view access_key_id) const {
  for (const Account& a : state_->config.accounts) {
    if (a.access_key_id == access_key_id) return a;
  }
  return agents_->find_credentials(access_key_id);
}

ManagedAgents& Backend::agents() { return *agents_; }
const ManagedAgents& Backend::agents() const { return *agents_; }

bool Backend::accept_any_credentials() const { return state_->config.accept_any_credentials; }

const std::string& Backend::default_region() const { return state_->config.default_region; }

Caller Backend::caller_for(std::string_view access_key_id, std::string_view region) const {
  Caller c;
  c.access_key_id = std::string(access_key_id);
  c.region = region.empty() ? state_->config.default_region : std::string(region);
  if (auto a = find_account(access_key_id)) {
    c.account_id = a->account_id.empty() ? state_->config.default_account_id : a->account_id;
    c.principal_name = a->user_name.empty() ? a->access_key_id : a->user_name;
    c.arn = a->arn.empty() ? "arn:aws:iam::" + c.account_id + ":user/" + c.principal_name : a->arn;
  } else {
    c.account_id = state_->config.default_account_id;
    c.principal_name =
        access_key_id.empty() ? std::string("anonymous") : std::string(access_key_id);
    c.arn = "arn:aws:iam::" + c.account_id + ":user/" + c.principal_name;
  }
  return c;
}

// ---- AWS-facing actions ----

Result<SessionCredentials> Backend::start_session(const Caller& caller,
                                                  const StartSessionRequest& request,
                                                  const StreamEndpoint& endpoint) {
  Pending pending;
  SessionCredentials creds;
  {
    std::lock_guard lock(state_->mu);
    State& st = *state_;
    auto doc = resolve_session_document(request.document_name, request.parameters, st.preferences);
    if (!doc) return doc.error();
    const Instance* inst = st.find_visible_instance(request.target, caller);
    if (!inst || effective_ping(*inst) != PingStatus::online) {
      return AwsError::target_not_connected(request.target);
    }
    TimePoint now = st.clock();
    std::string prefix = sanitize_principal(caller.principal_name);
    std::string id;
    do {
      id = prefix + "-" + st.random_hex(17);
    } while (st.sessions.count(id));

    Session s;
    SessionInfo& info = s.info;
    info.session_id = id;
    info.account_id = caller.account_id;
    info.region = caller.region;
    info.target = request.target;
    info.target_kind = inst->spec.kind;
    info.status = SessionStatus::connecting;
    info.start_date = now;
    info.document_name = doc->name;
    info.session_type = doc->session_type;
    info.owner = caller.arn;
    info.access_key_id = caller.access_key_id;
    info.reason = request.reason;
    info.parameters_json = doc->parameters_json;
    info.idle_timeout_minutes = st.preferences.idle_timeout_minutes;
    info.max_session_duration_minutes = st.preferences.max_session_duration_minutes;
    info.stream_path =
        "/v1/data-channel/" + id + "?role=publish_subscribe&cell-number=" + st.new_cell_number();
    std::string token = st.new_token();
    s.tokens.push_back({token, now + st.config.token_ttl});

    SessionStart start;
    start.account_id = info.account_id;
    start.region = info.region;
    start.session_id = id;
    start.target = info.target;
    start.kind = inst->spec.kind;
    start.virtual_options = inst->spec.virtual_options;
    start.document_name = doc->name;
    start.session_type = doc->session_type;
    start.properties_json = doc->properties_json;
    start.task.session_id = id;
    start.task.document_name = doc->name;
    start.task.run_as_user = "";
    start.task.session_owner = caller.arn;
    start.task.parameters_json = doc->parameters_json;
    start.task.document_content_json = doc->content_json;
    start.idle_timeout_minutes = info.idle_timeout_minutes;
    start.max_session_duration_minutes = info.max_session_duration_minutes;

    creds.session_id = id;
    creds.token_value = token;
    creds.stream_url = stream_url(endpoint, info.stream_path);
    st.sessions.emplace(id, std::move(s));
    ++st.sessions_started;
    pending.observer = st.observer;
    pending.started.push_back(std::move(start));
  }
  deliver(pending);
  return creds;
}

Result<SessionCredentials> Backend::resume_session(const Caller& caller,
                                                   std::string_view session_id,
                                                   const StreamEndpoint& endpoint) {
  std::lock_guard lock(state_->mu);
  State& st = *state_;
  auto it = st.sessions.find(session_id);
  if (it == st.sessions.end() || !visible_to(it->second.info, caller) ||
      !is_active(it->second.info.status) || it->second.info.status == SessionStatus::terminating) {
    return AwsError::session_does_not_exist(session_id);
  }
  Session& s = it->second;
  std::string token = st.new_token();
  s.tokens.push_back({token, st.clock() + st.config.token_ttl});
  if (s.tokens.size() > kMaxTokensPerSession) s.tokens.erase(s.tokens.begin());
  SessionCredentials creds;
  creds.session_id = s.info.session_id;
  creds.token_value = token;
  creds.stream_url = stream_url(endpoint, s.info.stream_path);
  return creds;
}

Result<std::string> Backend::terminate_session(const Caller& caller, std::string_view session_id) {
  Pending pending;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->sessions.find(session_id);
    if (it != state_->sessions.end() && visible_to(it->second.info, caller)) {
      state_->begin_termination(it->second, "TerminateSession", pending);
    }
    pending.observer = state_->observer;
  }
  deliver(pending);
  return std::string(session_id);
}

Result<SessionPage> Backend::describe_sessions(const Caller& caller,
                                               const DescribeSessionsRequest& request) const {
  bool want_active;
  if (request.state == "Active") {
    want_active = true;
  } else if (request.state == "History") {
    want_active = false;
  } else {
    return AwsError::validation("1 validation error detected: Value '" + request.state +
                                "' at 'state' failed to satisfy constraint: Member must satisfy "
                                "enum value set: [Active, History]");
  }
  int max = std::clamp(request.max_results.value_or(kDescribeSessionsDefaultMaxResults), 1, 200);

  struct Compiled {
    std::string key;
    std::string value;
    TimePoint time{};
    SessionStatus status{};
  };
  std::vector<Compiled> filters;
  for (const SessionFilter& f : request.filters) {
    Compiled c{f.key, f.value};
    if (f.key == "InvokedAfter" || f.key == "InvokedBefore") {
      auto t = parse_timestamp(f.value);
      if (!t) {
        return AwsError::validation("Filter " + f.key + " value '" + f.value +
                                    "' is not a valid timestamp; use ISO-8601 such as "
                                    "2018-08-29T00:00:00Z, or epoch seconds.");
      }
      c.time = *t;
    } else if (f.key == "Status") {
      auto s = parse_session_status(f.value);
      if (!s) {
        return AwsError::validation("Filter Status value '" + f.value +
                                    "' is not valid; use one of Connected, Connecting, "
                                    "Disconnected, Terminated, Terminating, Failed.");
      }
      c.status = *s;
    } else if (f.key == "AccessType") {
      if (f.value != "Standard" && f.value != "JustInTime") {
        return AwsError::validation("Filter AccessType value '" + f.value +
                                    "' is not valid; use one of Standard, JustInTime.");
      }
    } else if (f.key != "Target" && f.key != "Owner" && f.key != "SessionId") {
      return AwsError::invalid_filter_key("The filter key " + f.key + " is not valid.");
    }
    filters.push_back(std::move(c));
  }

  std::lock_guard lock(state_->mu);
  const State& st = *state_;
  std::optional<std::pair<std::int64_t, std::string>> after;
  if (!request.next_token.empty()) {
    auto cursor = st.decode_page_token("sessions", request.next_token);
    if (!cursor) return AwsError::invalid_next_token();
    auto bar = cursor->find('|');
    if (bar == std::string::npos) return AwsError::invalid_next_token();
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(cursor->data(), cursor->data() + bar, ms);
    if (ec != std::errc{} || end != cursor->data() + bar) return AwsError::invalid_next_token();
    after = std::make_pair(ms, cursor->substr(bar + 1));
  }

  std::vector<const SessionInfo*> matched;
  for (const auto& [id, s] : st.sessions) {
    const SessionInfo& i = s.info;
    if (!visible_to(i, caller) || is_active(i.status) != want_active) continue;
    bool ok = std::all_of(filters.begin(), filters.end(), [&](const Compiled& f) {
      if (f.key == "InvokedAfter") return i.start_date >= f.time;
      if (f.key == "InvokedBefore") return i.start_date < f.time;
      if (f.key == "Target") return i.target == f.value;
      if (f.key == "Owner") {
        return i.owner == f.value || i.owner.substr(i.owner.rfind('/') + 1) == f.value;
      }
      if (f.key == "Status") return i.status == f.status;
      if (f.key == "SessionId") return i.session_id == f.value;
      if (f.key == "AccessType") return i.access_type == f.value;
      return false;
    });
    if (ok) matched.push_back(&i);
  }
  // Newest first; ties by id so pages are stable.
  auto order_key = [](const SessionInfo* s) {
    return std::make_pair(-epoch_millis(s->start_date), s->session_id);
  };
  std::sort(matched.begin(), matched.end(), [&](const SessionInfo* a, const SessionInfo* b) {
    return order_key(a) < order_key(b);
  });
  auto begin = matched.begin();
  if (after) {
    auto cursor_key = std::make_pair(-after->first, after->second);
    begin = std::upper_bound(matched.begin(), matched.end(), cursor_key,
                             [&](const auto& k, const SessionInfo* s) { return k < order_key(s); });
  }
  SessionPage page;
  for (auto it = begin; it != matched.end() && static_cast<int>(page.sessions.size()) < max; ++it) {
    page.sessions.push_back(**it);
  }
  if (!page.sessions.empty() &&
      begin + static_cast<std::ptrdiff_t>(page.sessions.size()) != matched.end()) {
    const SessionInfo& last = page.sessions.back();
    page.next_token = st.encode_page_token(
        "sessions", std::to_string(epoch_millis(last.start_date)) + "|" + last.session_id);
  }
  return page;
}

ConnectionStatus Backend::get_connection_status(const Caller& caller,
                                                std::string_view target) const {
  std::lock_guard lock(state_->mu);
  const Instance* inst = state_->find_visible_instance(target, caller);
  return inst && effective_ping(*inst) == PingStatus::online ? ConnectionStatus::connected
                                                             : ConnectionStatus::not_connected;
}

Result<InstancePage> Backend::describe_instance_information(
    const Caller& caller, const DescribeInstancesRequest& request) const {
  int max = std::clamp(request.max_results.value_or(kDescribeInstancesDefaultMaxResults), 5, 50);

  // One predicate per filter; every filter must hold (values within a filter are alternatives).
  using Pred = std::function<bool(const InstanceInfo&)>;
  std::vector<Pred> preds;
  std::vector<std::string> wanted_ids;
  auto any_of_values = [](const std::vector<std::string>& values, const std::string& field) {
    return std::find(values.begin(), values.end(), field) != values.end();
  };
  auto add_filter = [&](const InstanceFilter& f, bool string_filter) -> Result<void> {
    const auto& vals = f.values;
    auto bad_value = [&](const std::string& v) {
      return AwsError::invalid_instance_information_filter_value(
          "The filter value " + v + " is not valid for the filter key " + f.key + ".");
    };
    if (f.key == "InstanceIds") {
      for (const auto& v : vals) {
        if (!is_valid_instance_id(v)) {
          return AwsError::invalid_instance_id("Instance id " + v + " is not valid.");
        }
        wanted_ids.push_back(v);
      }
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.instance_id);
      });
    } else if (f.key == "AgentVersion") {
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.agent_version);
      });
    } else if (f.key == "PingStatus") {
      for (const auto& v : vals) {
        if (!parse_ping_status(v)) return bad_value(v);
      }
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, std::string(to_string(i.ping_status)));
      });
    } else if (f.key == "PlatformTypes") {
      for (const auto& v : vals) {
        if (v != "Linux" && v != "Windows" && v != "MacOS") return bad_value(v);
      }
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.platform_type);
      });
    } else if (f.key == "ActivationIds") {
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.activation_id);
      });
    } else if (f.key == "IamRole") {
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.iam_role);
      });
    } else if (f.key == "ResourceType") {
      for (const auto& v : vals) {
        if (v != "ManagedInstance" && v != "EC2Instance" && v != "Document") return bad_value(v);
      }
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.resource_type);
      });
    } else if (f.key == "AssociationStatus") {
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.association_status);
      });
    } else if (string_filter && f.key == "SourceIds") {
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.spec.instance_id);
      });
    } else if (string_filter && f.key == "SourceTypes") {
      preds.push_back([vals, any_of_values](const InstanceInfo& i) {
        return any_of_values(vals, i.source_type);
      });
    } else if (string_filter && f.key == "tag-key") {
      preds.push_back([vals](const InstanceInfo& i) {
        return std::any_of(i.spec.tags.begin(), i.spec.tags.end(), [&](const Tag& t) {
          return std::find(vals.begin(), vals.end(), t.key) != vals.end();
        });
      });
    } else if (string_filter && f.key.rfind("tag:", 0) == 0 && f.key.size() > 4) {
      std::string tag_key = f.key.substr(4);
      preds.push_back([vals, tag_key](const InstanceInfo& i) {
        return std::any_of(i.spec.tags.begin(), i.spec.tags.end(), [&](const Tag& t) {
          return t.key == tag_key && std::find(vals.begin(), vals.end(), t.value) != vals.end();
        });
      });
    } else {
      return AwsError::invalid_filter_key("The filter key " + f.key + " is not valid.");
    }
    return {};
  };
  for (const auto& f : request.instance_information_filter_list) {
    if (auto r = add_filter(f, false); !r) return r.error();
  }
  for (const auto& f : request.filters) {
    if (auto r = add_filter(f, true); !r) return r.error();
  }

  std::lock_guard lock(state_->mu);
  const State& st = *state_;
  // Naming an instance the caller does not have is an error (DescribeInstanceInformation docs).
  std::vector<std::string> missing;
  for (const auto& id : wanted_ids) {
    if (!st.find_visible_instance(id, caller) &&
        std::find(missing.begin(), missing.end(), id) == missing.end()) {
      missing.push_back(id);
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& id : missing) list += (list.empty() ? "" : ", ") + id;
    return AwsError::invalid_instance_id("Instance ids [" + list +
                                         "] do not exist or are not in this account and region.");
  }
  std::string after;
  if (!request.next_token.empty()) {
    auto cursor = st.decode_page_token("instances", request.next_token);
    if (!cursor) return AwsError::invalid_next_token();
    after = *cursor;
  }
  TimePoint now = st.clock();
  InstancePage page;
  bool more = false;
  // instances is ordered by id: the cursor is the last id returned.
  for (auto it = after.empty() ? st.instances.begin() : st.instances.upper_bound(after);
       it != st.instances.end(); ++it) {
    const Instance& inst = it->second;
    if (inst.spec.account_id != caller.account_id || inst.spec.region != caller.region) continue;
    InstanceInfo info = to_info(inst, now, st.config.latest_agent_version);
    if (!std::all_of(preds.begin(), preds.end(), [&](const Pred& p) { return p(info); })) continue;
    if (static_cast<int>(page.instances.size()) == max) {
      more = true;
      break;
    }
    page.instances.push_back(std::move(info));
  }
  if (more)
    page.next_token = st.encode_page_token("instances", page.instances.back().spec.instance_id);
  return page;
}

Result<void> Backend::update_instance_information(const Caller& caller, const InstanceReport& r) {
  // A CustomIdentity agent's very first call is this health ping (agent.md §7): answering
  // InvalidInstanceId sends it into hibernation, so an unknown id is adopted here too.
  if (!find_instance(r.instance_id)) (void)agents().adopt_unknown_instance(caller, r.instance_id);
  std::lock_guard lock(state_->mu);
  Instance* inst = state_->find_visible_instance(r.instance_id, caller);
  if (!inst) {
    return AwsError::invalid_instance_id("Instance Id " + r.instance_id +
                                         " does not exist or is not in this account and region.");
  }
  auto set = [](std::string& field, const std::string& v) {
    if (!v.empty()) field = v;
  };
  set(inst->agent_name, r.agent_name);
  set(inst->spec.agent_version, r.agent_version);
  set(inst->agent_status, r.agent_status);
  if (r.platform_type == "Linux" || r.platform_type == "Windows" || r.platform_type == "MacOS") {
    inst->spec.platform_type = r.platform_type;
  }
  set(inst->spec.platform_name, r.platform_name);
  set(inst->spec.platform_version, r.platform_version);
  set(inst->spec.ip_address, r.ip_address);
  set(inst->spec.computer_name, r.computer_name);
  set(inst->availability_zone, r.availability_zone);
  set(inst->ssm_connection_channel, r.ssm_connection_channel);
  inst->last_ping = state_->clock();
  return {};
}

// ---- Broker and network ----

bool Backend::set_agent_connected(std::string_view instance_id, bool connected) {
  std::lock_guard lock(state_->mu);
  auto it = state_->instances.find(instance_id);
  if (it == state_->instances.end()) return false;
  it->second.agent_connected = connected;
  it->second.last_ping = state_->clock();
  return true;
}

boost::system::result<DataChannelGrant, TokenError> Backend::check_data_channel_token(
    std::string_view session_id, std::string_view token) const {
  return check_data_channel_token(session_id, token, state_->clock());
}

boost::system::result<DataChannelGrant, TokenError> Backend::check_data_channel_token(
    std::string_view session_id, std::string_view token, TimePoint now) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find(session_id);
  if (it == state_->sessions.end()) return TokenError::unknown_session;
  const Session& s = it->second;
  if (!is_active(s.info.status) || s.info.status == SessionStatus::terminating) {
    return TokenError::session_terminated;
  }
  auto tok = std::find_if(s.tokens.begin(), s.tokens.end(),
                          [&](const TokenRecord& t) { return t.value == token; });
  if (token.empty() || tok == s.tokens.end()) return TokenError::bad_token;
  if (now >= tok->expires_at) return TokenError::expired;
  return state_->grant_for(s, tok->expires_at);
}

bool Backend::set_session_status(std::string_view session_id, SessionStatus status) {
  if (!is_active(status)) return false;
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find(session_id);
  if (it == state_->sessions.end()) return false;
  SessionInfo& info = it->second.info;
  if (!is_active(info.status)) return false;
  if (info.status == SessionStatus::terminating && status != SessionStatus::terminating)
    return false;
  info.status = status;
  return true;
}

bool Backend::session_ended(std::string_view session_id, SessionStatus final_status,
                            std::string_view output) {
  if (is_active(final_status)) return false;
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find(session_id);
  if (it == state_->sessions.end() || !is_active(it->second.info.status)) return false;
  SessionInfo& info = it->second.info;
  info.status = final_status;
  info.end_date = state_->clock();
  info.output = std::string(output);
  it->second.tokens.clear();
  state_->move_to_history(info.session_id);
  return true;
}

std::optional<SessionInfo> Backend::find_session(std::string_view session_id) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find(session_id);
  if (it == state_->sessions.end()) return std::nullopt;
  return it->second.info;
}

std::optional<InstanceInfo> Backend::find_instance(std::string_view instance_id) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->instances.find(instance_id);
  if (it == state_->instances.end()) return std::nullopt;
  return to_info(it->second, state_->clock(), state_->config.latest_agent_version);
}

// ---- Administration ----

Result<InstanceInfo> Backend::add_instance(InstanceSpec spec) {
  std::lock_guard lock(state_->mu);
  State& st = *state_;
  if (spec.instance_id.empty()) {
    do {
      spec.instance_id = "i-" + st.random_hex(17);
    } while (st.instances.count(spec.instance_id));
  }
  TimePoint now = st.clock();
  auto n = normalize(std::move(spec), st.config, now);
  if (!n) return n.error();
  if (st.instances.count(n->instance_id)) {
    return AwsError::admin_conflict("instance " + n->instance_id + " already exists");
  }
  Instance inst;
  inst.spec = std::move(*n);
  inst.admin_ping = inst.spec.ping_status;
  inst.registration_date = *inst.spec.registration_date;
  inst.last_ping = now;
  auto [it, _] = st.instances.emplace(inst.spec.instance_id, std::move(inst));
  return to_info(it->second, now, st.config.latest_agent_version);
}

Result<void> Backend::remove_instance(std::string_view instance_id) {
  Pending pending;
  {
    std::lock_guard lock(state_->mu);
    State& st = *state_;
    auto it = st.instances.find(instance_id);
    if (it == st.instances.end()) {
      return AwsError::admin_not_found("instance " + std::string(instance_id) + " does not exist");
    }
    const InstanceSpec& spec = it->second.spec;
    for (auto& [id, s] : st.sessions) {
      if (s.info.target == spec.instance_id && s.info.account_id == spec.account_id &&
          s.info.region == spec.region) {
        st.begin_termination(s, "instance removed", pending);
      }
    }
    st.instances.erase(it);
    pending.observer = st.observer;
  }
  deliver(pending);
  return {};
}

Result<InstanceInfo> Backend::set_ping_status(std::string_view instance_id, PingStatus status) {
  std::lock_guard lock(state_->mu);
  auto it = state_->instances.find(instance_id);
  if (it == state_->instances.end()) {
    return AwsError::admin_not_found("instance " + std::string(instance_id) + " does not exist");
  }
  TimePoint now = state_->clock();
  Instance& inst = it->second;
  // The last ping of an instance that stops answering is when it stopped.
  if (effective_ping(inst) == PingStatus::online && status != PingStatus::online)
    inst.last_ping = now;
  inst.admin_ping = status;
  return to_info(inst, now, state_->config.latest_agent_version);
}

std::vector<InstanceInfo> Backend::list_instances() const {
  std::lock_guard lock(state_->mu);
  std::vector<InstanceInfo> out;
  TimePoint now = state_->clock();
  for (const auto& [id, inst] : state_->instances) {
    out.push_back(to_info(inst, now, state_->config.latest_agent_version));
  }
  return out;
}

std::vector<SessionInfo> Backend::list_sessions() const {
  std::lock_guard lock(state_->mu);
  std::vector<SessionInfo> out;
  for (const auto& [id, s] : state_->sessions) out.push_back(s.info);
  std::sort(out.begin(), out.end(), [](const SessionInfo& a, const SessionInfo& b) {
    if (a.start_date != b.start_date) return a.start_date > b.start_date;
    return a.session_id < b.session_id;
  });
  return out;
}

Result<SessionInfo> Backend::request_termination(std::string_view session_id,
                                                 std::string_view reason) {
  Pending pending;
  SessionInfo info;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->sessions.find(session_id);
    if (it == state_->sessions.end()) {
      return AwsError::admin_not_found("session " + std::string(session_id) + " does not exist");
    }
    state_->begin_termination(it->second, reason, pending);
    info = it->second.info;
    pending.observer = state_->observer;
  }
  deliver(pending);
  return info;
}

SessionPreferences Backend::preferences() const {
  std::lock_guard lock(state_->mu);
  return state_->preferences;
}

Result<void> Backend::set_preferences(const SessionPreferences& preferences) {
  if (auto r = check_preferences(preferences); !r) return r;
  std::lock_guard lock(state_->mu);
  state_->preferences = preferences;
  return {};
}

void Backend::reset() {
  Pending pending;
  {
    std::lock_guard lock(state_->mu);
    State& st = *state_;
    // Sessions that vanish must not keep running in the broker.
    for (auto& [id, s] : st.sessions) {
      if (is_active(s.info.status)) pending.terminate.emplace_back(id, "reset");
    }
    st.load_initial(st.clock());
    pending.observer = st.observer;
  }
  {
    std::lock_guard lock(state_->audit_mu);
    state_->audit.clear();
    state_->audit_events = 0;
  }
  agents_->reset();
  deliver(pending);
}

BackendStats Backend::stats() const {
  BackendStats s;
  {
    std::lock_guard lock(state_->mu);
    s.instances = state_->instances.size();
    for (const auto& [id, sess] : state_->sessions) {
      (is_active(sess.info.status) ? s.sessions_active : s.sessions_history) += 1;
    }
    s.sessions_started = state_->sessions_started;
  }
  std::lock_guard lock(state_->audit_mu);
  s.audit_events = state_->audit_events;
  return s;
}

// ---- Audit ----

void Backend::record_audit(const AuditEvent& event) {
  std::string line = format_audit_line(event, state_->clock(), base::random_uuid_string());
  std::lock_guard lock(state_->audit_mu);
  State& st = *state_;
  st.audit.push_back(line);
  ++st.audit_events;
  while (st.audit.size() > st.config.audit_capacity) st.audit.pop_front();
  if (st.sink) st.sink(line);
}

std::vector<std::string> Backend::audit_lines(std::size_t limit) const {
  std::lock_guard lock(state_->audit_mu);
  const auto& a = state_->audit;
  std::size_t n = std::min(limit, a.size());
  return std::vector<std::string>(a.end() - static_cast<std::ptrdiff_t>(n), a.end());
}

}  // namespace mocksvc::backend
