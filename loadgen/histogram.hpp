// A high-dynamic-range histogram of non-negative integers (latencies in nanoseconds), in the
// manner of HdrHistogram: log-linear buckets whose width is a fixed fraction of their value, so
// every recorded value is kept to a stated number of significant decimal digits from 1 ns to the
// whole 64-bit range, in a fixed amount of memory, with exact count, min, max and mean.
//
// Not thread-safe: one owner records; merge() combines histograms recorded apart.
#pragma once

#include <cstdint>
#include <vector>

namespace ssmh::loadgen {

class Histogram {
 public:
  // 1 to 3 significant digits (clamped). Values are grouped in buckets of 2^(p-1) linear sub-buckets per
  // power of two, p = ceil(log2(2 * 10^digits)) as HdrHistogram sizes them: 2 digits gives 256
  // sub-buckets (p = 8) and a bucket width of at most 1/128 (0.78%) of its lowest value.
  explicit Histogram(int significant_digits = 2);

  void record(std::uint64_t value, std::uint64_t count = 1);
  // Adds another histogram's counts; both must have the same precision (false otherwise).
  bool merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return total_; }
  std::uint64_t min() const { return total_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0; }
  int significant_digits() const { return digits_; }

  // The value at percentile `p` (0-100): the highest value equivalent to the bucket holding the
  // ceil(p/100 * count)-th smallest recorded value, but never above max(). 0 when empty.
  std::uint64_t percentile(double p) const;

  // Bucket arithmetic, public for tests: every value maps to one index; all values of an index
  // lie in [lowest_equivalent(index), highest_equivalent(index)].
  std::size_t index_of(std::uint64_t value) const;
  std::uint64_t lowest_equivalent(std::size_t index) const;
  std::uint64_t highest_equivalent(std::size_t index) const;
  std::size_t bucket_count() const { return counts_.size(); }

 private:
  int digits_;
  int sub_bits_;  // p: values below 2^p are counted exactly
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  // Sum of values for the mean; wraps only past 1.8e19 (584 years of nanoseconds).
  std::uint64_t sum_ = 0;
};

}  // namespace ssmh::loadgen
