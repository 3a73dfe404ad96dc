// Copyright 2026 The natsrpc Authors.
//
// Metadata a server sends back (docs/protocol.md sections 3 and 9.1,
// revision 4): initial metadata and trailers, and how one header block
// carries both.
//
//   unary reply:        initial metadata as plain application headers,
//                       trailers as `Natsrpc-Trailer-<key>`;
//   accept, first msg:  initial metadata as plain application headers;
//   server's end:       trailers as plain application headers, and initial
//                       metadata no msg carried as `Natsrpc-Initial-<key>`.
//
// An application header is any header whose name is not reserved
// (`Nats-*`, `Natsrpc-*`, `Content-Type`: wire/headers.h) nor a trace header
// (`traceparent`, `tracestate`: wire/trace_context.h), so the status headers
// can never be read as metadata. A value may be empty.

#ifndef NATSRPC_SRC_WIRE_REPLY_METADATA_H_
#define NATSRPC_SRC_WIRE_REPLY_METADATA_H_

#include "absl/strings/string_view.h"
#include "natsrpc/metadata.h"

namespace natsrpc::wire {

inline constexpr absl::string_view kTrailerPrefix = "Natsrpc-Trailer-";
inline constexpr absl::string_view kInitialPrefix = "Natsrpc-Initial-";

// True if `key` is application metadata (see above).
bool IsApplicationHeader(absl::string_view key);

// Appends the sendable entries of `metadata` (wire/headers.h
// SendableMetadata: valid, not reserved), each key with `prefix` in front,
// to `out`; an empty prefix appends them unchanged. Trace headers are left
// out too.
//
//   AppendMetadata({{"a", "1"}, {"Nats-X", "2"}}, "Natsrpc-Trailer-", out)
//     -> out += {"Natsrpc-Trailer-a", "1"}
void AppendMetadata(const Metadata& metadata, absl::string_view prefix,
                    Metadata& out);

// Splits the headers of a received message: application headers go to
// `plain`, headers spelled `<prefix><key>` (exact case) whose key is itself
// an application header go to `prefixed` under `<key>`; everything else
// (status, protocol, trace headers) is left out. Order is kept.
//
//   SplitMetadata({{"a","1"}, {"Natsrpc-Trailer-b","2"},
//                  {"Nats-Service-Error","x"}}, "Natsrpc-Trailer-", p, q)
//     -> p = {{"a","1"}}, q = {{"b","2"}}
void SplitMetadata(const Metadata& headers, absl::string_view prefix,
                   Metadata& plain, Metadata& prefixed);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_REPLY_METADATA_H_
