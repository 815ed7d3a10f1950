#include <gtest/gtest.h>
#include "sim/sim.h"
TEST(Sim, Placeholder) {}
