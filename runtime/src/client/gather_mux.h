// Copyright 2026 The natsrpc Authors.
//
// The scatter-gather calls of one client stub (docs/protocol.md 13.3): one
// wildcard subscription `responses.<requester>.<responder>.<app>.<gather
// client id>.*`, made by the first call, the calls in flight by seq, and one
// timer thread for their deadlines and stall intervals. A call costs a
// publish and a map entry: no subscription, flush or thread of its own.

#ifndef NATSRPC_SRC_CLIENT_GATHER_MUX_H_
#define NATSRPC_SRC_CLIENT_GATHER_MUX_H_

#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/connection.h"
#include "natsrpc/impl/client_channel.h"

namespace natsrpc::internal {

class GatherRouter;

class GatherMux {
 public:
  // `requester`, `responder`, `app`: the names of the reply subject; the
  // client id is a fresh one.
  GatherMux(const Connection& connection, absl::string_view requester,
            absl::string_view responder, absl::string_view app);
  // Calls in flight go on until they end (their replies still arrive); the
  // subscription and the timer thread end with the last of them.
  ~GatherMux();
  GatherMux(const GatherMux&) = delete;
  GatherMux& operator=(const GatherMux&) = delete;

  struct Call {
    absl::Time deadline = absl::InfiniteFuture();
    absl::Duration stall = absl::ZeroDuration();  // zero: none
    int max_replies = 0;                          // zero: no limit
    // The every-instance subject, for the no-responders error.
    std::string subject;
    ClientChannel::RawGatherCallback done;
  };

  // Registers `call` and runs `publish` with its reply-to subject; `done`
  // runs once: with the publish's error, or with OK (or UNAVAILABLE: no
  // responders) and the replies when one of the call's limits ends it, on
  // the thread that saw that (a delivery thread or the timer thread; it
  // must not block).
  void Start(
      Call call,
      absl::FunctionRef<absl::Status(absl::string_view reply_to)> publish);

 private:
  std::shared_ptr<GatherRouter> router_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_CLIENT_GATHER_MUX_H_
