#include <gtest/gtest.h>

#include "idle_connections.h"

namespace raftkv::test {
namespace {

TEST(ServeConnectionsSlow, TenThousandIdleConnections) {
  check_many_idle_connections(10000);
}

}  // namespace
}  // namespace raftkv::test
