// Copyright 2026 The natsrpc Authors.
//
// Asynchronous unary handlers (natsrpc/async.h): ServerCore's start and end
// of a call whose handler may finish it later from any thread, the pending
// set with its deadline thread (server/async_call.h), and UnaryCompletion.

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "natsrpc/async.h"
#include "server/async_call.h"
#include "server/inline_policy.h"
#include "server/server_context_access.h"
#include "server/server_core.h"
#include "wire/reply_metadata.h"

namespace natsrpc {
namespace internal {

bool AsyncCallSet::Add(const std::shared_ptr<AsyncUnaryCall>& call) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return false;
  call->id = next_id_++;
  auto it = calls_.emplace(Key{call->deadline, call->id}, call).first;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Loop(); });
  } else if (it == calls_.begin()) {
    cv_.Signal();  // the earliest deadline now
  }
  return true;
}

void AsyncCallSet::Remove(const AsyncUnaryCall& call) {
  absl::MutexLock lock(&mu_);
  calls_.erase(Key{call.deadline, call.id});
}

size_t AsyncCallSet::size() const {
  absl::MutexLock lock(&mu_);
  return calls_.size();
}

std::vector<std::shared_ptr<AsyncUnaryCall>> AsyncCallSet::Stop() {
  std::vector<std::shared_ptr<AsyncUnaryCall>> pending;
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    cv_.Signal();
    for (auto& [key, weak] : calls_) {
      if (auto call = weak.lock()) pending.push_back(std::move(call));
    }
    calls_.clear();
    thread.swap(thread_);
  }
  if (thread.joinable()) thread.join();
  return pending;
}

void AsyncCallSet::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopped_) {
    const absl::Time now = absl::Now();
    if (!calls_.empty() && calls_.begin()->first.first <= now) {
      std::weak_ptr<AsyncUnaryCall> weak = std::move(calls_.begin()->second);
      calls_.erase(calls_.begin());
      if (auto call = weak.lock()) {
        mu_.Unlock();
        expire_(std::move(call));
        mu_.Lock();
      }
      continue;
    }
    // Woken by Stop() or by a call with an earlier deadline (Add); at the
    // latest after a second, to look again.
    const absl::Time next =
        calls_.empty() ? now + absl::Seconds(1) : calls_.begin()->first.first;
    cv_.WaitWithDeadline(&mu_, std::min(next, now + absl::Seconds(1)));
  }
}

void ServerCore::ServeAsync(const RegisteredService& reg,
                            const RegisteredMethod& method, MessagePtr message,
                            const wire::RequestSubjectParts& parts,
                            absl::Time deadline, const CallState& state,
                            ServerCallInterceptors interceptors,
                            Delivery* delivery) {
  auto call = std::make_shared<AsyncUnaryCall>(weak_from_this(), reg, method,
                                               message, parts, deadline,
                                               std::move(interceptors));
  ServerContextAccess::SetCancelFlag(call->context, &call->cancelled);
  if (call->interceptors.trace().valid()) {
    ServerContextAccess::SetTrace(call->context, call->interceptors.trace());
  }
  if (!async_calls_.Add(call)) {
    EndAsync(call, AsyncEnd::kShutdown, {}, {}, {});
    return;
  }
  // A cancel now reaches the call itself, which ends at once (replacing
  // the queued request's entry; a cancel that came before is applied just
  // below).
  std::weak_ptr<AsyncUnaryCall> weak = call;
  table_.AddCall(message->reply(), [this, weak] {
    if (auto c = weak.lock()) EndAsync(c, AsyncEnd::kCancelled, {}, {}, {});
  });
  if (state.cancelled.load(std::memory_order_acquire)) {
    EndAsync(call, AsyncEnd::kCancelled, {}, {}, {});
    return;
  }
  const absl::Time start = absl::Now();
  {
    std::optional<ScopedTraceContext> current;
    // The handler's nested calls are children of this call's span.
    if (call->context.trace_context().valid()) {
      current.emplace(call->context.trace_context());
    }
    MayBlockScope may_block(delivery);
    try {
      method.handler->RunAsync(*reg.service, message, UnaryCompletion(call));
    } catch (const std::exception& e) {
      EndAsync(call, AsyncEnd::kFinished,
               absl::UnknownError(
                   absl::StrCat("handler of ", reg.service->service_name(), ".",
                                parts.method, " threw: ", e.what())),
               {}, {});
    } catch (...) {
      EndAsync(call, AsyncEnd::kFinished,
               absl::UnknownError(absl::StrCat(
                   "handler of ", reg.service->service_name(), ".",
                   parts.method, " threw a non-standard exception")),
               {}, {});
    }
  }
  // Only the time the handler held this thread: what decides whether the
  // method may run on the delivery thread (server/inline_policy.h).
  method.timing->Record(absl::Now() - start);
}

