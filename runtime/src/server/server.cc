// Copyright 2026 The natsrpc Authors.

#include "natsrpc/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <exception>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/connection_state.h"
#include "natsrpc/impl/method_handler.h"
#include "natsrpc/impl/stream_handlers.h"
#include "server/server_context_access.h"
#include "wire/subjects.h"
#include "natsrpc/status_macros.h"
#include "stream/stream_endpoint.h"
#include "stream/server_stream_table.h"
#include "stream/client_stream.h"
#include "wire/defaults.h"

namespace natsrpc {
namespace internal {

absl::Status RequestDecodeError(const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot decode the request: ", status.message()));
}

absl::Status Unimplemented(absl::string_view service,
                           absl::string_view method) {
  return absl::UnimplementedError(absl::StrCat(
      "method ", service, ".", method, " is not implemented by this server"));
}

namespace {

// A fixed set of threads draining a bounded queue. A caller may also run a
// task itself in a free worker's place (TryRunHere), so that at most
// `threads` tasks run at once either way.
class WorkerPool {
 public:
  using Task = absl::AnyInvocable<void(bool run)>;

  WorkerPool(int threads, size_t max_queued)
      : threads_(threads), max_queued_(max_queued) {
    workers_.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { Loop(); });
    }
  }
  ~WorkerPool() { Stop(); }

  // False when the queue is full or the pool stopped; `task` is not run then.
  bool TrySubmit(Task& task) {
    absl::MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(task));
    queued_.store(queue_.size(), std::memory_order_relaxed);
    return true;
  }

  // Takes a worker's slot for the caller if one is free and nothing is
  // queued; the caller runs its task and then calls LeaveSlot().
  bool TryTakeSlot() {
    absl::MutexLock lock(&mu_);
    if (stopping_ || !queue_.empty() || busy_ >= threads_) return false;
    ++busy_;
    return true;
  }
  void LeaveSlot() {
    absl::MutexLock lock(&mu_);
    --busy_;
  }

  // A hint: requests waiting for a worker.
  size_t queued() const { return queued_.load(std::memory_order_relaxed); }

  // Runs every queued task with run=false, lets running ones finish, joins.
  void Stop() {
    std::deque<Task> dropped;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      dropped.swap(queue_);
    }
    for (Task& t : dropped) t(false);
    for (std::thread& w : workers_) w.join();
  }

 private:
  void Loop() {
    bool ran = false;
    while (true) {
      Task task;
      {
        absl::MutexLock lock(&mu_);
        if (ran) --busy_;
        mu_.Await(absl::Condition(
            +[](WorkerPool* p) {
              p->mu_.AssertReaderHeld();
              return p->stopping_ ||
                     (!p->queue_.empty() && p->busy_ < p->threads_);
            },
            this));
        if (queue_.empty()) return;  // stopping
        task = std::move(queue_.front());
        queue_.pop_front();
        queued_.store(queue_.size(), std::memory_order_relaxed);
        ++busy_;
      }
      task(true);
      ran = true;
    }
  }

  const int threads_;
  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  // Tasks running, on workers or in a worker's place.
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<size_t> queued_{0};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// How long a method's handler takes, to decide whether a request may run on
// the subscription's delivery thread instead of being handed to a worker
// (ServerCore::OnRequest). A hint: updated without a lock.
class MethodTiming {
 public:
  // A handler at most this slow (on average, and in its last run) may run on
  // the delivery thread ...
  static constexpr int64_t kInlineMaxNanos = 50 * 1000;
  // ... if this thread alone would serve the requests already waiting
  // behind it within this long (a longer backlog is worth workers in
  // parallel) ...
  static constexpr int64_t kInlineBudgetNanos = 500 * 1000;
  // ... once this many runs on workers have shown how long it takes.
  static constexpr int64_t kLearnRuns = 8;

  void Record(absl::Duration run) {
    const int64_t ns = absl::ToInt64Nanoseconds(run);
    const int64_t old = average_ns_.load(std::memory_order_relaxed);
    // One slow run is enough to keep the method off the delivery thread
    // until fast runs bring the average down again.
    average_ns_.store(ns > kInlineMaxNanos ? ns : old + (ns - old) / 8,
                      std::memory_order_relaxed);
    runs_.fetch_add(1, std::memory_order_relaxed);
  }

