#include "mocksvc/api/aws_json.hpp"

#include <nlohmann/json.hpp>

namespace mocksvc::api {

HttpResponse aws_json_success(std::string body, std::string_view request_id) {
  HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", std::string(kAmzJson11));
  r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  r.body = std::move(body);
  return r;
}

std::string aws_error_body(const backend::AwsError& error) {
  nlohmann::ordered_json j;
  j["__type"] = error.code;
  j["message"] = error.message;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse aws_json_error(const backend::AwsError& error, std::string_view request_id) {
  HttpResponse r;
  r.status = error.http_status;
  r.headers.emplace_back("Content-Type", std::string(kAmzJson11));
  r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  r.headers.emplace_back("x-amzn-ErrorType", error.code);
  r.body = aws_error_body(error);
  return r;
}

bool json_nesting_exceeds(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace mocksvc::api
