// Opens `n` idle client connections to one server of a 3-server cluster
// and checks that it counts them and still answers a fresh connection
// promptly. Shared by the regular (2,000) and slow (10,000) tests.
#pragma once

namespace raftkv::test {

void check_many_idle_connections(int n);

}  // namespace raftkv::test
