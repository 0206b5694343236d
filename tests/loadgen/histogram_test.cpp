#include "loadgen/histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

namespace ssmh::loadgen {
namespace {

TEST(Histogram, CountsSmallValuesExactly) {
  Histogram h(2);
  for (std::uint64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(h.index_of(v), v);
    EXPECT_EQ(h.lowest_equivalent(h.index_of(v)), v);
    EXPECT_EQ(h.highest_equivalent(h.index_of(v)), v);
  }
}

TEST(Histogram, KeepsTwoSignificantDigitsAcrossTheRange) {
  Histogram h(2);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    const std::size_t idx = h.index_of(v);
    ASSERT_LT(idx, h.bucket_count());
    const std::uint64_t lo = h.lowest_equivalent(idx);
    const std::uint64_t hi = h.highest_equivalent(idx);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    // A bucket spans at most 1/128 of its lowest value: better than 1%.
    ASSERT_LE(static_cast<double>(hi - lo), static_cast<double>(lo) / 128.0 + 1.0) << v;
  }
}

TEST(Histogram, BucketsTileTheValuesWithoutGaps) {
  Histogram h(2);
  for (std::size_t i = 0; i + 1 < h.bucket_count(); ++i) {
    ASSERT_EQ(h.lowest_equivalent(i + 1), h.highest_equivalent(i) + 1) << i;
    ASSERT_EQ(h.index_of(h.lowest_equivalent(i)), i);
    ASSERT_EQ(h.index_of(h.highest_equivalent(i)), i);
  }
  EXPECT_EQ(h.highest_equivalent(h.bucket_count() - 1), std::numeric_limits<std::uint64_t>::max());
}

TEST(Histogram, ReportsPercentilesOfAUniformSpread) {
  Histogram h(2);
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_DOUBLE_EQ(h.mean(), 50000500.0);
  auto near = [](std::uint64_t got, double want) { return std::abs(static_cast<double>(got) - want) <= want / 100.0; };
  EXPECT_TRUE(near(h.percentile(50), 50e6)) << h.percentile(50);
  EXPECT_TRUE(near(h.percentile(90), 90e6)) << h.percentile(90);
  EXPECT_TRUE(near(h.percentile(99), 99e6)) << h.percentile(99);
  EXPECT_TRUE(near(h.percentile(99.9), 99.9e6)) << h.percentile(99.9);
  EXPECT_EQ(h.percentile(100), h.max());
}

TEST(Histogram, NeverReportsAPercentileAboveTheMax) {
  Histogram h(2);
  h.record(1000001);
  EXPECT_EQ(h.percentile(50), 1000001u);
  EXPECT_EQ(h.percentile(99.9), 1000001u);
}

TEST(Histogram, FindsTheTailOfASkewedDistribution) {
  Histogram h(2);
  h.record(1000, 999);
  h.record(5000000);
  // Reported as the highest value its bucket stands for (1000..1003 at two digits).
  const std::uint64_t bucket_top = h.highest_equivalent(h.index_of(1000));
  EXPECT_EQ(bucket_top, 1003u);
  EXPECT_EQ(h.percentile(99), bucket_top);
  EXPECT_EQ(h.percentile(99.9), bucket_top);
  EXPECT_EQ(h.percentile(99.91), 5000000u);
  EXPECT_EQ(h.max(), 5000000u);
}

TEST(Histogram, AnswersZeroWhenEmpty) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, RecordsTheLargestValue) {
  Histogram h;
  h.record(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.max(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.percentile(50), std::numeric_limits<std::uint64_t>::max());
}

TEST(Histogram, MergesCountsMinAndMax) {
  Histogram a(2), b(2);
  a.record(10, 3);
  b.record(2);
  b.record(900000);
  ASSERT_TRUE(a.merge(b));
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.min(), 2u);
  EXPECT_EQ(a.max(), 900000u);
  Histogram empty(2);
  ASSERT_TRUE(empty.merge(a));
  EXPECT_EQ(empty.count(), 5u);
  EXPECT_EQ(empty.min(), 2u);
}

TEST(Histogram, RefusesToMergeAnotherPrecision) {
  Histogram a(2), b(3);
  b.record(5);
  EXPECT_FALSE(a.merge(b));
  EXPECT_EQ(a.count(), 0u);
}

TEST(Histogram, ThreeDigitsNarrowTheBuckets) {
  Histogram h(3);
  const std::uint64_t v = 123456789;
  const std::size_t idx = h.index_of(v);
  EXPECT_LE(static_cast<double>(h.highest_equivalent(idx) - h.lowest_equivalent(idx)), v / 1000.0);
}

TEST(Histogram, ResetForgetsEverything) {
  Histogram h;
  h.record(77, 4);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  h.record(3);
  EXPECT_EQ(h.min(), 3u);
}

}  // namespace
}  // namespace ssmh::loadgen
