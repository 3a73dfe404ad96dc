// Copyright 2026 The natsrpc Authors.
//
// The Transport seam (natsrpc/transport.h) implemented over nats.c. The only
// code of natsrpc that includes nats.h lives in this folder:
//   connect.cc          ConnectOptions -> natsOptions, by concern;
//   nats_transport.cc   publish, subscribe, deliveries and bursts, events;
//   nats_message.{h,cc} a received message and the header block format;
//   nats_internals.*    the optional fast path through nats.c internals;
//   event_loop.*        the epoll thread that writes what is published.

#ifndef NATSRPC_SRC_NATS_NATS_TRANSPORT_H_
#define NATSRPC_SRC_NATS_NATS_TRANSPORT_H_

#include <nats/nats.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "natsrpc/connection.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

// Connects with nats.c. The connection uses SendAsap so that no publish waits
// for nats.c's 1 ms flusher (docs/platform.md, "The 1 ms trap").
absl::StatusOr<std::shared_ptr<Transport>> ConnectNats(
    const ConnectOptions& options);

// Starts a transport over `opts`, which ConnectNats filled from the
// ConnectOptions: attaches the event loop (unless `tuning` says otherwise)
// and the connection callbacks, then connects. `where` names the servers in
// error messages.
absl::StatusOr<std::shared_ptr<Transport>> StartNatsTransport(
    natsOptions* opts, const TransportTuning& tuning, int max_pending_messages,
    absl::string_view where);

// nats.c's text for `s`, with the thread's last error detail if any.
std::string NatsText(natsStatus s);

// "Permissions Violation for Publish to "requests.a.b"" -> subject, publish.
// False if `text` is no permission violation.
bool ParsePermissionViolation(absl::string_view text, std::string& subject,
                              bool& publish);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_NATS_TRANSPORT_H_
