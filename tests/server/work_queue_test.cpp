// The service's bounded queue (server/work_queue.h): a full queue refuses at once, tasks
// run in arrival order, and stop() drains or drops what waits.
#include "server/work_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

namespace atelier::server {
namespace {
using namespace std::chrono_literals;

TEST(WorkQueue, AFullQueueRefusesAtOnceAndTasksRunInOrder) {
  WorkQueue q(1, 3);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(q.try_push([&, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the worker holds the first task
  std::mutex mu;
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(q.try_push([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    }));
  }
  EXPECT_EQ(q.depth(), 3);
  EXPECT_EQ(q.running(), 1);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.try_push([] {}));  // the fourth waiting task: refused, not queued
  EXPECT_LT(std::chrono::steady_clock::now() - before, 100ms);
  EXPECT_EQ(q.depth(), 3);
  release.set_value();
  EXPECT_TRUE(q.wait_idle(10000));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(q.running(), 0);
}

TEST(WorkQueue, StopDrainsOrDropsWhatWaits) {
  for (bool drain : {true, false}) {
    WorkQueue q(1, 10);
    std::atomic<int> ran{0};
    std::promise<void> started;
    ASSERT_TRUE(q.try_push([&] {
      started.set_value();
      std::this_thread::sleep_for(50ms);
      ++ran;
    }));
    started.get_future().wait();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_push([&] { ++ran; }));
    q.stop(drain);
    EXPECT_EQ(ran.load(), drain ? 5 : 1) << "drain " << drain;  // the running task always finishes
    EXPECT_FALSE(q.try_push([] {}));  // stopped: refuses
  }
}

TEST(WorkQueue, ZeroCapacityTakesATaskOnlyWhenAWorkerIsFree) {
  WorkQueue q(1, 0);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  ASSERT_TRUE(q.try_push([gate] { gate.wait(); }));  // the worker is free: taken
  EXPECT_FALSE(q.try_push([] {}));                    // it is busy: nothing may wait
  release.set_value();
  EXPECT_TRUE(q.wait_idle(10000));
  EXPECT_TRUE(q.try_push([] {}));
  EXPECT_EQ(q.capacity(), 0);
  EXPECT_EQ(q.workers(), 1);
}

}  // namespace
}  // namespace atelier::server
