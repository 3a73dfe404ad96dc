// Copyright 2026 The natsrpc Authors.
//
// The threads of a server's stream handlers: a stream handler may run as
// long as its stream, so each gets its own thread rather than holding a
// worker that unary calls need. The runner owns those threads (and the
// ticker that drives the streams' heartbeats and deadlines) and joins them
// all in StopAndJoin(), so that nothing of a stream runs after
// Server::Shutdown() returns.

#ifndef NATSRPC_SRC_SERVER_STREAM_RUNNER_H_
#define NATSRPC_SRC_SERVER_STREAM_RUNNER_H_

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace natsrpc::internal {

class StreamRunner {
 public:
  explicit StreamRunner(int max_running);
  // StopAndJoin().
  ~StreamRunner();

  StreamRunner(const StreamRunner&) = delete;
  StreamRunner& operator=(const StreamRunner&) = delete;

  // Takes a slot for a new stream handler. False at max_running (then
  // `*running` is how many run) or once stopped.
  bool TryReserve(int* running);
  // Gives back a slot taken by TryReserve that Start() will not use.
  void Unreserve();
  // Runs `body` on a new thread in a slot taken by TryReserve(). Joins the
  // threads of handlers that ended meanwhile.
  void Start(absl::AnyInvocable<void() &&> body);

  // Calls `tick` every `period` from a thread of its own until StopAndJoin()
  // saw the last handler end. Once; later calls do nothing.
  void StartTicker(absl::AnyInvocable<void()> tick, absl::Duration period);

  // Takes no new handler, waits until the running ones returned (they must
  // be told to stop first) and joins every thread. A handler that calls it
  // (a handler shutting its own server down) is not waited for: its thread
  // is joined by a later call, or left to end by itself when it is the one
  // destroying the runner.
  void StopAndJoin();

  int running() const;

 private:
  // What a handler thread touches when it ends: shared, so that a handler
  // that destroys the runner (by dropping the last server) can still
  // finish.
  struct State {
    absl::Mutex mu;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    bool ticker_stop ABSL_GUARDED_BY(mu) = false;
    // The runner was destroyed by a handler's thread, which is left to end
    // by itself.
    bool runner_gone ABSL_GUARDED_BY(mu) = false;
    int running ABSL_GUARDED_BY(mu) = 0;
    uint64_t next_id ABSL_GUARDED_BY(mu) = 0;
    absl::flat_hash_map<uint64_t, std::thread> threads ABSL_GUARDED_BY(mu);
    // Threads whose handler ended, to be joined.
    std::vector<std::thread> ended ABSL_GUARDED_BY(mu);
    absl::CondVar tick_cv;
  };

  static void JoinOrDetach(std::vector<std::thread>& threads);

  const int max_running_;
  std::shared_ptr<State> state_;
  std::thread ticker_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_STREAM_RUNNER_H_
