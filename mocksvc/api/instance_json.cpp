#include "mocksvc/api/instance_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "mocksvc/api/aws_json.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using backend::AwsError;

AwsError invalid(std::string message) {
  return AwsError::admin_bad_request("invalid_instance", message);
}

// Output-only fields of instance_to_json, tolerated on input.
bool is_read_only_key(std::string_view k) {
  static constexpr std::string_view kKeys[] = {
      "LastPingDateTime", "IsLatestVersion",  "SourceId",
      "SourceType",       "agent_connected",  "AgentStatus",
      "AgentName",        "AvailabilityZone", "SSMConnectionChannel"};
  return std::find(std::begin(kKeys), std::end(kKeys), k) != std::end(kKeys);
}

}  // namespace

backend::Result<backend::InstanceSpec> parse_instance_spec(std::string_view json_text) {
  if (json_nesting_exceeds(json_text)) return invalid("the instance nests too deeply");
  json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("the instance is not valid JSON");
  return instance_spec_from_json(j);
}

backend::Result<backend::InstanceSpec> instance_spec_from_json(const json& j) {
  if (!j.is_object()) return invalid("an instance must be a JSON object");
  backend::InstanceSpec spec;
  std::string resource_type;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    auto text = [&](std::string& field) -> std::optional<AwsError> {
      if (!v.is_string()) return invalid("'" + key + "' must be a string");
      field = v.get<std::string>();
      return std::nullopt;
    };
    std::optional<AwsError> err;
    if (key == "InstanceId") {
      err = text(spec.instance_id);
    } else if (key == "Name") {
      err = text(spec.name);
    } else if (key == "PlatformType") {
      err = text(spec.platform_type);
    } else if (key == "PlatformName") {
      err = text(spec.platform_name);
    } else if (key == "PlatformVersion") {
      err = text(spec.platform_version);
    } else if (key == "AgentVersion") {
      err = text(spec.agent_version);
    } else if (key == "IPAddress") {
      err = text(spec.ip_address);
    } else if (key == "ComputerName") {
      err = text(spec.computer_name);
    } else if (key == "IamRole") {
      err = text(spec.iam_role);
    } else if (key == "ActivationId") {
      err = text(spec.activation_id);
    } else if (key == "AssociationStatus") {
      err = text(spec.association_status);
    } else if (key == "ResourceType") {
      err = text(resource_type);
    } else if (key == "account_id") {
      err = text(spec.account_id);
    } else if (key == "region") {
      err = text(spec.region);
    } else if (key == "hostname") {
      err = text(spec.virtual_options.hostname);
    } else if (key == "user") {
      err = text(spec.virtual_options.user);
    } else if (key == "shell") {
      err = text(spec.virtual_options.shell);
    } else if (key == "PingStatus") {
      std::string s;
      err = text(s);
      if (!err) {
        auto p = backend::parse_ping_status(s);
        if (!p)
          err = invalid("'PingStatus' must be Online, ConnectionLost or Inactive, not '" + s + "'");
        else
          spec.ping_status = *p;
      }
    } else if (key == "kind") {
      std::string s;
      err = text(s);
      if (!err) {
        auto k = backend::parse_instance_kind(s);
        if (!k)
          err = invalid("'kind' must be \"virtual\" or \"agent\", not '" + s + "'");
        else
          spec.kind = *k;
      }
    } else if (key == "RegistrationDate") {
      if (v.is_number() && v.get<double>() >= 0 && v.get<double>() < 1e11) {
        spec.registration_date = backend::from_epoch_millis(
            static_cast<std::int64_t>(std::llround(v.get<double>() * 1000)));
      } else if (v.is_string()) {
        auto t = backend::parse_timestamp(v.get<std::string>());
        if (!t)
          err = invalid("'RegistrationDate' must be epoch seconds or ISO-8601");
        else
          spec.registration_date = *t;
      } else {
        err = invalid("'RegistrationDate' must be epoch seconds or ISO-8601");
      }
    } else if (key == "Tags") {
      if (v.is_object()) {
        for (auto t = v.begin(); t != v.end() && !err; ++t) {
          if (!t.value().is_string())
            err = invalid("tag '" + t.key() + "' must have a string value");
          else
            spec.tags.push_back({t.key(), t.value().get<std::string>()});
        }
      } else if (v.is_array()) {
        for (const auto& t : v) {
          auto k = t.is_object() ? t.find("Key") : t.end();
          auto val = t.is_object() ? t.find("Value") : t.end();
          if (!t.is_object() || k == t.end() || !k->is_string() ||
              (val != t.end() && !val->is_string())) {
            err = invalid("each entry of 'Tags' must be {\"Key\":string,\"Value\":string}");
            break;
          }
          spec.tags.push_back(
              {k->get<std::string>(), val == t.end() ? std::string() : val->get<std::string>()});
        }
      } else {
        err = invalid("'Tags' must be a list of {\"Key\",\"Value\"} or an object");
      }
    } else if (key == "port_targets") {
      if (!v.is_object()) {
        err = invalid("'port_targets' must be an object mapping port to \"host:port\"");
      } else {
        for (auto p = v.begin(); p != v.end() && !err; ++p) {
          const std::string& port_text = p.key();
          unsigned port = 0;
          auto [end, ec] =
              std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
          if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 ||
              port > 65535) {
            err = invalid("'port_targets' key '" + port_text + "' must be a port number 1-65535");
          } else if (!p.value().is_string()) {
            err = invalid("'port_targets' entry " + port_text + " must be a \"host:port\" string");
          } else {
            spec.virtual_options.port_targets[static_cast<std::uint16_t>(port)] =
                p.value().get<std::string>();
          }
        }
      }
    } else if (!is_read_only_key(key)) {
      err = invalid("unknown key '" + key + "'");
    }
    if (err) return *err;
  }
  if (!resource_type.empty() && !spec.instance_id.empty()) {
    bool managed = spec.instance_id.rfind("mi-", 0) == 0;
    if (resource_type != (managed ? "ManagedInstance" : "EC2Instance")) {
      return invalid("'ResourceType' " + resource_type + " does not match instance id " +
                     spec.instance_id);
    }
  }
  return spec;
}

