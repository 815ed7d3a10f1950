#include <gtest/gtest.h>

#include "idle_connections.h"

namespace raftkv::test {
namespace {

TEST(ServeConnections, TwoThousandIdleConnections) {
  check_many_idle_connections(2000);
}

}  // namespace
}  // namespace raftkv::test
