// The input shapes of the operations api/ serves, transcribed from the botocore SSM model
// (service-2.json, 2014-11-06: lengths, enums, patterns, ranges, required members) plus the
// agent-side operations the model lacks (UpdateInstanceInformation, ListInstanceAssociations,
// the ec2messages calls; agent.md §7), and the validator that checks a request body against
// them the way the service does: type mismatches are SerializationException, constraint
// violations are collected into one ValidationException in AWS's wording.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mocksvc/backend/error.hpp"

namespace mocksvc::api {

struct Shape;

struct Member {
  std::string_view name;  // as AWS spells it: "Target", "MaxResults", "key"
  const Shape* shape;
  bool required = false;
};

struct Shape {
  enum class Kind { string, integer, boolean, list, map, structure };
  Kind kind = Kind::string;
  std::optional<std::int64_t> min;  // length for strings/lists/maps, value for integers
  std::optional<std::int64_t> max;
  std::vector<std::string_view> enum_values;
  std::string_view pattern;                     // as the model writes it, for the message
  bool (*matches)(std::string_view) = nullptr;  // accepts exactly what `pattern` accepts
  const Shape* member = nullptr;                // list element
  const Shape* key = nullptr;                   // map key
  const Shape* value = nullptr;                 // map value
  std::vector<Member> members;                  // structure
};

// The input shape of "StartSession", "GetMessages", ...; nullptr for an operation we do not serve.
const Shape* input_shape(std::string_view operation);

// nullopt when the body satisfies the shape. The body must be a JSON object.
std::optional<backend::AwsError> validate_input(const nlohmann::json& body, const Shape& shape);

}  // namespace mocksvc::api
