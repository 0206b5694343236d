// What the service knows about real agents beyond their instance records: the tokens
// CreateControlChannel and CreateDataChannel hand out (agent.md §1) and the Open... messages
// must present, hybrid activations, on-premises registrations with their RSA public keys, and
// the temporary credentials RequestManagedInstanceRoleToken issues (agent.md §9.2), which SigV4
// verification then accepts through Backend::find_account.
//
// How an agent's instance id becomes known: an instance of kind "agent" in the configuration
// or added through /_mock/instances; RegisterManagedInstance with a valid activation (a new
// "mi-" + 17 hex instance); or, with BackendConfig::auto_register_agents (default on), the
// first authenticated contact from an unknown, well-formed id (the agent's opening
// UpdateInstanceInformation, or CreateControlChannel), which creates an agent instance in the
// caller's account and region, so a CustomIdentity agent with any id just shows up.
//
// Owned by the Backend (Backend::agents()). Every method may be called from any thread; one
// internal mutex guards the state, and it is never held while calling into the Backend.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/backend/error.hpp"
#include "mocksvc/backend/model.hpp"

namespace mocksvc::backend {

class Backend;

// CreateActivation limits (SSM API reference): at most 1000 registrations, the default
// lifetime is 24 hours and the longest 30 days.
inline constexpr int kMaxRegistrationLimit = 1000;
inline constexpr std::chrono::hours kDefaultActivationLifetime{24};
inline constexpr std::chrono::hours kMaxActivationLifetime{24 * 30};
// Lifetime of the credentials RequestManagedInstanceRoleToken issues; the agent refreshes at
// half of it (agent.md §9.2).
inline constexpr std::chrono::minutes kRoleCredentialLifetime{60};
// Channel tokens kept valid at once per instance (control) or per session (data): each
// reconnect of the agent mints a new one (agent.md §2.6).
inline constexpr std::size_t kMaxChannelTokens = 8;
// Role credentials kept valid at once per instance: the agent refreshes at half-life and its
// workers may still hold the previous set.
inline constexpr std::size_t kMaxRoleCredentials = 4;

struct CreateActivationRequest {
  std::string description;
  std::string default_instance_name;
  std::string iam_role;
  int registration_limit = 1;
  std::optional<TimePoint> expiration_date;  // empty: kDefaultActivationLifetime from now
  std::vector<Tag> tags;
};

struct ActivationCredentials {
  std::string activation_id;    // UUID, 36 characters
  std::string activation_code;  // 20 characters
};

struct ActivationInfo {
  std::string activation_id;
  std::string description;
  std::string default_instance_name;
  std::string iam_role;
  int registration_limit = 1;
  int registrations_count = 0;
  TimePoint expiration_date{};
  bool expired = false;
  TimePoint created_date{};
  std::vector<Tag> tags;
};

struct ActivationFilter {
  std::string key;  // ActivationIds | DefaultInstanceName | IamRole
  std::vector<std::string> values;
};
struct DescribeActivationsRequest {
  std::vector<ActivationFilter> filters;
  std::optional<int> max_results;
  std::string next_token;
};
struct ActivationPage {
  std::vector<ActivationInfo> activations;
  std::string next_token;
};

// RegisterManagedInstance as the agent sends it, unsigned (agent.md §9.2 step 3).
struct RegisterInstanceRequest {
  std::string activation_code;
  std::string activation_id;
  std::string public_key;       // base64 PKIX DER
  std::string public_key_type;  // "Rsa"
  std::string fingerprint;
  std::vector<Tag> tags;
};

// RequestManagedInstanceRoleToken's answer. Every field is always present on the wire: the
// agent dereferences each one (agent.md §9.2).
struct RoleCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  TimePoint expires_at{};
  bool update_key_pair = false;
};

class ManagedAgents {
 public:
  ManagedAgents(Backend& backend, const BackendConfig& config);
  ~ManagedAgents();
  ManagedAgents(const ManagedAgents&) = delete;
  ManagedAgents& operator=(const ManagedAgents&) = delete;

  // ---- ssmmessages: channel tokens ----
  // CreateControlChannel: a token for the control channel of `instance_id`. Refused
  // (AccessDeniedException, 403) for an instance of another account or region, a virtual
  // instance, credentials bound to another instance, or an unknown id that cannot be
  // auto-registered.
  Result<std::string> create_control_channel(const Caller& caller, std::string_view instance_id);
  // Creates an agent instance for an unknown id on its first authenticated contact, when
  // auto_register_agents allows it; the error says why not.
  boost::system::result<InstanceInfo, std::string> adopt_unknown_instance(const Caller& caller,
                                                                          std::string_view instance_id);
  bool check_control_channel_token(std::string_view instance_id, std::string_view token) const;
  // CreateDataChannel: a token for the agent side of `session_id`, only for an active session
  // whose target is an agent instance (of the caller's credentials, when they are bound to
  // one). An ended or terminating session: BadRequest "Session is already terminated", the
  // text the agent stops reconnecting on (agent.md §1).
  Result<std::string> create_data_channel(const Caller& caller, std::string_view session_id);
  // The agent's OpenDataChannel: the token was issued for this session and this instance.
  bool check_data_channel_token(std::string_view session_id, std::string_view token,
                                std::string_view instance_id) const;

  // ---- Hybrid activations (AmazonSSM.CreateActivation, ...) ----
  Result<ActivationCredentials> create_activation(const Caller& caller,
                                                  const CreateActivationRequest& request);
  Result<ActivationPage> describe_activations(const Caller& caller,
                                              const DescribeActivationsRequest& request) const;
  Result<void> delete_activation(const Caller& caller, std::string_view activation_id);

  // ---- On-premises registration and credentials ----
  // Returns the new instance id ("mi-" + 17 hex).
  Result<std::string> register_managed_instance(const RegisterInstanceRequest& request);
  // Checks the RSA-PSS signature of an RSA-signed call (RequestManagedInstanceRoleToken,
  // UpdateManagedInstancePublicKey) against the instance's registered key.
  Result<void> verify_instance_signature(std::string_view instance_id,
                                         std::string_view string_to_sign,
                                         std::string_view base64_signature) const;
  Result<RoleCredentials> request_role_token(std::string_view instance_id,
                                             std::string_view fingerprint);
  Result<void> update_public_key(std::string_view instance_id, std::string_view public_key,
                                 std::string_view public_key_type);
  // Unexpired role credentials as an account: the instance's account, principal = instance id.
  std::optional<Account> find_credentials(std::string_view access_key_id) const;
  // The instance role credentials were issued to; nullopt for any other key.
  std::optional<std::string> instance_for_key(std::string_view access_key_id) const;

  // Forgets every token, activation, registration and credential (Backend::reset).
  void reset();

 private:
  struct State;
  Backend& backend_;
  std::unique_ptr<State> state_;
};

}  // namespace mocksvc::backend
