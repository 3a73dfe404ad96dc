// Copyright 2026 The natsrpc Authors.
//
// ServerCore's events and every-instance requests (docs/protocol.md section
// 13): the `.all` subscription of each service, and events, which run like
// unary calls but never reply.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/inline_policy.h"
#include "server/server_context_access.h"
#include "server/server_core.h"
#include "wire/headers.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

absl::Status ServerCore::SubscribeAll(
    const std::shared_ptr<RegisteredService>& reg) {
  const std::string subject = wire::AllWildcard(options_.responder, reg->app,
                                                reg->service->service_name());
  std::weak_ptr<ServerCore> weak = weak_from_this();
  absl::StatusOr<std::unique_ptr<Subscription>> sub =
      connection_.transport().Subscribe(
          subject, /*queue=*/"", [weak, reg](MessagePtr m, Delivery& delivery) {
            if (auto self = weak.lock()) {
              self->OnAllRequest(*reg, std::move(m), delivery);
            }
          });
  if (!sub.ok()) return SubscribeError(subject, sub.status());
  reg->all_subscription = *std::move(sub);
  absl::MutexLock lock(&events_mu_);
  subject_owners_[subject] =
      absl::StrCat("service ", reg->app, ".", reg->service->service_name());
  return absl::OkStatus();
}

bool ServerCore::DispatchEvent(const RegisteredService& reg,
                               const MessagePtr& message,
                               const wire::RequestSubjectParts& parts,
                               Delivery& delivery) {
  auto it = reg.methods.find(parts.method);
  if (it == reg.methods.end() || !it->second.handler->is_event()) {
    return false;
  }
  // Nothing is replied: whatever is wrong is only counted.
  if (!message->header_status().ok()) {
    invalid_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  absl::Time deadline = absl::InfiniteFuture();
  if (std::optional<absl::string_view> t =
          message->header(wire::kTimeoutHeader)) {
    absl::StatusOr<absl::Duration> timeout = wire::DecodeTimeout(*t);
    if (!timeout.ok()) {
      invalid_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (*timeout <= absl::ZeroDuration()) {
      expired_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    deadline = absl::Now() + *timeout;
  }
  const RegisteredMethod& method = it->second;
  // A handler that proved fast runs here, as a call's would.
  if (RunOnDeliveryThread(*method.timing, options_.run_fast_handlers_inline,
                          delivery, *pool_)) {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    {
      InFlight in_flight(in_flight_);
      ServeEvent(reg, method, message, parts, deadline, &delivery);
    }
    pool_->LeaveSlot();
    return true;
  }
  WorkerPool::Task task = [this, &reg, &method, message, p = parts,
                           deadline](bool run) {
    method.counters->queued.fetch_sub(1, std::memory_order_relaxed);
    InFlight in_flight(in_flight_);
    if (run) ServeEvent(reg, method, message, p, deadline, nullptr);
  };
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  method.counters->queued.fetch_add(1, std::memory_order_relaxed);
  if (!pool_->TrySubmit(task)) {
    // The queue is full (the pool stops only after every delivery callback
    // returned): the event runs here. This thread reads no more messages
    // until it ends, so NATS holds them, up to the subscription's pending
    // limits, rather than this server dropping an event it was handed.
    method.counters->queued.fetch_sub(1, std::memory_order_relaxed);
    InFlight in_flight(in_flight_);
    ServeEvent(reg, method, message, parts, deadline, &delivery);
  }
  return true;
}

void ServerCore::ServeEvent(const RegisteredService& reg,
                            const RegisteredMethod& method,
                            const MessagePtr& message,
                            const wire::RequestSubjectParts& parts,
                            absl::Time deadline, Delivery* delivery) {
  if (deadline <= absl::Now()) {
    expired_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ServerCallInterceptors interceptors;
  CallInfo call = MakeCallInfo(parts, MethodKind::kUnary, deadline);
  call.pattern = CallPattern::kEvent;
  if (absl::Status s =
          interceptors.Start(interceptors_, /*builtins=*/1, call, *message,
                             // interceptors_[0] is method_stats_: the method's
                             // counters are at hand.
                             MethodStatsInterceptor::Count(*method.counters));
      !s.ok()) {
    Metadata unsent;
    interceptors.Finish(s, unsent);
    events_failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ServerContext context(message, parts.requester, parts.responder, parts.app,
                        parts.service, parts.method, deadline);
  if (interceptors.trace().valid()) {
    ServerContextAccess::SetTrace(context, interceptors.trace());
  }
  Payload unused_reply;
  absl::string_view unused_content_type;
  const absl::Time start = absl::Now();
  absl::Status status;
  if (context.trace_context().valid()) {
    ScopedTraceContext current(context.trace_context());
    status = RunHandler(reg, method, context, message, unused_reply,
                        unused_content_type, delivery);
  } else {
    status = RunHandler(reg, method, context, message, unused_reply,
                        unused_content_type, delivery);
  }
  method.timing->Record(absl::Now() - start);
  Metadata unsent = context.response_metadata();
  interceptors.Finish(status, unsent);
  events_handled_.fetch_add(1, std::memory_order_relaxed);
  if (!status.ok()) events_failed_.fetch_add(1, std::memory_order_relaxed);
}

void ServerCore::AppendGatherEnd(const ServerContext& context,
                                 Metadata& extra) {
  if (ServerContextAccess::end_gather(context) &&
      wire::IsAllRequestSubject(context.request_message().subject())) {
    extra.emplace_back(std::string(wire::kGatherEndHeader), "1");
  }
}

}  // namespace natsrpc::internal