  // How many requests may wait behind one run on the delivery thread; -1:
  // none, hand every request to a worker.
  int64_t MaxPendingToRunInline() const {
    if (runs_.load(std::memory_order_relaxed) < kLearnRuns) return -1;
    const int64_t average =
        std::max<int64_t>(1000, average_ns_.load(std::memory_order_relaxed));
    return average <= kInlineMaxNanos ? kInlineBudgetNanos / average : -1;
  }

 private:
  std::atomic<int64_t> average_ns_{0};
  std::atomic<int64_t> runs_{0};
};

// NATSRPC_SERVER_INLINE=0 hands every request to a worker; for A/B
// measurements only.
bool InlineEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("NATSRPC_SERVER_INLINE");
    return env == nullptr || absl::string_view(env) != "0";
  }();
  return enabled;
}

}  // namespace

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(const Connection& connection, ServerOptions options)
      : connection_(connection),
        options_(std::move(options)),
        table_(wire::NewClientId()) {}

  ~ServerCore() { Shutdown(); }

  absl::Status AddService(Service& service);
  void Shutdown();
  ServerStats stats() const;

 private:
  struct Method {
    MethodHandler* handler;
    std::unique_ptr<MethodTiming> timing;
  };
  struct Registered {
    Service* service;
    std::string app;
    absl::flat_hash_map<std::string, Method> methods;
    bool has_streams = false;
    std::unique_ptr<Subscription> subscription;
    // The service's cancel subject (protocol 9.8), no queue group.
    std::unique_ptr<Subscription> cancel_subscription;
  };

  // A call's cancellation flag (ServerContext::IsCancelled()).
  struct CallState {
    std::atomic<bool> cancelled{false};
  };

  void OnRequest(const Registered& reg, MessagePtr message, Delivery& delivery);
  void OnCancel(const IncomingMessage& message);
  // An open on a method of `reg`: accept it and run the handler on its own
  // thread, or refuse it.
  void OpenStream(const Registered& reg, MethodHandler* handler,
                  MessagePtr message, const wire::RequestSubjectParts& parts,
                  absl::Time deadline);
  void RunStream(const Registered& reg, MethodHandler* handler,
                 MessagePtr message, const wire::RequestSubjectParts& parts,
                 absl::Time deadline, std::shared_ptr<StreamEndpoint> endpoint,
                 std::shared_ptr<CallState> state);
  void Refuse(const IncomingMessage& open, const absl::Status& status);
  // Subscribes the instance's stream subject for `app` once, and starts
  // the ticker.
  absl::Status EnableStreams(const std::string& app)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TickLoop();
  // `delivery`: run by the subscription's handler itself, not by a worker
  // (null).
  void Serve(const Registered& reg, const Method& method, MessagePtr message,
             const wire::RequestSubjectParts& parts, absl::Time deadline,
             const CallState& state, Delivery* delivery);
  void Reply(const IncomingMessage& request, const absl::Status& status,
             absl::string_view payload, absl::string_view content_type,
             const Metadata* metadata, FlushPolicy flush = FlushPolicy::kBatch);
  WorkerPool& pool() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Connection connection_;
  const ServerOptions options_;

  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  int in_callbacks_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Registered>> services_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<WorkerPool> pool_;  // created by the first AddService

  // Streams and cancellation (protocol section 9).
  ServerStreamTable table_;
  // The instance's stream subscription, per app.
  absl::flat_hash_map<std::string, std::unique_ptr<Subscription>>
      stream_subscriptions_ ABSL_GUARDED_BY(mu_);
  std::thread ticker_;  // started with the first streaming service
  absl::CondVar ticker_cv_;
  // Stream handlers running (each on its own thread).
  int running_streams_ ABSL_GUARDED_BY(mu_) = 0;

  // Requests taken off the queue whose reply is not sent yet, plus queued
  // ones (counted from submission); a hint for FlushPolicy::kNow.
  std::atomic<int> in_flight_{0};
  struct InFlight {
    explicit InFlight(std::atomic<int>& n) : n(n) {}
    ~InFlight() { n.fetch_sub(1, std::memory_order_relaxed); }
    std::atomic<int>& n;
  };

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> handled_{0};
  std::atomic<uint64_t> overloaded_{0};
  std::atomic<uint64_t> expired_{0};
  std::atomic<uint64_t> invalid_{0};
  std::atomic<uint64_t> unknown_method_{0};
  std::atomic<uint64_t> bad_reply_to_{0};
  std::atomic<uint64_t> publish_errors_{0};
  std::atomic<uint64_t> cancelled_{0};
  std::atomic<uint64_t> streams_accepted_{0};
  std::atomic<uint64_t> streams_refused_{0};
};

