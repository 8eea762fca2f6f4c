#include "server/work_queue.h"

#include <chrono>

namespace atelier::server {

WorkQueue::WorkQueue(int workers, int capacity) : capacity_(capacity), worker_count_(workers) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
}

WorkQueue::~WorkQueue() { stop(false); }

bool WorkQueue::try_push(Task task) {
  {
    std::lock_guard lock(mu_);
    // The new task waits unless a worker is free for it: refused when more than
    // `capacity` would wait then.
    if (stopping_ || int(tasks_.size()) + 1 - (worker_count_ - running_) > capacity_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

int WorkQueue::depth() const {
  std::lock_guard lock(mu_);
  return int(tasks_.size());
}

int WorkQueue::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

bool WorkQueue::wait_idle(int timeout_ms) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return tasks_.empty() && running_ == 0; });
}

void WorkQueue::stop(bool drain) {
  {
    std::lock_guard lock(mu_);
    if (threads_.empty()) return;
    stopping_ = true;
    drain_ = drain;
    if (!drain) tasks_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void WorkQueue::loop() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty() || (stopping_ && !drain_)) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
      ++running_;
    }
    task();
    {
      std::lock_guard lock(mu_);
      --running_;
      if (tasks_.empty() && running_ == 0) idle_cv_.notify_all();
    }
  }
}

}  // namespace atelier::server
