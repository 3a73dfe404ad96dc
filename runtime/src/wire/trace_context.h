// Copyright 2026 The natsrpc Authors.
//
// W3C Trace Context on the wire (docs/protocol.md section 3, revision 4):
// the `traceparent` and `tracestate` headers of a request or a stream's
// open, parsed and written per https://www.w3.org/TR/trace-context/.

#ifndef NATSRPC_SRC_WIRE_TRACE_CONTEXT_H_
#define NATSRPC_SRC_WIRE_TRACE_CONTEXT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"
#include "natsrpc/transport.h"

namespace natsrpc::wire {

inline constexpr absl::string_view kTraceparentHeader = "traceparent";
inline constexpr absl::string_view kTracestateHeader = "tracestate";

// True for `traceparent` and `tracestate`, compared without regard to case:
// the protocol's trace headers, which are not application metadata.
bool IsTraceHeader(absl::string_view key);

// True if `hex` is `digits` lower-case hex digits, not all zero: the form of
// a trace id (32) and a span id (16).
bool IsTraceId(absl::string_view hex, size_t digits);

// Parses a `traceparent` value into trace_id, span_id (the parent-id field:
// the caller's span) and flags. Invalid values give nothing (W3C: the
// receiver then ignores both headers). Version 00 is exactly 55 characters;
// a later version (not ff) may be longer, with a '-' after the four fields.
//
//   ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
//     -> {trace_id 4bf9..4736, span_id 00f0..02b7, flags 0x01}
//   ParseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
//     -> none (all-zero trace id)
std::optional<TraceContext> ParseTraceparent(absl::string_view value);

// Version 00 of `context` (valid()): "00-<trace_id>-<span_id>-<flags>".
std::string FormatTraceparent(const TraceContext& context);

// The trace context of a request's or open's headers: `traceparent` (first
// occurrence) and every `tracestate` joined with ',' (W3C allows several
// lines). span_id is the caller's span. Empty if `traceparent` is absent or
// invalid; a `tracestate` longer than 512 characters or with bytes outside
// printable ASCII is dropped.
TraceContext TraceContextFromHeaders(const Metadata& headers);

// The same from a received message; cheap when it has no `traceparent`.
TraceContext TraceContextFromMessage(const IncomingMessage& message);

// Appends `traceparent` (and `tracestate` if not empty) for `context`;
// nothing if it is not valid().
void AppendTraceHeaders(const TraceContext& context, Metadata& headers);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_TRACE_CONTEXT_H_
