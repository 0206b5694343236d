#include "mocksvc/backend/error.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace mocksvc::backend {
namespace {

AwsError make(std::string_view code, std::string_view message, int status = 400) {
  return AwsError{std::string(code), std::string(message), status};
}

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

}  // namespace

AwsError AwsError::target_not_connected(std::string_view target) {
  return make("TargetNotConnected", cat({target, " is not connected."}));
}
AwsError AwsError::invalid_document(std::string_view message) {
  return make("InvalidDocument", message);
}
AwsError AwsError::document_does_not_exist(std::string_view name) {
  return make("InvalidDocument", cat({"Document with name ", name, " does not exist."}));
}
AwsError AwsError::document_type_not_supported(std::string_view document_type) {
  return make("InvalidDocument", cat({"Document type: '", document_type,
                                      "' is not supported. Only type: 'Session' is supported "
                                      "for Session Manager."}));
}
AwsError AwsError::invalid_parameters(std::string_view message) {
  return make("InvalidParameters", message);
}
AwsError AwsError::session_does_not_exist(std::string_view session_id) {
  return make("DoesNotExistException",
              cat({"Session with id ", session_id, " does not exist or is already terminated."}));
}
AwsError AwsError::invalid_filter_key(std::string_view message) {
  return make("InvalidFilterKey", message);
}
AwsError AwsError::invalid_next_token() {
  return make("InvalidNextToken", "The specified token isn't valid.");
}
AwsError AwsError::invalid_instance_id(std::string_view message) {
  return make("InvalidInstanceId", message);
}
AwsError AwsError::invalid_instance_information_filter_value(std::string_view message) {
  return make("InvalidInstanceInformationFilterValue", message);
}
AwsError AwsError::validation(std::string_view message) {
  return make("ValidationException", message);
}
AwsError AwsError::access_denied(std::string_view message) {
  return make("AccessDeniedException", message);
}
AwsError AwsError::throttling() { return make("ThrottlingException", "Rate exceeded"); }
AwsError AwsError::unknown_operation(std::string_view message) {
  return make("UnknownOperationException", message);
}
AwsError AwsError::serialization(std::string_view message) {
  return make("SerializationException", message);
}
AwsError AwsError::internal_server_error(std::string_view message) {
  return make("InternalServerError",
              message.empty() ? std::string_view("An internal error occurred.") : message, 500);
}
AwsError AwsError::service_unavailable() {
  return make("ServiceUnavailable", "Service is unavailable. Try again later.", 503);
}

AwsError AwsError::missing_authentication_token() {
  return make("MissingAuthenticationTokenException", "Missing Authentication Token");
}
AwsError AwsError::incomplete_signature(std::string_view message) {
  return make("IncompleteSignatureException", message);
}
AwsError AwsError::invalid_signature(std::string_view message) {
  return make("InvalidSignatureException",
              message.empty()
                  ? std::string_view(
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method. Consult "
                        "the service documentation for details.")
                  : message);
}
AwsError AwsError::unrecognized_client() {
  return make("UnrecognizedClientException",
              "The security token included in the request is invalid.");
}
AwsError AwsError::expired_token() {
  return make("ExpiredTokenException", "The security token included in the request is expired");
}

AwsError AwsError::admin_bad_request(std::string_view code, std::string_view message) {
  return make(code, message, 400);
}
AwsError AwsError::admin_not_found(std::string_view message) {
  return make("not_found", message, 404);
}
AwsError AwsError::admin_conflict(std::string_view message) {
  return make("conflict", message, 409);
}

void throw_exception_from_error(const AwsError& e, const boost::source_location& loc) {
  boost::throw_with_location(std::runtime_error(e.code + ": " + e.message), loc);
}

}  // namespace mocksvc::backend
