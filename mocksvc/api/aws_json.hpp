// AWS JSON 1.1 framing of answers: the success envelope (200, application/x-amz-json-1.1,
// x-amzn-RequestId) and the single place an AwsError becomes the error body
// `{"__type":"<Code>","message":"<text>"}` with `x-amzn-ErrorType` (ssm-api.md §1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mocksvc/api/http.hpp"
#include "mocksvc/backend/error.hpp"

namespace mocksvc::api {

inline constexpr std::string_view kAmzJson11 = "application/x-amz-json-1.1";

HttpResponse aws_json_success(std::string body, std::string_view request_id);
HttpResponse aws_json_error(const backend::AwsError& error, std::string_view request_id);
// The error body alone, for callers that frame it themselves (audit, tests).
std::string aws_error_body(const backend::AwsError& error);

// Request bodies nest at most four levels (a list of filters of value lists); anything deeper
// than this is refused before parsing, because serializing and validating JSON recurse once per
// level and a hostile body could otherwise exhaust the stack.
inline constexpr std::size_t kMaxJsonDepth = 32;
// True when brackets and braces outside strings nest deeper than `limit`.
bool json_nesting_exceeds(std::string_view text, std::size_t limit = kMaxJsonDepth);

}  // namespace mocksvc::api
