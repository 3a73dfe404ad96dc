// Copyright 2026 The natsrpc Authors.

#include "server/stream_runner.h"

#include <utility>

namespace natsrpc::internal {
namespace {

// The runner state whose handler the calling thread runs, if any.
thread_local const void* current_runner = nullptr;

}  // namespace

StreamRunner::StreamRunner(int max_running)
    : max_running_(max_running), state_(std::make_shared<State>()) {}

StreamRunner::~StreamRunner() {
  StopAndJoin();
  absl::MutexLock lock(&state_->mu);
  state_->runner_gone = true;
}

bool StreamRunner::TryReserve(int* running) {
  absl::MutexLock lock(&state_->mu);
  *running = state_->running;
  if (state_->stopping || state_->running >= max_running_) return false;
  ++state_->running;
  return true;
}

void StreamRunner::Unreserve() {
  absl::MutexLock lock(&state_->mu);
  --state_->running;
}

void StreamRunner::Start(absl::AnyInvocable<void() &&> body) {
  std::vector<std::thread> ended;
  {
    absl::MutexLock lock(&state_->mu);
    ended.swap(state_->ended);
    const uint64_t id = ++state_->next_id;
    // Inserted under the lock: the thread cannot look itself up before.
    state_->threads.emplace(
        id, std::thread([state = state_, id, body = std::move(body)]() mutable {
          current_runner = state.get();
          {
            auto run = std::move(body);
            std::move(run)();
            // `run` and what it holds (the stream, the request) go here,
            // before the thread counts as ended.
          }
          current_runner = nullptr;
          absl::MutexLock lock(&state->mu);
          --state->running;
          auto it = state->threads.find(id);
          if (state->runner_gone) {
            it->second.detach();  // nobody is left to join it
          } else {
            state->ended.push_back(std::move(it->second));
          }
          state->threads.erase(it);
        }));
  }
  JoinOrDetach(ended);
}

void StreamRunner::StartTicker(absl::AnyInvocable<void()> tick,
                               absl::Duration period) {
  if (ticker_.joinable()) return;
  ticker_ =
      std::thread([state = state_, tick = std::move(tick), period]() mutable {
        absl::MutexLock lock(&state->mu);
        while (!state->ticker_stop) {
          state->tick_cv.WaitWithTimeout(&state->mu, period);
          state->mu.Unlock();
          tick();
          state->mu.Lock();
        }
      });
}

void StreamRunner::StopAndJoin() {
  const int self = current_runner == state_.get() ? 1 : 0;
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
    std::pair<State*, int> wait{state_.get(), self};
    state_->mu.Await(absl::Condition(
        +[](std::pair<State*, int>* w) {
          w->first->mu.AssertReaderHeld();
          return w->first->running <= w->second;
        },
        &wait));
    // The streams the ticker served have ended.
    state_->ticker_stop = true;
    threads.swap(state_->ended);
    for (auto it = state_->threads.begin(); it != state_->threads.end();) {
      if (it->second.get_id() == std::this_thread::get_id()) {
        ++it;
        continue;
      }
      threads.push_back(std::move(it->second));
      state_->threads.erase(it++);
    }
    state_->tick_cv.Signal();
  }
  JoinOrDetach(threads);
  if (ticker_.joinable()) ticker_.join();
}

int StreamRunner::running() const {
  absl::MutexLock lock(&state_->mu);
  return state_->running;
}

void StreamRunner::JoinOrDetach(std::vector<std::thread>& threads) {
  for (std::thread& t : threads) {
    // Only the thread itself may be among them: a handler that dropped the
    // last server ends the runner; it is past everything it ran.
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

}  // namespace natsrpc::internal