bool ServerCore::EndAsync(const std::shared_ptr<AsyncUnaryCall>& call,
                          AsyncEnd how, const absl::Status& status,
                          Payload reply, absl::string_view content_type) {
  std::function<void()> on_cancel;
  if (!call->TryEnd(how, on_cancel)) return false;
  const IncomingMessage& request = *call->message;
  table_.RemoveCall(request.reply());
  async_calls_.Remove(*call);
  Metadata unsent;
  switch (how) {
    case AsyncEnd::kCancelled:
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      call->interceptors.Finish(
          absl::CancelledError("the caller cancelled the call"), unsent);
      break;
    case AsyncEnd::kDeadline:
      call->interceptors.Finish(
          absl::DeadlineExceededError(
              "the call's deadline passed before its handler finished it"),
          unsent);
      break;
    case AsyncEnd::kShutdown: {
      const absl::Status s =
          absl::UnavailableError("the server is shutting down");
      call->interceptors.Finish(s, unsent);
      Reply(request, s, {}, {}, nullptr, FlushPolicy::kNow);
      break;
    }
    case AsyncEnd::kFinished:
      break;
  }
  if (how != AsyncEnd::kFinished) {
    // Last: the handler that hears of it finds the call counted as ended.
    if (on_cancel) on_cancel();
    return true;
  }
  if (call->cancelled.load(std::memory_order_acquire)) {
    // A cancel came while this Finish was on its way: as for a blocking
    // handler, the caller is gone and nothing is sent.
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    call->interceptors.Finish(
        absl::CancelledError("the caller cancelled the call"), unsent);
    return true;
  }
  const ServerContext& context = call->context;
  Metadata response = context.response_metadata();
  call->interceptors.Finish(status, response);
  Metadata extra;
  wire::AppendMetadata(context.initial_metadata(), {}, extra);
  wire::AppendMetadata(response, {}, extra);
  wire::AppendMetadata(context.trailing_metadata(), wire::kTrailerPrefix,
                       extra);
  Reply(request, status, status.ok() ? reply.view() : absl::string_view(),
        content_type, extra.empty() ? nullptr : &extra,
        ReplyFlushPolicy(*pool_, in_flight_.load(std::memory_order_relaxed),
                         nullptr));
  return true;
}

void ServerCore::EndAllAsync() {
  for (const std::shared_ptr<AsyncUnaryCall>& call : async_calls_.Stop()) {
    EndAsync(call, AsyncEnd::kShutdown, {}, {}, {});
  }
}

}  // namespace internal

// UnaryCompletion: the handler's side.

namespace {

using internal::AsyncEnd;
using internal::AsyncUnaryCall;
using internal::ServerCore;

bool End(const std::shared_ptr<AsyncUnaryCall>& call,
         const absl::Status& status, Payload reply,
         absl::string_view content_type) {
  if (call == nullptr) return false;
  std::shared_ptr<ServerCore> core = call->core.lock();
  // Without its server the call was ended by Shutdown().
  if (core == nullptr) return false;
  return core->EndAsync(call, AsyncEnd::kFinished, status, std::move(reply),
                        content_type);
}

bool Abandon(const std::shared_ptr<AsyncUnaryCall>& call) {
  if (call == nullptr) return false;
  // `call->reg` lives only as long as the server: look at it only while
  // holding the server, and not for a call that has ended.
  std::shared_ptr<ServerCore> core = call->core.lock();
  if (core == nullptr) return false;
  {
    absl::MutexLock lock(&call->mu);
    if (call->ended) return false;
  }
  const std::string method = absl::StrCat(call->reg.service->service_name(),
                                          ".", call->context.method());
  if (std::uncaught_exceptions() > 0) {
    // Dropped by an exception leaving the handler: UNKNOWN, as a blocking
    // handler's exception is (natsrpc/server.h).
    return core->EndAsync(
        call, AsyncEnd::kFinished,
        absl::UnknownError(absl::StrCat("handler of ", method,
                                        " threw while its call was pending")),
        {}, {});
  }
  return core->EndAsync(
      call, AsyncEnd::kFinished,
      absl::InternalError(
          absl::StrCat("the handler of ", method,
                       " dropped its responder without finishing the call")),
      {}, {});
}

}  // namespace

UnaryCompletion& UnaryCompletion::operator=(UnaryCompletion&& other) noexcept {
  if (this != &other) {
    Abandon(call_);
    call_ = std::move(other.call_);
  }
  return *this;
}

UnaryCompletion::~UnaryCompletion() { Abandon(call_); }

ServerContext& UnaryCompletion::context() const { return call_->context; }

bool UnaryCompletion::IsCancelled() const {
  if (call_ == nullptr) return false;
  absl::MutexLock lock(&call_->mu);
  return call_->ended_elsewhere;
}

void UnaryCompletion::OnCancel(std::function<void()> on_cancel) {
  if (call_ == nullptr || !on_cancel) return;
  {
    absl::MutexLock lock(&call_->mu);
    if (!call_->ended) {
      call_->on_cancel_fn = std::move(on_cancel);
      return;
    }
    if (!call_->ended_elsewhere) return;
  }
  on_cancel();
}

bool UnaryCompletion::Finish(const absl::Status& status) {
  return End(call_, status, {}, {});
}

bool UnaryCompletion::FinishEncoded(Payload reply,
                                    absl::string_view content_type) {
  return End(call_, absl::OkStatus(), std::move(reply), content_type);
}

void UnaryCompletion::KeepAlive(std::shared_ptr<const void> object) {
  if (call_ != nullptr) call_->keep_alive = std::move(object);
}

}  // namespace natsrpc
