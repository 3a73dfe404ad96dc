// Copyright 2026 The natsrpc Authors.
//
// ServerCore's streams (docs/protocol.md section 9): accepting or refusing
// an open, and running its handler on a thread the StreamRunner owns.

#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/connection_state.h"
#include "server/server_context_access.h"
#include "server/server_core.h"
#include "stream/client_stream.h"
#include "stream/stream_endpoint.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/reply_metadata.h"

namespace natsrpc::internal {

void ServerCore::Refuse(const IncomingMessage& open,
                        const absl::Status& status) {
  streams_refused_.fetch_add(1, std::memory_order_relaxed);
  if (!RefuseStream(connection_.transport(), open, status).ok()) {
    publish_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void ServerCore::OpenStream(const RegisteredService& reg,
                            MethodHandler* handler, MessagePtr message,
                            const wire::RequestSubjectParts& parts,
                            absl::Time deadline) {
  const MethodKind kind = handler->kind();
  if (kind == MethodKind::kUnary) {
    unknown_method_.fetch_add(1, std::memory_order_relaxed);
    Refuse(*message, absl::UnimplementedError(absl::StrCat(
                         "method ", reg.service->service_name(), ".",
                         parts.method, " is not a streaming method")));
    return;
  }
  const auto registered = reg.methods.find(parts.method);
  MethodStatsInterceptor::Counters* counters =
      registered == reg.methods.end() ? nullptr : registered->second.counters;
  int running = 0;
  if (!streams_.TryReserve(&running)) {
    overloaded_.fetch_add(1, std::memory_order_relaxed);
    if (counters != nullptr) {
      counters->resource_exhausted.fetch_add(1, std::memory_order_relaxed);
    }
    Refuse(*message, absl::ResourceExhaustedError(
                         absl::StrCat("server ", options_.responder, " has ",
                                      running, " streams open, its limit")));
    return;
  }
  ServerCallInterceptors interceptors;
  if (absl::Status s =
          interceptors.Start(interceptors_, /*builtins=*/1,
                             MakeCallInfo(parts, kind, deadline), *message);
      !s.ok()) {
    streams_.Unreserve();
    // A refusal carries no metadata (stream/client_stream.h RefuseStream).
    Metadata unsent;
    interceptors.Finish(s, unsent);
    Refuse(*message, s);
    return;
  }
  auto state = std::make_shared<CallState>();
  ServerStreamParams params;
  params.receives = kind != MethodKind::kServerStreaming;
  // Revision 5 (docs/protocol.md 9.5.1): a client that honours byte credit
  // gets the larger message window and a byte bound; an older one the
  // revision-4 window.
  params.window = options_.stream_window > 0
                      ? options_.stream_window
                      : wire::kDefaultStreamWindowMessages;
  params.legacy_window = options_.stream_window > 0
                             ? options_.stream_window
                             : wire::kDefaultStreamWindow;
  params.window_bytes = options_.stream_window_bytes > 0
                            ? options_.stream_window_bytes
                            : wire::kDefaultStreamWindowBytes;
  params.min_heartbeat = options_.min_stream_heartbeat > absl::ZeroDuration()
                             ? options_.min_stream_heartbeat
                             : wire::kDefaultMinStreamHeartbeat;
  params.deadline = deadline;
  if (counters != nullptr) params.credit_stalls = counters->credit_stalls;
  params.on_failure = [state](const absl::Status&) {
    state->cancelled.store(true, std::memory_order_release);
  };
  absl::StatusOr<std::shared_ptr<StreamEndpoint>> endpoint =
      AcceptStream(ConnectionAccess::State(connection_)->transport(), table_,
                   *message, parts, std::move(params));
  if (!endpoint.ok()) {
    streams_.Unreserve();
    invalid_.fetch_add(1, std::memory_order_relaxed);
    Metadata unsent;
    interceptors.Finish(endpoint.status(), unsent);
    Refuse(*message, endpoint.status());
    return;
  }
  streams_accepted_.fetch_add(1, std::memory_order_relaxed);
  // `this` outlives the thread: Shutdown() joins it (StreamRunner), and the
  // core is destroyed only after Shutdown().
  streams_.Start([this, &reg, handler, message = std::move(message), parts,
                  deadline, endpoint = *std::move(endpoint),
                  state = std::move(state),
                  interceptors = std::move(interceptors)]() mutable {
    RunStream(reg, handler, std::move(message), parts, deadline,
              std::move(endpoint), std::move(state), std::move(interceptors));
  });
}

void ServerCore::RunStream(const RegisteredService& reg, MethodHandler* handler,
                           MessagePtr message,
                           const wire::RequestSubjectParts& parts,
                           absl::Time deadline,
                           std::shared_ptr<StreamEndpoint> endpoint,
                           std::shared_ptr<CallState> state,
                           ServerCallInterceptors interceptors) {
  handled_.fetch_add(1, std::memory_order_relaxed);
  ServerContext context(message, parts.requester, parts.responder, parts.app,
                        parts.service, parts.method, deadline);
  ServerContextAccess::SetCancelFlag(context, &state->cancelled);
  std::optional<ScopedTraceContext> current_span;
  if (interceptors.trace().valid()) {
    ServerContextAccess::SetTrace(context, interceptors.trace());
    // The handler's nested calls are children of this stream's span.
    current_span.emplace(interceptors.trace());
  }
  // Revision 4: the handler's initial metadata goes with its first message
  // (wire/reply_metadata.h).
  bool initial_sent = false;
  endpoint->SetFirstMessageMetadata([&context, &initial_sent] {
    initial_sent = true;
    Metadata out;
    wire::AppendMetadata(context.initial_metadata(), {}, out);
    return out;
  });
  Payload reply;
  absl::string_view content_type;
  absl::Status status;
  try {
    status = handler->RunStream(*reg.service, context, message, endpoint, reply,
                                content_type);
  } catch (const std::exception& e) {
    status = absl::UnknownError(
        absl::StrCat("handler of ", reg.service->service_name(), ".",
                     parts.method, " threw: ", e.what()));
  } catch (...) {
    status = absl::UnknownError(
        absl::StrCat("handler of ", reg.service->service_name(), ".",
                     parts.method, " threw a non-standard exception"));
  }
  if (status.ok() && handler->kind() == MethodKind::kClientStreaming) {
    absl::Status w = endpoint->Write(reply.view(), nullptr, deadline);
    if (!w.ok() && endpoint->failure().ok()) {
      status = absl::Status(
          w.code(), absl::StrCat("cannot send the reply: ", w.message()));
    }
  }
  // A stream that already failed (cancelled, client gone, shutdown) sends
  // nothing: its interceptors see how it ended instead.
  endpoint->SetFirstMessageMetadata(nullptr);
  const absl::Status failure = endpoint->failure();
  Metadata response = context.response_metadata();
  interceptors.Finish(failure.ok() ? status : failure, response);
  // Trailers plain; initial metadata that no message carried, prefixed.
  Metadata trailers;
  wire::AppendMetadata(response, {}, trailers);
  wire::AppendMetadata(context.trailing_metadata(), {}, trailers);
  if (!initial_sent) {
    wire::AppendMetadata(context.initial_metadata(), wire::kInitialPrefix,
                         trailers);
  }
  endpoint->WritesDone(status, trailers.empty() ? nullptr : &trailers)
      .IgnoreError();
  if (state->cancelled.load(std::memory_order_acquire)) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace natsrpc::internal
