// Copyright 2026 The natsrpc Authors.
//
// Retries and wait-for-ready of unary calls (natsrpc/client.h: RetryPolicy,
// ClientOptions::wait_for_ready), below the client interceptors and above
// the reply multiplexer: a RetryingCall makes one attempt after another
// through ReplyMux::Start, all with the call's one deadline, and completes
// the caller's callback exactly once.
//
//   attempt 1 --UNAVAILABLE--> backoff --> attempt 2 --OK--> done(OK)
//   (wait_for_ready) not connected --> wait for kReconnected --> attempt
//   (wait_for_ready) no responders --> backoff --> attempt again
//
// Waits run on one process-wide timer thread (RunAt); nothing blocks a
// caller's thread or the connection's threads.

#ifndef NATSRPC_SRC_CLIENT_RETRY_H_
#define NATSRPC_SRC_CLIENT_RETRY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/client.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

struct ClientMethodCounters;

// What one call does beyond one attempt (ClientChannel decides per call).
struct RetryPlan {
  RetryPolicy policy;
  // The policy applies: more than one attempt, and the method is
  // idempotent or the call opted in.
  bool retries = false;
  bool wait_for_ready = false;
  bool active() const { return retries || wait_for_ready; }
};

// Marks a failure whose request reached no server (not connected, no
// responders): sending it again is safe for any method. The mark is a
// status payload; RetryingCall removes it before the caller sees the status.
absl::Status NotDelivered(absl::Status status);
bool IsNotDelivered(const absl::Status& status);

// The wait before retry number `retry` (1: the first retry), `unit` a
// random draw in [0, 1) for the jitter:
//
//   policy {initial 50 ms, multiplier 2, max 1 s, jitter 0.2}
//   RetryBackoff(policy, 1, 0.5) -> 50 ms
//   RetryBackoff(policy, 3, 0.5) -> 200 ms
//   RetryBackoff(policy, 9, 0.5) -> 1 s
//   RetryBackoff(policy, 1, 0.0) -> 40 ms   (1 - jitter)
absl::Duration RetryBackoff(const RetryPolicy& policy, int retry, double unit);

// Runs `task` at `when` (or as soon as possible after) on the one retry
// timer thread of the process. Tasks must not block.
void RunAt(absl::Time when, absl::AnyInvocable<void()> task);

class RetryingCall : public std::enable_shared_from_this<RetryingCall> {
 public:
  // Sends one attempt with the call's deadline and arranges for `done` to
  // run exactly once (possibly before returning).
  using Attempt =
      absl::AnyInvocable<CallHandle(ClientChannel::RawCallback done)>;

  // Starts the first attempt. `what` names the call in errors (its
  // subject); `counters`, if set, count the attempts after the first.
  static CallHandle Start(std::shared_ptr<Transport> transport, RetryPlan plan,
                          absl::Time deadline, std::string what,
                          std::shared_ptr<ClientMethodCounters> counters,
                          Attempt attempt, ClientChannel::RawCallback done);

  RetryingCall(std::shared_ptr<Transport> transport, RetryPlan plan,
               absl::Time deadline, std::string what,
               std::shared_ptr<ClientMethodCounters> counters, Attempt attempt,
               ClientChannel::RawCallback done);
  ~RetryingCall();

  // CallHandle::Cancel(): ends the call with CANCELLED unless it ended.
  bool Cancel();

 private:
  // Sends the next attempt, or waits for the connection, or ends the call
  // when its deadline passed.
  void TryAttempt();
  void OnAttemptDone(absl::Status status, MessagePtr reply);
  // Waits (until the deadline at most) for the connection to come back.
  void WaitForConnection();
  // Runs TryAttempt() at `when` unless another wake-up came first.
  void WakeAt(absl::Time when);
  void Woken(uint64_t token);
  // Completes the call; false if it had ended already.
  bool Finish(absl::Status status, MessagePtr reply);

  const std::shared_ptr<Transport> transport_;
  const RetryPlan plan_;
  const absl::Time deadline_;
  const std::string what_;
  const std::shared_ptr<ClientMethodCounters> counters_;
  Attempt attempt_;

  absl::Mutex mu_;
  // Null once the call ended.
  ClientChannel::RawCallback done_ ABSL_GUARDED_BY(mu_);
  CallHandle current_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Attempts sent, and retries by the policy among them.
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  // Re-sends after no responders (wait_for_ready), for their backoff.
  int resends_ ABSL_GUARDED_BY(mu_) = 0;
  // The wake-up that may run TryAttempt() next (0: none pending).
  uint64_t wake_token_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 0;
  // The transport event listener while waiting for the connection.
  uint64_t listener_ ABSL_GUARDED_BY(mu_) = 0;
  // Set while waiting for the connection: only then do its events wake
  // the call.
  bool waiting_for_connection_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Why the last attempt failed, for the status at the deadline.
  absl::Status last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_CLIENT_RETRY_H_
