#include "loadgen/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ssmh::loadgen {
namespace {

// ceil(log2(2 * 10^digits)): the sub-bucket bits HdrHistogram uses for that precision.
int sub_bucket_bits(int digits) {
  const double largest = 2.0 * std::pow(10.0, digits);
  return static_cast<int>(std::ceil(std::log2(largest)));
}

}  // namespace

Histogram::Histogram(int significant_digits)
    : digits_(std::clamp(significant_digits, 1, 3)), sub_bits_(sub_bucket_bits(digits_)) {
  const std::size_t half = std::size_t{1} << (sub_bits_ - 1);
  counts_.assign(static_cast<std::size_t>(66 - sub_bits_) * half, 0);
}

std::size_t Histogram::index_of(std::uint64_t value) const {
  if (value < (std::uint64_t{1} << sub_bits_)) return static_cast<std::size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - (sub_bits_ - 1);
  const std::size_t half = std::size_t{1} << (sub_bits_ - 1);
  return static_cast<std::size_t>(shift) * half + static_cast<std::size_t>(value >> shift);
}

std::uint64_t Histogram::lowest_equivalent(std::size_t index) const {
  if (index < (std::size_t{1} << sub_bits_)) return index;
  const std::size_t half = std::size_t{1} << (sub_bits_ - 1);
  const std::size_t shift = index / half - 1;
  const std::uint64_t sub = index - shift * half;
  return sub << shift;
}

std::uint64_t Histogram::highest_equivalent(std::size_t index) const {
  if (index < (std::size_t{1} << sub_bits_)) return index;
  const std::size_t half = std::size_t{1} << (sub_bits_ - 1);
  const std::size_t shift = index / half - 1;
  return lowest_equivalent(index) + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  counts_[index_of(value)] += count;
  if (total_ == 0 || value < min_) min_ = value;
  max_ = std::max(max_, value);
  total_ += count;
  sum_ += value * count;
}

bool Histogram::merge(const Histogram& other) {
  if (other.sub_bits_ != sub_bits_) return false;
  if (other.total_ == 0) return true;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = total_ ? std::min(min_, other.min_) : other.min_;
  max_ = std::max(max_, other.max_);
  total_ += other.total_;
  sum_ += other.sum_;
  return true;
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = min_ = max_ = sum_ = 0;
}

std::uint64_t Histogram::percentile(double p) const {
  if (total_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  if (p >= 100.0) return max_;
  // The rank of the value asked for; the small allowance keeps 99.9% of 1000 at 999, not 1000,
  // when the product lands a rounding error above the integer.
  const double exact = p / 100.0 * static_cast<double>(total_);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(exact - exact * 1e-12)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_equivalent(i), max_);
  }
  return max_;
}

}  // namespace ssmh::loadgen
