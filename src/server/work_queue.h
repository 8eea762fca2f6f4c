// A bounded queue in front of a fixed number of worker threads. try_push refuses at once
// when the task would have to wait behind `capacity` others for a worker (the caller
// answers 429): the backlog never grows past it, and with capacity 0 a request is taken
// only when a worker is free. Tasks run in arrival order; stop() lets the queued tasks run (drain) or drops
// them, then joins the workers.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace atelier::server {

class WorkQueue {
 public:
  using Task = std::function<void()>;
  WorkQueue(int workers, int capacity);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  bool try_push(Task task);  // false: full (or stopping)
  int depth() const;         // waiting, not running
  int running() const;
  int capacity() const { return capacity_; }
  int workers() const { return worker_count_; }
  // Waits until nothing waits or runs, or `timeout_ms` passed; true when idle.
  bool wait_idle(int timeout_ms);
  void stop(bool drain);

 private:
  void loop();
  const int capacity_;
  const int worker_count_;
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Task> tasks_;
  int running_ = 0;
  bool stopping_ = false;
  bool drain_ = true;
  std::vector<std::thread> threads_;
};

}  // namespace atelier::server
