// target_not_connected: StartSession fails with TargetNotConnected, as for an instance whose
// agent is offline, while the instance still looks Online. Other operations are not affected.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class TargetNotConnected final : public ApiFault {
 public:
  ApiOutcome apply(const ApiCall& call, std::mt19937_64&) override {
    if (call.operation != "StartSession") return {};
    ApiOutcome o;
    o.acted = true;
    o.error = backend::AwsError::target_not_connected(call.target);
    return o;
  }
};

}  // namespace

const FaultType& target_not_connected_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "target_not_connected";
    t.kind = FaultKind::api;
    t.summary = "StartSession answers TargetNotConnected.";
    t.make_api = [](const Rule&) -> std::unique_ptr<ApiFault> { return std::make_unique<TargetNotConnected>(); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
