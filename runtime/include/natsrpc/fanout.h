// Copyright 2026 The natsrpc Authors.
//
// Beyond one request, one reply (docs/protocol.md section 13, revision 5):
// typed events and scatter-gather, the options of the generated calls that
// make them.
//
// Events: a method the IDL marks as an event (`natsrpc.method.event`, or
// `natsrpc.service.events` for every method of a service; `natsrpc_event` in
// .fbs) gets on the client
//
//   absl::Status Notify(const Req& event, const natsrpc::EventOptions& = {});
//   absl::Status NotifyConfirmed(const Req& event,
//                                const natsrpc::EventOptions& = {});
//
// The first returns once the message is handed to NATS; the second also
// waits for a round trip to the NATS server (a flush), so the event was
// received by the server (not necessarily by a subscriber). The server's
// handler takes the request and returns a status that is counted in its
// metrics and never sent. Whether one instance (the queue group) or every
// instance receives an event is the IDL's choice (`natsrpc.service.
// broadcast_events`, `natsrpc.method.broadcast`; `natsrpc_broadcast`).
//
// Scatter-gather: every unary method that is not an event also gets
//
//   absl::StatusOr<std::vector<natsrpc::GatherReply<Resp>>> AddAll(
//       const Req& request, const natsrpc::GatherOptions& = {});
//   void AddAllAsync(const Req& request,
//                    natsrpc::Callback<std::vector<natsrpc::GatherReply<Resp>>>
//                        done,
//                    const natsrpc::GatherOptions& = {});
//
// which sends one request to every instance of the responder and collects
// their replies (ADR-47's "request many"): the call ends at its deadline,
// after `stall` without a new reply, after `max_replies` replies, or after a
// reply carrying the sentinel (ServerContext::EndGather()), whichever comes
// first, and returns the replies received until then, in arrival order. It
// fails only if the request could not be sent (UNAVAILABLE when nothing
// subscribes to the every-instance subject: no server of revision 5 or
// later runs).

#ifndef NATSRPC_FANOUT_H_
#define NATSRPC_FANOUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "natsrpc/metadata.h"

namespace natsrpc {

// Options of one event publish.
struct EventOptions {
  // Headers for this event, after ClientOptions::metadata.
  Metadata metadata{};
  // The Confirmed form: how long to wait for the NATS server's
  // confirmation. Zero: the method's default timeout.
  absl::Duration confirm_timeout = absl::ZeroDuration();
};

// Options of one scatter-gather call.
struct GatherOptions {
  // How long to collect replies in all. Zero: the method's default timeout
  // (IDL option, else ClientOptions::default_timeout, else 10 s).
  absl::Duration timeout = absl::ZeroDuration();
  // An absolute deadline; the call ends at the earlier of this and
  // `timeout`.
  absl::Time deadline = absl::InfiniteFuture();
  // End after this long without a new reply (counted from the request for
  // the first reply). Zero: no stall timer.
  absl::Duration stall = absl::ZeroDuration();
  // End after this many replies. Zero: no limit.
  int max_replies = 0;
  // Headers for this call, after ClientOptions::metadata.
  Metadata metadata{};
};

// One instance's answer to a scatter-gather call.
template <typename T>
struct GatherReply {
  // The instance that answered (its `Natsrpc-Instance` header: the ADR-32
  // id of the server, Server::instance_id()); empty if the reply named none.
  std::string instance_id;
  // Its reply, or the status it answered with.
  absl::StatusOr<T> reply;
};

}  // namespace natsrpc

#endif  // NATSRPC_FANOUT_H_
