#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "test_util.h"

namespace raftkv::net {
namespace {

struct Pipe {
  Fd read, write;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

TEST(EventLoop, DispatchesReadinessToTheHandler) {
  EventLoop loop;
  Pipe p;
  uint32_t seen = 0;
  loop.add(p.read.get(), EPOLLIN, [&](uint32_t ev) { seen = ev; });
  EXPECT_EQ(loop.run_once(0), 0);
  ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
  EXPECT_EQ(loop.run_once(1000), 1);
  EXPECT_TRUE(seen & EPOLLIN);
  loop.remove(p.read.get());
  seen = 0;
  EXPECT_EQ(loop.run_once(0), 0);
  EXPECT_EQ(seen, 0u);
}

TEST(EventLoop, AnEventForARegistrationRemovedThisTurnIsNotDelivered) {
  EventLoop loop;
  Pipe a, b;
  int calls = 0;
  // Whichever runs first removes the other, which must then stay silent.
  loop.add(a.read.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(b.read.get());
  });
  loop.add(b.read.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(a.read.get());
  });
  ASSERT_EQ(::write(a.write.get(), "x", 1), 1);
  ASSERT_EQ(::write(b.write.get(), "x", 1), 1);
  loop.run_once(1000);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, AHandlerMayRemoveItself) {
  EventLoop loop;
  Pipe p;
  int calls = 0;
  loop.add(p.read.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(p.read.get());
  });
  ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
  loop.run_once(1000);
  loop.run_once(0);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop.watching(p.read.get()));
}

TEST(EventLoop, WakeInterruptsAWaitFromAnotherThread) {
  EventLoop loop;
  int64_t start = testing::now_ms();
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    loop.wake();
  });
  EXPECT_EQ(loop.run_once(10000), 0);
  waker.join();
  EXPECT_LT(testing::now_ms() - start, 5000);
  loop.wake();  // a wake before the wait returns at once
  start = testing::now_ms();
  loop.run_once(10000);
  EXPECT_LT(testing::now_ms() - start, 5000);
}

}  // namespace
}  // namespace raftkv::net
