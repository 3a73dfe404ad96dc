// Copyright 2026 The natsrpc Authors.
//
// Marks the calling thread as running a server handler on a subscription's
// delivery thread. What such a handler publishes is written at once, never
// held back for the end of the delivery thread's burst (see
// OnSubscriptionMessage in nats_transport.cc): the handler may block until
// the reply to what it published arrives.

#ifndef NATSRPC_SRC_SERVER_HANDLER_SCOPE_H_
#define NATSRPC_SRC_SERVER_HANDLER_SCOPE_H_

namespace natsrpc::internal {

class HandlerScope {
 public:
  HandlerScope() : outer_(active_) { active_ = true; }
  ~HandlerScope() { active_ = outer_; }
  HandlerScope(const HandlerScope&) = delete;
  HandlerScope& operator=(const HandlerScope&) = delete;

  static bool active() { return active_; }

 private:
  static inline thread_local bool active_ = false;
  const bool outer_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_HANDLER_SCOPE_H_
