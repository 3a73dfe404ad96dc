// Copyright 2026 The natsrpc Authors.
//
// W3C Trace Context (https://www.w3.org/TR/trace-context/) for natsrpc calls
// (docs/protocol.md section 3, revision 4): the `traceparent` and
// `tracestate` headers of a request or a stream's open.
//
// Every call that has a trace context is one span: the client makes a new
// span id for each outgoing call, a child of the current span, and keeps the
// trace id; the server makes a span of its own for the call it serves, a
// child of the caller's span, and runs the handler with it as the current
// span, so that the calls a handler makes on its thread carry the trace on
// without any code:
//
//   absl::Status Outer(natsrpc::ServerContext& ctx, const Req& req,
//                      Resp& resp) override {
//     // ctx.trace_context(): this call's span; a child of the caller's.
//     absl::StatusOr<InnerResp> r = inner_client_.Inner(InnerReq());
//     // ^ sent with the same trace id and a new span id whose parent is
//     //   ctx.trace_context().span_id
//   }
//
// A call made elsewhere (a thread of the application's own, an async
// callback) passes the parent in CallOptions::trace_parent, or sets it for a
// scope with ScopedTraceContext. A call without any parent carries no trace
// context unless an interceptor starts one (natsrpc/interceptor.h: CallInfo
// ::trace), which is how an OpenTelemetry SDK plugs in.

#ifndef NATSRPC_TRACE_H_
#define NATSRPC_TRACE_H_

#include <cstdint>
#include <string>

#include "natsrpc/export.h"

namespace natsrpc {

// One span of a trace. Empty (valid() false) when a call has no trace.
struct TraceContext {
  // 32 lower-case hex digits, not all zero.
  std::string trace_id{};
  // This span: 16 lower-case hex digits, not all zero.
  std::string span_id{};
  // The span this one is a child of (16 hex digits), or empty for a root
  // span. On a server, the caller's span (the parent-id of `traceparent`).
  std::string parent_span_id{};
  // The trace-flags of `traceparent`; bit 0 (kSampled) is "sampled".
  uint8_t flags = 0;
  // The `tracestate` header, passed on unchanged; empty if none.
  std::string trace_state{};

  static constexpr uint8_t kSampled = 0x01;

  // True if trace_id and span_id have the form above.
  NATSRPC_EXPORT bool valid() const;
  bool sampled() const { return (flags & kSampled) != 0; }

  // A new root span: a random trace id and span id, no parent.
  NATSRPC_EXPORT static TraceContext NewRoot(uint8_t flags = kSampled);
  // A new span of the same trace, a child of this one (which must be
  // valid()): a random span id, parent_span_id = span_id, same flags and
  // trace_state.
  NATSRPC_EXPORT TraceContext NewChild() const;
};

// The current span of this thread: during a handler, the span of the call
// it serves; else what a ScopedTraceContext set; else an empty context.
NATSRPC_EXPORT const TraceContext& CurrentTraceContext();

// Makes `context` the current span of this thread until destruction, then
// restores the previous one. Keeps a copy.
class NATSRPC_EXPORT ScopedTraceContext {
 public:
  explicit ScopedTraceContext(TraceContext context);
  ~ScopedTraceContext();
  ScopedTraceContext(const ScopedTraceContext&) = delete;
  ScopedTraceContext& operator=(const ScopedTraceContext&) = delete;

 private:
  TraceContext context_;
  const TraceContext* previous_;
};

}  // namespace natsrpc

#endif  // NATSRPC_TRACE_H_