std::string instance_to_json(const backend::InstanceInfo& info) {
  const backend::InstanceSpec& s = info.spec;
  ojson j = ojson::object();
  j["InstanceId"] = s.instance_id;
  j["account_id"] = s.account_id;
  j["region"] = s.region;
  j["kind"] = to_string(s.kind);
  j["Name"] = s.name;
  ojson tags = ojson::array();
  for (const auto& t : s.tags) {
    ojson e = ojson::object();
    e["Key"] = t.key;
    e["Value"] = t.value;
    tags.push_back(e);
  }
  j["Tags"] = tags;
  j["PlatformType"] = s.platform_type;
  j["PlatformName"] = s.platform_name;
  j["PlatformVersion"] = s.platform_version;
  j["AgentVersion"] = s.agent_version;
  j["PingStatus"] = to_string(info.ping_status);
  j["IPAddress"] = s.ip_address;
  j["ComputerName"] = s.computer_name;
  j["IamRole"] = s.iam_role;
  j["ActivationId"] = s.activation_id;
  j["AssociationStatus"] = s.association_status;
  j["RegistrationDate"] = backend::epoch_seconds(info.registration_date);
  j["shell"] = s.virtual_options.shell;
  ojson ports = ojson::object();
  for (const auto& [port, target] : s.virtual_options.port_targets)
    ports[std::to_string(port)] = target;
  j["port_targets"] = ports;
  j["hostname"] = s.virtual_options.hostname;
  j["user"] = s.virtual_options.user;
  j["ResourceType"] = info.resource_type;
  j["LastPingDateTime"] = backend::epoch_seconds(info.last_ping);
  j["IsLatestVersion"] = info.is_latest_version;
  j["agent_connected"] = info.agent_connected;
  j["AgentStatus"] = info.agent_status;
  j["SSMConnectionChannel"] = info.ssm_connection_channel;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace mocksvc::api
