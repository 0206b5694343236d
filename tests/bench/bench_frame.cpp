// Frame codec throughput at 64 B, 1 KiB and 32 KiB payloads. BM_Sha256Only is the floor: every
// encode and every strict decode hashes the payload once, so the codec cannot beat it.
#include <benchmark/benchmark.h>

#include "mocksvc/base/sha256.hpp"
#include "mocksvc/wire/frame.hpp"

namespace {
using namespace mocksvc;

wire::Message sample(std::size_t n) {
  return wire::make_message(wire::msg::kOutputStreamData, 42, 0, wire::PayloadType::output,
                            std::string(n, 'x'));
}

void BM_Sha256Only(benchmark::State& state) {
  const auto m = sample(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(base::sha256(wire::ByteView(m.payload)));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_Encode(benchmark::State& state) {
  const auto m = sample(static_cast<std::size_t>(state.range(0)));
  wire::Bytes out;
  for (auto _ : state) {
    wire::encode_into(m, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_Decode(benchmark::State& state) {
  const auto bytes = wire::encode(sample(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) {
    auto d = wire::decode(bytes);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(BM_Sha256Only)->Arg(64)->Arg(1024)->Arg(32 * 1024);
BENCHMARK(BM_Encode)->Arg(64)->Arg(1024)->Arg(32 * 1024);
BENCHMARK(BM_Decode)->Arg(64)->Arg(1024)->Arg(32 * 1024);
}  // namespace
