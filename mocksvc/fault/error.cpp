// error: the selected API calls fail with any AWS error code and HTTP status, framed by the API
// layer like every other error (`{"__type":..., "message":...}`, x-amzn-ErrorType). Clients retry
// 5xx and throttling codes, and give up on the rest (AccessDeniedException 403 is how the real
// service refused ResumeSession in data-channel.md §12, issue #136).
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Error final : public ApiFault {
 public:
  explicit Error(const Rule& r)
      : error_(r.attributes.text("code"), r.attributes.text("message"),
               static_cast<int>(r.attributes.integer("http_status"))) {}

  ApiOutcome apply(const ApiCall&, std::mt19937_64&) override {
    ApiOutcome o;
    o.acted = true;
    o.error = error_;
    return o;
  }

 private:
  backend::AwsError error_;
};

}  // namespace

const FaultType& error_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "error";
    t.kind = FaultKind::api;
    t.summary = "The call fails with an AWS error code and HTTP status.";
    t.attributes = {text_attr("code", std::nullopt, {}, "the __type, e.g. AccessDeniedException, InternalServerError"),
                    text_attr("message", std::string("The request was refused by a fault scenario."), {},
                              "the error message"),
                    int_attr("http_status", 400, 400, 599, "the HTTP status")};
    t.make_api = [](const Rule& r) -> std::unique_ptr<ApiFault> { return std::make_unique<Error>(r); };
    t.check = [](const Attributes& a) -> std::optional<std::pair<std::string, std::string>> {
      if (a.text("code").empty()) return std::pair<std::string, std::string>("code", "must not be empty");
      return std::nullopt;
    };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
