// Copyright 2026 The natsrpc Authors.
//
// natsrpc/trace.h: span ids and the current span of a thread.

#include "wire/trace_context.h"

#include <cstdint>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "natsrpc/trace.h"

namespace natsrpc {
namespace {

thread_local const TraceContext* tl_current = nullptr;

// `digits` random lower-case hex digits, not all zero.
std::string RandomHex(size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local absl::BitGen gen;
  std::string out(digits, '0');
  do {
    for (char& c : out) c = kHex[absl::Uniform<int>(gen, 0, 16)];
  } while (!wire::IsTraceId(out, digits));
  return out;
}

}  // namespace

bool TraceContext::valid() const {
  return wire::IsTraceId(trace_id, 32) && wire::IsTraceId(span_id, 16);
}

TraceContext TraceContext::NewRoot(uint8_t flags) {
  TraceContext out;
  out.trace_id = RandomHex(32);
  out.span_id = RandomHex(16);
  out.flags = flags;
  return out;
}

TraceContext TraceContext::NewChild() const {
  TraceContext out;
  out.trace_id = trace_id;
  out.span_id = RandomHex(16);
  out.parent_span_id = span_id;
  out.flags = flags;
  out.trace_state = trace_state;
  return out;
}

const TraceContext& CurrentTraceContext() {
  static const TraceContext* const kEmpty = new TraceContext();
  return tl_current == nullptr ? *kEmpty : *tl_current;
}

ScopedTraceContext::ScopedTraceContext(TraceContext context)
    : context_(std::move(context)), previous_(tl_current) {
  tl_current = &context_;
}

ScopedTraceContext::~ScopedTraceContext() { tl_current = previous_; }

}  // namespace natsrpc
