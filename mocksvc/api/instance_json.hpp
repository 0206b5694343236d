// JSON <-> instance specs, shared by the admin API (POST /_mock/instances) and the config-file
// loader. AWS-visible fields use AWS's spelling (InstanceId, Name, Tags, PlatformType,
// PingStatus, IPAddress, ...); the mock's own fields are snake_case (account_id, region, kind,
// shell, port_targets, hostname, user). Every rejection names the offending key.
//
//   {"InstanceId":"i-0123456789abcdef0", "Name":"web", "Tags":[{"Key":"env","Value":"test"}],
//    "PlatformType":"Linux", "PlatformName":"Amazon Linux", "PlatformVersion":"2023",
//    "AgentVersion":"3.3.0.0", "PingStatus":"Online", "IPAddress":"10.0.0.5",
//    "ComputerName":"web.internal", "IamRole":"", "ActivationId":"", "AssociationStatus":"",
//    "RegistrationDate":1732427663 | "2026-11-24T05:54:23Z",
//    "account_id":"123456789012", "region":"us-east-1", "kind":"virtual" | "agent",
//    "shell":"emulated" | "pty", "port_targets":{"80":"127.0.0.1:8080"},
//    "hostname":"web", "user":"ssm-user"}
//
// Tags may also be an object {"env":"test"}. The read-only fields instance_to_json adds
// (LastPingDateTime, ResourceType, IsLatestVersion, agent_connected, ...) are accepted and
// ignored, so a GET result can be posted back.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "mocksvc/backend/error.hpp"
#include "mocksvc/backend/model.hpp"

namespace mocksvc::api {

// Errors carry code "invalid_instance" and HTTP 400.
backend::Result<backend::InstanceSpec> parse_instance_spec(std::string_view json_text);
// The same for an already parsed value (the config loader hands over its sub-objects).
backend::Result<backend::InstanceSpec> instance_spec_from_json(const nlohmann::json& object);

// The admin view of an instance: the spec keys above plus live state.
std::string instance_to_json(const backend::InstanceInfo& info);

}  // namespace mocksvc::api
