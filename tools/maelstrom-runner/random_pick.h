// A uniformly random element, for the nemeses' choices.
#pragma once

#include <random>
#include <vector>

namespace runner {

// v must not be empty.
template <class T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

}  // namespace runner
