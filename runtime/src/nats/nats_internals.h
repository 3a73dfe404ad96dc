// Copyright 2026 The natsrpc Authors.
//
// The NATS adapter's fast path: the only code that uses nats.c beyond its
// public API (docs/platform.md, "nats.c internals"). Everything here is
// optional: when the fast path is compiled out (CMake option
// NATSRPC_NATS_FAST_PATH=OFF), the nats.c found at run time is not a release
// it was tested on, or the start-up self-test finds a layout other than the
// one it expects, `Available()` is false and the callers use nats.c's public
// API. Callers must check `Available()` before calling anything else here.

#ifndef NATSRPC_SRC_NATS_NATS_INTERNALS_H_
#define NATSRPC_SRC_NATS_NATS_INTERNALS_H_

#include <nats/nats.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace natsrpc::internal::nats_internals {

// True if the fast path may be used in this process. Runs the self-test
// once, on first call (ConnectNats calls it before connecting).
bool Available();

// The outcome of the self-test, for diagnostics and tests: OK if the fast
// path is usable, otherwise why not.
absl::Status SelfTestResult();

// Creates a message from `bytes`: a complete NATS header block of
// `header_len` bytes ("NATS/1.0\r\n...\r\n\r\n"; 0: none) followed by the
// payload, as nats.c builds a received message. natsConnection_PublishMsg
// sends such a message with its header block as is. Free it with
// FreeMessage().
natsStatus CreateMessage(natsMsg** msg, absl::string_view subject,
                         absl::string_view reply, absl::string_view bytes,
                         int header_len);

// Frees `msg` at once, without the hop to nats.c's garbage-collector thread
// that natsMsg_Destroy takes. Like natsMsg_Destroy, does nothing for a
// message nats.c marked "no destroy" (one it still uses after the callback
// returns, as JetStream's auto-ack does).
void FreeMessage(natsMsg* msg);

// The header block of a received message ("NATS/1.0...\r\n\r\n"), read from
// the message itself: an empty view if it has none, nullopt if the bytes do
// not check out (the caller then asks natsMsgHeader_*).
std::optional<absl::string_view> HeaderBlock(natsMsg* msg);

}  // namespace natsrpc::internal::nats_internals

#endif  // NATSRPC_SRC_NATS_NATS_INTERNALS_H_
