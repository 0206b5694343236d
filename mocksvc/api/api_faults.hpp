// The seam through which fault scenarios reach the SSM API: SsmApi asks an ApiFaults, when one is
// set, before it runs an operation (after authentication and input validation), and answers with
// the error it is given, or runs the operation, writing the answer after the delay it is given.
// Errors go through the same AWS framing as every other (aws_json.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "mocksvc/backend/error.hpp"

namespace mocksvc::api {

struct ApiCallFacts {
  std::string_view operation;      // "StartSession", ...
  std::string_view access_key_id;  // the caller's
  std::string_view target;         // the request's Target, if any
  std::string_view session_id;     // the request's SessionId, if any
};

struct ApiVerdict {
  std::optional<backend::AwsError> error;  // answer this instead of running the operation
  std::chrono::milliseconds delay{0};      // before the answer is written
};

// Called on the thread serving the request, concurrently from many; must not block.
class ApiFaults {
 public:
  virtual ~ApiFaults() = default;
  virtual ApiVerdict before_operation(const ApiCallFacts& call) = 0;
};

}  // namespace mocksvc::api
