// Copyright 2026 The natsrpc Authors.
//
// A span hook in a few lines: client and server interceptors
// (natsrpc/interceptor.h) that report every call as a span of W3C Trace
// Context (natsrpc/trace.h) — start and end, trace id, span id, parent,
// method, status and duration. An OpenTelemetry SDK plugs in the same way:
// its interceptor reads CallInfo::trace to make the span (or writes its own
// ids there) and ends the span in OnFinish.
//
//   auto sink = [](const examples::Span& s) { std::cerr << s.Line() << "\n"; };
//   natsrpc::ClientOptions client_options{
//       .requester = "alice", .responder = "bob",
//       .interceptors = {std::make_shared<examples::ClientSpanLogger>(sink)}};
//   natsrpc::ServerOptions server_options{
//       .responder = "bob",
//       .interceptors = {std::make_shared<examples::ServerSpanLogger>(sink)}};
//
// prints, for a call of alice's that bob's handler serves:
//
//   span start client example_v1.Calculator/Add trace=4bf9... span=00f0...
//   parent=- span start server example_v1.Calculator/Add trace=4bf9...
//   span=7a1c... parent=00f0... span end   server example_v1.Calculator/Add
//   trace=4bf9... span=7a1c... parent=00f0... status=OK duration=85us span end
//   client example_v1.Calculator/Add trace=4bf9... span=00f0... parent=-
//   status=OK duration=310us

#ifndef NATSRPC_EXAMPLES_TRACING_SPAN_LOGGER_H_
#define NATSRPC_EXAMPLES_TRACING_SPAN_LOGGER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/trace.h"

namespace examples {

// One span event.
struct Span {
  bool end = false;    // false: the span started
  std::string kind;    // "client" or "server"
  std::string method;  // <app>.<service>/<method>
  natsrpc::TraceContext trace;
  absl::Status status;                             // end only
  absl::Duration duration = absl::ZeroDuration();  // end only

  std::string Line() const {
    std::string line = absl::StrCat(
        end ? "span end   " : "span start ", kind, " ", method,
        " trace=", trace.trace_id, " span=", trace.span_id,
        " parent=", trace.parent_span_id.empty() ? "-" : trace.parent_span_id);
    if (end) {
      absl::StrAppend(&line,
                      " status=", absl::StatusCodeToString(status.code()),
                      " duration=", absl::FormatDuration(duration));
    }
    return line;
  }
};

using SpanSink = std::function<void(const Span&)>;

namespace internal {

class SpanCall {
 public:
  SpanCall(std::string kind, const natsrpc::CallInfo& call, SpanSink sink)
      : trace_(call.trace), sink_(std::move(sink)) {
    span_.kind = std::move(kind);
    span_.method = absl::StrCat(call.app, ".", call.service, "/", call.method);
  }
  void Start() {
    span_.trace = *trace_;
    sink_(span_);
  }
  void Finish(const absl::Status& status) {
    span_.end = true;
    span_.status = status;
    span_.duration = absl::Now() - start_;
    sink_(span_);
  }

 private:
  // CallInfo::trace: valid until OnFinish returns.
  natsrpc::TraceContext* trace_;
  SpanSink sink_;
  Span span_;
  absl::Time start_ = absl::Now();
};

}  // namespace internal

// Client spans. A call with no parent span starts a new trace.
class ClientSpanLogger final : public natsrpc::ClientInterceptor {
 public:
  explicit ClientSpanLogger(SpanSink sink) : sink_(std::move(sink)) {}

  std::unique_ptr<natsrpc::ClientCallInterceptor> Intercept(
      const natsrpc::CallInfo& call) override {
    if (!call.trace->valid()) *call.trace = natsrpc::TraceContext::NewRoot();
    return std::make_unique<Call>(call, sink_);
  }

 private:
  struct Call final : natsrpc::ClientCallInterceptor {
    Call(const natsrpc::CallInfo& call, SpanSink sink)
        : span("client", call, std::move(sink)) {}
    absl::Status OnStart(natsrpc::Metadata&) override {
      span.Start();
      return absl::OkStatus();
    }
    void OnFinish(const absl::Status& status,
                  const natsrpc::Metadata&) override {
      span.Finish(status);
    }
    internal::SpanCall span;
  };
  SpanSink sink_;
};

// Server spans: children of the caller's span (a request without a trace
// context starts a new trace).
class ServerSpanLogger final : public natsrpc::ServerInterceptor {
 public:
  explicit ServerSpanLogger(SpanSink sink) : sink_(std::move(sink)) {}

  std::unique_ptr<natsrpc::ServerCallInterceptor> Intercept(
      const natsrpc::CallInfo& call) override {
    if (!call.trace->valid()) *call.trace = natsrpc::TraceContext::NewRoot();
    return std::make_unique<Call>(call, sink_);
  }

 private:
  struct Call final : natsrpc::ServerCallInterceptor {
    Call(const natsrpc::CallInfo& call, SpanSink sink)
        : span("server", call, std::move(sink)) {}
    absl::Status OnStart(const natsrpc::Metadata&) override {
      span.Start();
      return absl::OkStatus();
    }
    void OnFinish(const absl::Status& status, natsrpc::Metadata&) override {
      span.Finish(status);
    }
    internal::SpanCall span;
  };
  SpanSink sink_;
};

}  // namespace examples

#endif  // NATSRPC_EXAMPLES_TRACING_SPAN_LOGGER_H_
