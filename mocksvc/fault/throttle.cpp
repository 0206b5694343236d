// throttle: a token bucket in front of the selected API calls, answered like the real service
// when empty: ThrottlingException "Rate exceeded", HTTP 400 (ssm-api.md §1). The AWS SDKs retry
// it with backoff, so a throttled StartSession usually succeeds a few seconds later.
#include <algorithm>
#include <map>

#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

// Distinct access keys tracked per rule; beyond this the buckets start over.
constexpr std::size_t kMaxBuckets = 10000;

class Throttle final : public ApiFault {
 public:
  explicit Throttle(const Rule& r)
      : rate_(r.attributes.number("rate_per_second")),
        burst_(static_cast<double>(r.attributes.integer("burst"))),
        per_key_(r.attributes.text("per") == "access_key") {}

  ApiOutcome apply(const ApiCall& call, std::mt19937_64&) override {
    const std::string key = per_key_ ? std::string(call.access_key_id) : std::string();
    if (buckets_.size() >= kMaxBuckets && !buckets_.count(key)) buckets_.clear();
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, call.now});
    Bucket& b = it->second;
    if (!fresh) {
      const double elapsed = std::chrono::duration<double>(call.now - b.last).count();
      b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
      b.last = call.now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return {};
    }
    ApiOutcome o;
    o.acted = true;
    o.error = backend::AwsError::throttling();
    return o;
  }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  double rate_;
  double burst_;
  bool per_key_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace

const FaultType& throttle_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "throttle";
    t.kind = FaultKind::api;
    t.summary = "A token bucket: calls beyond its rate get ThrottlingException (HTTP 400, \"Rate exceeded\").";
    t.attributes = {num_attr("rate_per_second", std::nullopt, 0.001, 1e6, "tokens added per second"),
                    int_attr("burst", 1, 1, 1e6, "bucket size: calls allowed at once"),
                    text_attr("per", std::string("access_key"), {"access_key", "rule"},
                              "one bucket per access key (as AWS limits per account), or one for the rule")};
    t.make_api = [](const Rule& r) -> std::unique_ptr<ApiFault> { return std::make_unique<Throttle>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
