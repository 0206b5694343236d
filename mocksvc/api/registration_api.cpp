#include "mocksvc/api/registration_api.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Kind = Shape::Kind;
using backend::AwsError;
using backend::Result;

// ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ (ActivationId)
bool matches_activation_id(std::string_view v) {
  if (v.size() != 36) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = v[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Shape builders (the aggregate has more members than any one shape sets).
Shape text(std::optional<std::int64_t> min = std::nullopt,
           std::optional<std::int64_t> max = std::nullopt) {
  Shape s;
  s.kind = Kind::string;
  s.min = min;
  s.max = max;
  return s;
}
Shape enumeration(std::vector<std::string_view> values) {
  Shape s = text();
  s.enum_values = std::move(values);
  return s;
}
Shape integer(std::int64_t min, std::int64_t max) {
  Shape s;
  s.kind = Kind::integer;
  s.min = min;
  s.max = max;
  return s;
}
Shape list_of(const Shape* member, std::optional<std::int64_t> max = std::nullopt) {
  Shape s;
  s.kind = Kind::list;
  s.member = member;
  s.max = max;
  return s;
}
Shape structure(std::vector<Member> members) {
  Shape s;
  s.kind = Kind::structure;
  s.members = std::move(members);
  return s;
}
Shape activation_id_shape() {
  Shape s = text();
  s.pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
  s.matches = matches_activation_id;
  return s;
}

struct Catalogue {
  // Leaf shapes (botocore names in comments).
  Shape description = text(0, 256);    // ActivationDescription
  Shape instance_name = text(0, 256);  // DefaultInstanceName
  Shape iam_role = text(std::nullopt, 64);
  Shape registration_limit = integer(1, backend::kMaxRegistrationLimit);
  Shape tag_key = text(1, 128);
  Shape tag_value = text(0, 256);
  Shape tag = structure({{"Key", &tag_key, true}, {"Value", &tag_value, true}});
  Shape tag_list = list_of(&tag, 1000);
  Shape metadata_text = text(1, 256);
  Shape metadata = structure({{"Key", &metadata_text, true}, {"Value", &metadata_text, true}});
  Shape metadata_list = list_of(&metadata);
  Shape filter_key = enumeration({"ActivationIds", "DefaultInstanceName", "IamRole"});
  Shape filter_value = text();
  Shape filter_values = list_of(&filter_value);
  Shape filter = structure({{"FilterKey", &filter_key}, {"FilterValues", &filter_values}});
  Shape filter_list = list_of(&filter);
  Shape max_results = integer(1, 50);
  Shape next_token = text();
  Shape activation_id = activation_id_shape();
  // The agent's SDK: ActivationCode min 20, ActivationId min 36, PublicKey min 392.
  Shape activation_code = text(20, 250);
  Shape activation_id_loose = text(36);
  Shape fingerprint = text();
  Shape role_name = text(1, 64);
  Shape public_key = text(392);
  Shape public_key_type = enumeration({"Rsa"});

  // Operation inputs.
  Shape create_activation = structure({{"Description", &description},
                                       {"DefaultInstanceName", &instance_name},
                                       {"IamRole", &iam_role, true},
                                       {"RegistrationLimit", &registration_limit},
                                       {"Tags", &tag_list},
                                       {"RegistrationMetadata", &metadata_list}});
  Shape describe_activations = structure(
      {{"Filters", &filter_list}, {"MaxResults", &max_results}, {"NextToken", &next_token}});
  Shape delete_activation = structure({{"ActivationId", &activation_id, true}});
  Shape register_instance = structure({{"ActivationCode", &activation_code},
                                       {"ActivationId", &activation_id_loose},
                                       {"Fingerprint", &fingerprint, true},
                                       {"IamRole", &role_name},
                                       {"PublicKey", &public_key, true},
                                       {"PublicKeyType", &public_key_type},
                                       {"Tags", &tag_list}});
  Shape role_token = structure({{"Fingerprint", &fingerprint, true}});
  Shape update_public_key = structure(
      {{"NewPublicKey", &public_key, true}, {"NewPublicKeyType", &public_key_type, true}});
};

const Catalogue& catalogue() {
  static const Catalogue c;
  return c;
}

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string str(const json& body, std::string_view key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<backend::Tag> tags_of(const json& body) {
  std::vector<backend::Tag> out;
  auto it = body.find("Tags");
  if (it == body.end() || !it->is_array()) return out;
  for (const auto& t : *it) out.push_back({str(t, "Key"), str(t, "Value")});
  return out;
}

ojson tags_json(const std::vector<backend::Tag>& tags) {
  ojson out = ojson::array();
  for (const auto& t : tags) out.push_back(ojson{{"Key", t.key}, {"Value", t.value}});
  return out;
}

// ExpirationDate is a timestamp: epoch seconds as the SDKs send it, or ISO-8601 text.
Result<std::optional<backend::TimePoint>> expiration_of(const json& body) {
  auto it = body.find("ExpirationDate");
  if (it == body.end() || it->is_null()) return std::optional<backend::TimePoint>();
  if (it->is_number()) {
    return std::optional<backend::TimePoint>(
        backend::from_epoch_millis(static_cast<std::int64_t>(it->get<double>() * 1000)));
  }
  if (it->is_string()) {
    if (auto t = backend::parse_timestamp(it->get_ref<const std::string&>()))
      return std::optional(*t);
  }
  return AwsError::serialization("ExpirationDate must be a timestamp (epoch seconds).");
}

ojson activation_json(const backend::ActivationInfo& a) {
  ojson j = ojson::object();
  j["ActivationId"] = a.activation_id;
  j["Description"] = a.description;
  j["DefaultInstanceName"] = a.default_instance_name;
  j["IamRole"] = a.iam_role;
  j["RegistrationLimit"] = a.registration_limit;
  j["RegistrationsCount"] = a.registrations_count;
  j["ExpirationDate"] = backend::epoch_seconds(a.expiration_date);
  j["Expired"] = a.expired;
  j["CreatedDate"] = backend::epoch_seconds(a.created_date);
  j["Tags"] = tags_json(a.tags);
  return j;
}

Result<std::string> create_activation(backend::Backend& b, const backend::Caller& caller,
                                      const json& body) {
  backend::CreateActivationRequest req;
  req.description = str(body, "Description");
  req.default_instance_name = str(body, "DefaultInstanceName");
  req.iam_role = str(body, "IamRole");
  if (auto it = body.find("RegistrationLimit"); it != body.end() && it->is_number_integer()) {
    req.registration_limit = static_cast<int>(it->get<std::int64_t>());
  }
  auto expires = expiration_of(body);
  if (!expires) return expires.error();
  req.expiration_date = *expires;
  req.tags = tags_of(body);
  auto r = b.agents().create_activation(caller, req);
  if (!r) return r.error();
  ojson j = ojson::object();
  j["ActivationId"] = r->activation_id;
  j["ActivationCode"] = r->activation_code;
  return dump(j);
}

Result<std::string> describe_activations(backend::Backend& b, const backend::Caller& caller,
                                         const json& body) {
  backend::DescribeActivationsRequest req;
  if (auto f = body.find("Filters"); f != body.end() && f->is_array()) {
    for (const auto& e : *f) {
      backend::ActivationFilter filter;
      filter.key = str(e, "FilterKey");
      if (auto v = e.find("FilterValues"); v != e.end() && v->is_array()) {
        for (const auto& s : *v) {
          if (s.is_string()) filter.values.push_back(s.get<std::string>());
        }
      }
      req.filters.push_back(std::move(filter));
    }
  }
  if (auto m = body.find("MaxResults"); m != body.end() && m->is_number_integer()) {
    req.max_results = static_cast<int>(m->get<std::int64_t>());
  }
  req.next_token = str(body, "NextToken");
  auto r = b.agents().describe_activations(caller, req);
  if (!r) return r.error();
  ojson j = ojson::object();
  j["ActivationList"] = ojson::array();
  for (const auto& a : r->activations) j["ActivationList"].push_back(activation_json(a));
  if (!r->next_token.empty()) j["NextToken"] = r->next_token;
  return dump(j);
}

Result<std::string> register_instance(backend::Backend& b, const json& body) {
  backend::RegisterInstanceRequest req;
  req.activation_code = str(body, "ActivationCode");
  req.activation_id = str(body, "ActivationId");
  req.public_key = str(body, "PublicKey");
  req.public_key_type = str(body, "PublicKeyType");
  req.fingerprint = str(body, "Fingerprint");
  req.tags = tags_of(body);
  auto r = b.agents().register_managed_instance(req);
  if (!r) return r.error();
  ojson j = ojson::object();
  j["InstanceId"] = *r;
  return dump(j);
}

Result<std::string> role_token(backend::Backend& b, const backend::Caller& caller,
                               const json& body) {
  auto r = b.agents().request_role_token(caller.access_key_id, str(body, "Fingerprint"));
  if (!r) return r.error();
  // Every member is required by the agent, which dereferences each (agent.md §9.2).
  ojson j = ojson::object();
  j["AccessKeyId"] = r->access_key_id;
  j["SecretAccessKey"] = r->secret_access_key;
  j["SessionToken"] = r->session_token;
  j["TokenExpirationDate"] =
      std::chrono::duration_cast<std::chrono::seconds>(r->expires_at.time_since_epoch()).count();
  j["UpdateKeyPair"] = r->update_key_pair;
  return dump(j);
}

}  // namespace

RegistrationAuth registration_auth(std::string_view op) {
  if (op == "RegisterManagedInstance") return RegistrationAuth::anonymous;
  if (op == "RequestManagedInstanceRoleToken" || op == "UpdateManagedInstancePublicKey") {
    return RegistrationAuth::instance_rsa;
  }
  return RegistrationAuth::sigv4;
}

const Shape* registration_input_shape(std::string_view op) {
  const Catalogue& c = catalogue();
  if (op == "CreateActivation") return &c.create_activation;
  if (op == "DescribeActivations") return &c.describe_activations;
  if (op == "DeleteActivation") return &c.delete_activation;
  if (op == "RegisterManagedInstance") return &c.register_instance;
  if (op == "RequestManagedInstanceRoleToken") return &c.role_token;
  if (op == "UpdateManagedInstancePublicKey") return &c.update_public_key;
  return nullptr;
}

Result<backend::Caller> instance_caller(backend::Backend& backend, const auth::HttpRequest& request,
                                        const auth::Identity& identity) {
  const std::string& instance_id = identity.access_key_id;
  if (!backend.accept_any_credentials()) {
    // The agent's signer sends the body's hash in X-Amz-Content-Sha256 after signing; the
    // string to sign was built from it, so it must be the body's.
    if (auto claimed = request.header("x-amz-content-sha256");
        claimed && auth::to_lower(*claimed) != auth::payload_hash(request.body)) {
      return AwsError::invalid_signature(
          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    auto ok = backend.agents().verify_instance_signature(instance_id, identity.string_to_sign,
                                                         identity.signature);
    if (!ok) return ok.error();
  }
  auto inst = backend.find_instance(instance_id);
  if (!inst) return AwsError::unrecognized_client();
  backend::Caller c;
  c.account_id = inst->spec.account_id;
  c.region = identity.region;
  c.access_key_id = instance_id;
  c.principal_name = instance_id;
  c.arn = "arn:aws:ssm:" + inst->spec.region + ":" + inst->spec.account_id + ":managed-instance/" +
          instance_id;
  return c;
}

std::optional<Result<std::string>> run_registration_operation(backend::Backend& backend,
                                                              const backend::Caller& caller,
                                                              std::string_view op,
                                                              const json& body) {
  if (op == "CreateActivation") return create_activation(backend, caller, body);
  if (op == "DescribeActivations") return describe_activations(backend, caller, body);
  if (op == "DeleteActivation") {
    auto r = backend.agents().delete_activation(caller, str(body, "ActivationId"));
    if (!r) return Result<std::string>(r.error());
    return Result<std::string>(std::string("{}"));
  }
  if (op == "RegisterManagedInstance") return register_instance(backend, body);
  if (op == "RequestManagedInstanceRoleToken") return role_token(backend, caller, body);
  if (op == "UpdateManagedInstancePublicKey") {
    auto r = backend.agents().update_public_key(caller.access_key_id, str(body, "NewPublicKey"),
                                                str(body, "NewPublicKeyType"));
    if (!r) return Result<std::string>(r.error());
    return Result<std::string>(std::string("{}"));
  }
  return std::nullopt;
}

}  // namespace mocksvc::api
