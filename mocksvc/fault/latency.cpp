// latency: the answer to the selected API calls is written latency_ms (± jitter_ms) later; the
// operation itself runs at once.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Latency final : public ApiFault {
 public:
  explicit Latency(const Rule& r) : latency_(r.attributes.ms("latency_ms")), jitter_(r.attributes.ms("jitter_ms")) {}

  ApiOutcome apply(const ApiCall&, std::mt19937_64& rng) override {
    ApiOutcome o;
    o.acted = true;
    o.delay = jittered(latency_, jitter_, rng);
    return o;
  }

 private:
  std::chrono::milliseconds latency_;
  std::chrono::milliseconds jitter_;
};

}  // namespace

const FaultType& latency_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "latency";
    t.kind = FaultKind::api;
    t.summary = "The answer comes later.";
    t.attributes = {ms_attr("latency_ms", 1000, "added delay before the answer"),
                    ms_attr("jitter_ms", 0, "uniform variation around latency_ms, either way")};
    t.make_api = [](const Rule& r) -> std::unique_ptr<ApiFault> { return std::make_unique<Latency>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