WorkerPool& ServerCore::pool() {
  if (pool_ == nullptr) {
    const int threads =
        options_.num_workers > 0
            ? options_.num_workers
            : std::max(4,
                       static_cast<int>(std::thread::hardware_concurrency()));
    pool_ = std::make_unique<WorkerPool>(
        threads,
        static_cast<size_t>(std::max(0, options_.max_queued_requests)));
  }
  return *pool_;
}

absl::Status ServerCore::AddService(Service& service) {
  NATSRPC_RETURN_IF_ERROR(
      wire::ValidateToken("ServerOptions.responder", options_.responder));
  const std::string app =
      options_.app.empty() ? std::string(service.default_app()) : options_.app;
  NATSRPC_RETURN_IF_ERROR(wire::ValidateToken(
      options_.app.empty()
          ? absl::StrCat("app of service ", service.service_name(),
                         " (from the IDL)")
          : std::string("ServerOptions.app"),
      app));
  NATSRPC_RETURN_IF_ERROR(
      wire::ValidateToken(absl::StrCat("service name ", service.service_name()),
                    service.service_name()));
  std::string queue;
  if (!options_.broadcast) {
    queue = options_.queue_group.empty()
                ? wire::DefaultQueueGroup(options_.responder, app)
                : options_.queue_group;
    for (char c : queue) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '*' ||
          c == '>') {
        return absl::InvalidArgumentError(
            absl::StrCat("ServerOptions.queue_group \"", queue,
                         "\" contains a space, a wildcard or a line break"));
      }
    }
  }
  if (options_.max_queued_requests < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions.max_queued_requests is ",
                     options_.max_queued_requests, "; it must be at least 1"));
  }

  auto reg = std::make_unique<Registered>();
  reg->service = &service;
  reg->app = app;
  for (auto& [name, handler] : service.methods_) {
    reg->methods.emplace(
        name, Method{handler.get(), std::make_unique<MethodTiming>()});
    if (handler->kind() != MethodKind::kUnary) reg->has_streams = true;
  }

  absl::MutexLock lock(&mu_);
  if (shutdown_) {
    return absl::FailedPreconditionError(
        "AddService() called after Server::Shutdown()");
  }
  for (const auto& r : services_) {
    if (r->service == &service ||
        (r->app == app &&
         r->service->service_name() == service.service_name())) {
      return absl::AlreadyExistsError(
          absl::StrCat("service ", app, ".", service.service_name(),
                       " was already added to this server"));
    }
  }
  pool();
  std::weak_ptr<ServerCore> weak = weak_from_this();
  const Registered* r = reg.get();
  absl::StatusOr<std::unique_ptr<Subscription>> sub =
      connection_.transport().Subscribe(
          wire::ServiceWildcard(options_.responder, app, service.service_name()),
          queue, [weak, r](MessagePtr m, Delivery& d) {
            if (auto self = weak.lock()) self->OnRequest(*r, std::move(m), d);
          });
  if (!sub.ok()) return sub.status();
  absl::StatusOr<std::unique_ptr<Subscription>> cancel_sub =
      connection_.transport().Subscribe(
          wire::CancelWildcard(options_.responder, app, service.service_name()), "",
          [weak](MessagePtr m) {
            if (auto self = weak.lock()) self->OnCancel(*m);
          });
  if (!cancel_sub.ok()) return cancel_sub.status();
  if (reg->has_streams) NATSRPC_RETURN_IF_ERROR(EnableStreams(app));
  reg->subscription = *std::move(sub);
  reg->cancel_subscription = *std::move(cancel_sub);
  services_.push_back(std::move(reg));
  return absl::OkStatus();
}

