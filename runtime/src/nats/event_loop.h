// Copyright 2026 The natsrpc Authors.
//
// An epoll event-loop thread for one nats.c connection, attached through
// natsOptions_SetEventLoop together with natsOptions_SetSendAsap(true)
// (docs/platform.md, "The 1 ms trap"). A publish then only appends to nats.c's
// buffer and asks once for write interest; this thread writes everything
// published meanwhile in one send(). Reads happen on this thread too (nats.c
// starts no read-loop thread of its own when an event loop is attached).
//
// Rules nats.c imposes, all honoured here:
//   - the attach/read/write/detach callbacks run on any thread, with the
//     connection's lock held: they only touch our state and call epoll_ctl;
//   - natsConnection_ProcessReadEvent reads once per call: epoll is
//     level-triggered;
//   - the loop must run before natsConnection_Connect; a reconnect calls
//     attach again with the new socket;
//   - shutdown: natsConnection_Close, then Stop(), then natsConnection_Destroy.

#ifndef NATSRPC_SRC_NATS_EVENT_LOOP_H_
#define NATSRPC_SRC_NATS_EVENT_LOOP_H_

#include <nats/nats.h>

#include <atomic>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace natsrpc::internal {

class EventLoop {
 public:
  // Starts the loop thread.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Start();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  // Stop()s.
  ~EventLoop();

  // Makes connections created with `opts` use this loop (one connection per
  // loop).
  natsStatus Install(natsOptions* opts);

  // Writes what nats.c buffered, on the calling thread, if a write is
  // pending. Never call it with a nats.c lock held (for example from a nats.c
  // connection callback); message handlers are fine.
  void FlushNow();

  // A burst of publishes from one message-delivery thread: between
  // BeginBurst() and EndBurst() on a thread, requests to write that nats.c
  // makes on it are not passed to epoll (no epoll_ctl, no loop wake-up);
  // EndBurst() writes everything buffered, on the calling thread. Output
  // that other threads publish meanwhile waits for EndBurst() too, so a
  // burst must end soon: see OnSubscriptionMessage in nats_transport.cc.
  void BeginBurst();
  void EndBurst();
  // True between BeginBurst() and EndBurst() on this thread.
  bool InBurst() const;

  // While one lives, a request to write that nats.c makes on this thread
  // (the first publish into an empty buffer) is not passed to epoll, which
  // would wake the loop thread for nothing: the destructor writes on this
  // thread instead (FlushNow()). For a publish that is to be written at once
  // anyway (FlushPolicy::kNow, Delivery::SetMayBlock).
  class WriteHere {
   public:
    explicit WriteHere(EventLoop* loop);  // null: does nothing
    ~WriteHere();
    WriteHere(const WriteHere&) = delete;
    WriteHere& operator=(const WriteHere&) = delete;

   private:
    EventLoop* const loop_;
    EventLoop* const outer_;  // the burst it is part of, if any
  };

  // True while output waits for the loop thread to write it.
  bool write_pending() const {
    return write_wanted_.load(std::memory_order_relaxed);
  }

  // Waits up to `timeout` until nats.c detached its connection from this
  // loop, the last thing natsConnection_Close does (on whichever thread runs
  // it: another thread's close may still be under way when this thread's
  // natsConnection_Close returns). True once detached, or if no connection
  // ever attached. The loop must not be destroyed before.
  bool WaitDetached(absl::Duration timeout);

  // Stops and joins the loop thread. Call after natsConnection_Close and
  // before natsConnection_Destroy. Idempotent.
  void Stop();

 private:
  EventLoop(int epoll_fd, int wake_fd);

  void Run();
  // Both write the epoll registration to match what nats.c asked for.
  void UpdateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FlushNow() on a thread that wrote itself (WriteHere, a burst), then
  // hands what is left to the loop thread.
  void FlushHere();

  // nats.c's callbacks.
  static natsStatus OnAttach(void** user_data, void* loop, natsConnection* nc,
                             natsSock socket);
  static natsStatus OnRead(void* user_data, bool add);
  static natsStatus OnWrite(void* user_data, bool add);
  static natsStatus OnDetach(void* user_data);

  const int epoll_fd_;
  const int wake_fd_;  // eventfd; readable once Stop() was called

  // Leaf lock: taken inside nats.c's connection lock.
  absl::Mutex mu_;
  natsConnection* nc_ ABSL_GUARDED_BY(mu_) = nullptr;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  bool read_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;  // by nats.c, until detached
  uint32_t registered_events_ ABSL_GUARDED_BY(mu_) = 0;
  // Written under mu_; read without it as a hint.
  std::atomic<bool> write_wanted_{false};

  // Serializes natsConnection_ProcessWriteEvent calls: with an empty buffer
  // nats.c would take send() returning 0 for a closed connection, so a
  // writer must see write_wanted_ under this lock (only ProcessWriteEvent
  // clears it) before it calls in. Taken before nats.c's lock.
  absl::Mutex write_mu_;

  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_EVENT_LOOP_H_
