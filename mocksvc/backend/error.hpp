// The AWS error every backend action returns instead of throwing: the code clients match on,
// the human text, and the HTTP status the real service answers with. Named factories keep each
// message in one place, worded like the real service's; api/ serializes them to the JSON 1.1
// body `{"__type":..., "message":...}` and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace mocksvc::backend {

struct AwsError {
  // Not an aggregate, so Result<std::string> is never ambiguous about which side a string is.
  AwsError() = default;
  AwsError(std::string c, std::string m, int status)
      : code(std::move(c)), message(std::move(m)), http_status(status) {}

  std::string code;     // "TargetNotConnected", "ValidationException", ...
  std::string message;  // human text as the real service words it
  int http_status = 400;

  // Session Manager operations (ssm-api.md §2).
  static AwsError target_not_connected(std::string_view target);
  static AwsError invalid_document(std::string_view message);
  static AwsError document_does_not_exist(std::string_view name);
  static AwsError document_type_not_supported(std::string_view document_type);
  static AwsError invalid_parameters(std::string_view message);
  static AwsError session_does_not_exist(std::string_view session_id);
  static AwsError invalid_filter_key(std::string_view message);
  static AwsError invalid_next_token();
  static AwsError invalid_instance_id(std::string_view message);
  static AwsError invalid_instance_information_filter_value(std::string_view message);
  // `message` is the full text, e.g. "1 validation error detected: Value 'Bogus' at 'state'
  // failed to satisfy constraint: Member must satisfy enum value set: [Active, History]".
  static AwsError validation(std::string_view message);
  static AwsError access_denied(std::string_view message);
  static AwsError throttling();
  static AwsError unknown_operation(std::string_view message = {});
  static AwsError serialization(std::string_view message);
  static AwsError internal_server_error(std::string_view message = {});
  static AwsError service_unavailable();

  // Authentication (AWS JSON 1.1 services answer all of these with HTTP 400).
  static AwsError missing_authentication_token();
  static AwsError incomplete_signature(std::string_view message);
  static AwsError invalid_signature(std::string_view message = {});
  static AwsError unrecognized_client();
  static AwsError expired_token();

  // Mock administration (/_mock/...): not AWS codes, same carrier.
  static AwsError admin_bad_request(std::string_view code, std::string_view message);
  static AwsError admin_not_found(std::string_view message);
  static AwsError admin_conflict(std::string_view message);

  friend bool operator==(const AwsError&, const AwsError&) = default;
};

template <typename T>
using Result = boost::system::result<T, AwsError>;

// Lets Result<T>::value() throw on an error; backend code itself uses has_value()/operator*.
[[noreturn]] void throw_exception_from_error(const AwsError& e, const boost::source_location& loc);

}  // namespace mocksvc::backend