absl::Status ServerCore::EnableStreams(const std::string& app) {
  if (!stream_subscriptions_.contains(app)) {
    std::weak_ptr<ServerCore> weak = weak_from_this();
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        connection_.transport().Subscribe(
            wire::StreamWildcard(options_.responder, app, table_.instance_id()), "",
            [weak](MessagePtr m) {
              if (auto self = weak.lock()) {
                self->table_.RouteStreamMessage(std::move(m));
              }
            });
    if (!sub.ok()) return sub.status();
    stream_subscriptions_.emplace(app, *std::move(sub));
  }
  if (!ticker_.joinable()) ticker_ = std::thread([this] { TickLoop(); });
  return absl::OkStatus();
}

void ServerCore::TickLoop() {
  absl::MutexLock lock(&mu_);
  while (!shutdown_ || running_streams_ > 0) {
    ticker_cv_.WaitWithTimeout(&mu_, wire::kStreamTickPeriod);
    mu_.Unlock();
    table_.TickAll();
    mu_.Lock();
  }
}

void ServerCore::OnCancel(const IncomingMessage& message) {
  if (table_.RouteCancel(message)) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
  }
}

void ServerCore::Refuse(const IncomingMessage& open,
                        const absl::Status& status) {
  streams_refused_.fetch_add(1, std::memory_order_relaxed);
  if (!RefuseStream(connection_.transport(), open, status).ok()) {
    publish_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void ServerCore::OpenStream(const Registered& reg, MethodHandler* handler,
                            MessagePtr message,
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
  {
    absl::MutexLock lock(&mu_);
    if (running_streams_ >= options_.max_open_streams) {
      overloaded_.fetch_add(1, std::memory_order_relaxed);
      Refuse(*message, absl::ResourceExhaustedError(absl::StrCat(
                           "server ", options_.responder, " has ",
                           running_streams_, " streams open, its limit")));
      return;
    }
    ++running_streams_;
  }
  auto state = std::make_shared<CallState>();
  ServerStreamParams params;
  params.receives = kind != MethodKind::kServerStreaming;
  params.window = options_.stream_window > 0 ? options_.stream_window
                                              : wire::kDefaultStreamWindow;
  params.min_heartbeat = options_.min_stream_heartbeat > absl::ZeroDuration()
                             ? options_.min_stream_heartbeat
                             : wire::kDefaultMinStreamHeartbeat;
  params.deadline = deadline;
  params.on_failure = [state](const absl::Status&) {
    state->cancelled.store(true, std::memory_order_release);
  };
  absl::StatusOr<std::shared_ptr<StreamEndpoint>> endpoint =
      AcceptStream(ConnectionAccess::State(connection_)->transport(), table_, *message, parts,
                   std::move(params));
  if (!endpoint.ok()) {
    {
      absl::MutexLock lock(&mu_);
      --running_streams_;
    }
    invalid_.fetch_add(1, std::memory_order_relaxed);
    Refuse(*message, endpoint.status());
    return;
  }
  streams_accepted_.fetch_add(1, std::memory_order_relaxed);
  // A stream handler may run as long as the stream: it gets its own thread
  // rather than holding a worker that unary calls need.
  std::thread([self = shared_from_this(), &reg, handler,
               message = std::move(message), parts, deadline,
               endpoint = *std::move(endpoint),
               state = std::move(state)]() mutable {
    self->RunStream(reg, handler, std::move(message), parts, deadline,
                    std::move(endpoint), std::move(state));
  }).detach();
}

void ServerCore::RunStream(const Registered& reg, MethodHandler* handler,
                           MessagePtr message, const wire::RequestSubjectParts& parts,
                           absl::Time deadline,
                           std::shared_ptr<StreamEndpoint> endpoint,
                           std::shared_ptr<CallState> state) {
  handled_.fetch_add(1, std::memory_order_relaxed);
  {
    ServerContext context(message, parts.requester, parts.responder, parts.app,
                          parts.service, parts.method, deadline);
    ServerContextAccess::SetCancelFlag(context, &state->cancelled);
    Payload reply;
    absl::string_view content_type;
    absl::Status status;
    try {
      status = handler->RunStream(*reg.service, context, message, endpoint,
                                  reply, content_type);
    } catch (const std::exception& e) {
      status = absl::UnknownError(
          absl::StrCat("handler of ", reg.service->service_name(), ".",
                       parts.method, " threw: ", e.what()));
    } catch (...) {
      status = absl::UnknownError(
          absl::StrCat("handler of ", reg.service->service_name(), ".",
                       parts.method, " threw a non-standard exception"));
    }
    Metadata trailers;
    for (auto& kv : context.response_metadata()) {
      if (wire::ValidateMetadata({kv}).ok()) trailers.push_back(kv);
    }
    if (status.ok() && handler->kind() == MethodKind::kClientStreaming) {
      absl::Status w = endpoint->Write(reply.view(), nullptr, deadline);
      if (!w.ok() && endpoint->failure().ok()) {
        status = absl::Status(
            w.code(), absl::StrCat("cannot send the reply: ", w.message()));
      }
    }
    // A stream that already failed (cancelled, client gone) sends nothing.
    endpoint->WritesDone(status, trailers.empty() ? nullptr : &trailers)
        .IgnoreError();
    if (state->cancelled.load(std::memory_order_acquire)) {
      cancelled_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  absl::MutexLock lock(&mu_);
  --running_streams_;
}

void ServerCore::OnRequest(const Registered& reg, MessagePtr message,
                           Delivery& delivery) {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    ++in_callbacks_;
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  [&] {
    absl::StatusOr<wire::RequestSubjectParts> parts =
        wire::ParseRequestSubject(message->subject());
    if (!parts.ok() || !wire::CheckReplySubject(message->reply(), *parts).ok()) {
      // Answering would let a caller aim our replies at someone else's
      // response space (protocol section 5): drop it.
      bad_reply_to_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    absl::Time deadline = absl::InfiniteFuture();
    if (std::optional<absl::string_view> t = message->header(wire::kTimeoutHeader)) {
      absl::StatusOr<absl::Duration> timeout = wire::DecodeTimeout(*t);
      if (!timeout.ok()) {
        invalid_.fetch_add(1, std::memory_order_relaxed);
        Reply(*message, timeout.status(), {}, {}, nullptr);
        return;
      }
      if (*timeout <= absl::ZeroDuration()) {
        expired_.fetch_add(1, std::memory_order_relaxed);
        Reply(*message,
              absl::DeadlineExceededError(
                  "the request arrived after its deadline"),
              {}, {}, nullptr);
        return;
      }
      deadline = absl::Now() + *timeout;
    }
    auto it = reg.methods.find(parts->method);
    if (it == reg.methods.end()) {
      unknown_method_.fetch_add(1, std::memory_order_relaxed);
      Reply(*message,
            absl::UnimplementedError(absl::StrCat(
                "service ", reg.app, ".", reg.service->service_name(),
                " has no method \"", parts->method, "\"")),
            {}, {}, nullptr);
      return;
    }
    const Method& method = it->second;
    MethodHandler* handler = method.handler;
    if (std::optional<absl::string_view> frame =
            message->header(wire::kStreamHeader)) {
      if (*frame != wire::StreamFrameName(wire::StreamFrame::kOpen)) {
        // Only opens belong on a method subject.
        invalid_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      OpenStream(reg, handler, std::move(message), *parts, deadline);
      return;
    }
    if (handler->kind() != MethodKind::kUnary) {
      unknown_method_.fetch_add(1, std::memory_order_relaxed);
      Reply(*message,
            absl::UnimplementedError(absl::StrCat(
                "method ", reg.service->service_name(), ".", parts->method,
                " is a streaming method; a unary request cannot call it")),
            {}, {}, nullptr);
      return;
    }
    // A cancel (protocol 9.8) finds the call by its reply-to until it ends.
    auto state = std::make_shared<CallState>();
    table_.AddCall(message->reply(), [state] {
      state->cancelled.store(true, std::memory_order_release);
    });
    // Run a fast handler here, on the subscription's delivery thread, when a
    // worker is free and few requests wait behind this one: handing it to a
    // worker would cost a thread wake-up (a context switch) per request.
    // Requests that arrive meanwhile wait for it, at most about
    // MethodTiming::kInlineMaxNanos; a handler that turns out slow is handed
    // to workers again from its next request on. At most num_workers
    // handlers run at once either way.
    const int64_t max_pending = method.timing->MaxPendingToRunInline();
    if (max_pending >= 0 && InlineEnabled() &&
        delivery.pending_after() <= max_pending && pool_->TryTakeSlot()) {
      in_flight_.fetch_add(1, std::memory_order_relaxed);
      {
        InFlight in_flight(in_flight_);
        Serve(reg, method, std::move(message), *parts, deadline, *state,
              &delivery);
      }
      pool_->LeaveSlot();
      return;
    }
    WorkerPool::Task task = [this, &reg, &method, message, p = *parts, deadline,
                             state](bool run) mutable {
      InFlight in_flight(in_flight_);
      if (!run) {
        table_.RemoveCall(message->reply());
        Reply(*message, absl::UnavailableError("the server is shutting down"),
              {}, {}, nullptr);
        return;
      }
      Serve(reg, method, std::move(message), p, deadline, *state,
            /*delivery=*/nullptr);
    };
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    if (!pool_->TrySubmit(task)) {
      table_.RemoveCall(message->reply());
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      overloaded_.fetch_add(1, std::memory_order_relaxed);
      Reply(*message,
            absl::ResourceExhaustedError(absl::StrCat(
                "server ", options_.responder, " is overloaded: ",
                options_.max_queued_requests, " requests already queued")),
            {}, {}, nullptr);
    }
  }();
  absl::MutexLock lock(&mu_);
  --in_callbacks_;
}

void ServerCore::Serve(const Registered& reg, const Method& method,
                       MessagePtr message, const wire::RequestSubjectParts& parts,
                       absl::Time deadline, const CallState& state,
                       Delivery* delivery) {
  if (state.cancelled.load(std::memory_order_acquire)) {
    // Cancelled while queued: the caller is gone, nothing is sent.
    table_.RemoveCall(message->reply());
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const absl::Time start = absl::Now();
  if (deadline <= start) {
    table_.RemoveCall(message->reply());
    expired_.fetch_add(1, std::memory_order_relaxed);
    Reply(*message,
          absl::DeadlineExceededError(
              "the request's deadline passed while it waited for a worker"),
          {}, {}, nullptr);
    return;
  }
  handled_.fetch_add(1, std::memory_order_relaxed);
  const IncomingMessage& request = *message;
  ServerContext context(message, parts.requester, parts.responder, parts.app,
                        parts.service, parts.method, deadline);
  ServerContextAccess::SetCancelFlag(context, &state.cancelled);
  Payload reply;
  absl::string_view content_type;
  absl::Status status;
  try {
    // The handler may call other services and wait for their replies.
    MayBlockScope may_block(delivery);
    status = method.handler->Run(*reg.service, context, message, reply,
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
  method.timing->Record(absl::Now() - start);
  table_.RemoveCall(request.reply());
  if (state.cancelled.load(std::memory_order_acquire)) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Metadata extra;
  for (auto& kv : context.response_metadata()) {
    if (wire::ValidateMetadata({kv}).ok()) extra.push_back(kv);
  }
  // The only request in the server: nothing else will be published right
  // after this reply, so write it now instead of hopping to the event-loop
  // thread. Under load replies are left to the loop, which writes many with
  // one send(). On the delivery thread, requests may also wait right behind
  // this one (a worker cannot ask: the subscription may be gone by then).
  const bool alone = pool_->queued() == 0 &&
                     in_flight_.load(std::memory_order_relaxed) == 1 &&
                     (delivery == nullptr || delivery->pending_after() == 0);
  Reply(request, status, status.ok() ? reply.view() : absl::string_view(),
        content_type, extra.empty() ? nullptr : &extra,
        alone ? FlushPolicy::kNow : FlushPolicy::kBatch);
}

void ServerCore::Reply(const IncomingMessage& request,
                       const absl::Status& status, absl::string_view payload,
                       absl::string_view content_type, const Metadata* metadata,
                       FlushPolicy flush) {
  std::array<HeaderRef, 2> headers;
  size_t n = 0;
  const wire::StatusHeaders error(status);
  if (status.ok()) {
    if (!content_type.empty()) {
      headers[n++] = HeaderRef{wire::kContentTypeHeader, content_type};
    }
  } else {
    n = error.WriteTo(headers.data());
  }
  absl::Status s = connection_.transport().Publish(
      OutgoingMessage{request.reply(),
                      {},
                      absl::MakeConstSpan(headers.data(), n),
                      metadata,
                      payload,
                      flush});
  if (s.ok()) return;
  publish_errors_.fetch_add(1, std::memory_order_relaxed);
  if (status.ok() && s.code() == absl::StatusCode::kResourceExhausted) {
    // The reply is too large for NATS: tell the caller instead of letting it
    // time out.
    Reply(request,
          absl::ResourceExhaustedError(
              absl::StrCat("the reply does not fit: ", s.message())),
          {}, {}, nullptr);
  }
}

void ServerCore::Shutdown() {
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (auto& r : services_) {
      subscriptions.push_back(std::move(r->subscription));
      subscriptions.push_back(std::move(r->cancel_subscription));
    }
  }
  subscriptions.clear();
  {
    absl::MutexLock lock(&mu_);
    // Callbacks that already started finish; no new one gets past the flag.
    mu_.Await(absl::Condition(
        +[](ServerCore* c) {
          c->mu_.AssertReaderHeld();
          return c->in_callbacks_ == 0;
        },
        this));
  }
  // Open streams end with UNAVAILABLE; their handlers see the cancellation.
  table_.CancelAll(absl::UnavailableError("the server is shutting down"));
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ServerCore* c) {
          c->mu_.AssertReaderHeld();
          return c->running_streams_ == 0;
        },
        this));
    ticker_cv_.Signal();
  }
  absl::flat_hash_map<std::string, std::unique_ptr<Subscription>> streams;
  {
    absl::MutexLock lock(&mu_);
    streams.swap(stream_subscriptions_);
  }
  streams.clear();
  if (ticker_.joinable()) {
    // The last reference may be dropped by a stream thread that is not the
    // ticker; the ticker never calls Shutdown().
    ticker_.join();
  }
  if (pool_ != nullptr) pool_->Stop();
}

ServerStats ServerCore::stats() const {
  ServerStats s;
  s.requests_received = received_.load(std::memory_order_relaxed);
  s.requests_handled = handled_.load(std::memory_order_relaxed);
  s.rejected_overloaded = overloaded_.load(std::memory_order_relaxed);
  s.rejected_expired = expired_.load(std::memory_order_relaxed);
  s.rejected_invalid = invalid_.load(std::memory_order_relaxed);
  s.unknown_method = unknown_method_.load(std::memory_order_relaxed);
  s.dropped_bad_reply_to = bad_reply_to_.load(std::memory_order_relaxed);
  s.reply_publish_errors = publish_errors_.load(std::memory_order_relaxed);
  s.cancelled = cancelled_.load(std::memory_order_relaxed);
  s.streams_accepted = streams_accepted_.load(std::memory_order_relaxed);
  s.streams_refused = streams_refused_.load(std::memory_order_relaxed);
  s.streams_open = table_.open_streams();
  return s;
}

}  // namespace internal

Service::Service(absl::string_view name, absl::string_view default_app)
    : name_(name), default_app_(default_app) {}

Service::~Service() = default;

void Service::RegisterMethod(absl::string_view method,
                             std::unique_ptr<internal::MethodHandler> handler) {
  methods_.emplace_back(std::string(method), std::move(handler));
}

Server::Server(const Connection& connection, ServerOptions options)
    : core_(std::make_shared<internal::ServerCore>(connection,
                                                   std::move(options))) {}

Server::~Server() { Shutdown(); }

absl::Status Server::AddService(Service& service) {
  return core_->AddService(service);
}

void Server::Shutdown() { core_->Shutdown(); }

ServerStats Server::stats() const { return core_->stats(); }

}  // namespace natsrpc
