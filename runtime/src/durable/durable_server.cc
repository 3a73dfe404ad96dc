// Copyright 2026 The natsrpc Authors.
//
// The responder side of durable requests (natsrpc/durable.h,
// docs/protocol.md section 14): one pull consumer and one thread per
// service; each request is checked against the result bucket, handled
// through the same interceptor chain as a natsrpc::Server's calls
// (server/call_interceptors.h, the per-method counters first), its result
// stored, and only then acknowledged.

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "durable/durable_common.h"
#include "natsrpc/durable.h"
#include "natsrpc/durable_metrics.h"
#include "natsrpc/impl/method_handler.h"
#include "natsrpc/metrics.h"
#include "natsrpc/trace.h"
#include "server/call_interceptors.h"
#include "server/method_stats.h"
#include "server/server_context_access.h"
#include "wire/durable.h"
#include "wire/subjects.h"

namespace natsrpc {
namespace internal {

// Service's unary handlers, by method name (natsrpc/server.h befriends it).
class DurableAccess {
 public:
  static MethodHandler* Find(Service& service, absl::string_view method) {
    for (auto& [name, handler] : service.methods_) {
      if (name == method) return handler.get();
    }
    return nullptr;
  }
};

}  // namespace internal

namespace {

// Codes a durable request is retried on (natsrpc/durable.h); any other
// result is final and stored.
bool Retryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

struct Counters {
  std::atomic<uint64_t> delivered{0}, redelivered{0}, handled{0}, completed{0},
      already_done{0}, retried{0}, dead_lettered{0}, errors{0};
};

}  // namespace

class DurableServer::Impl {
 public:
  Impl(const Connection& connection, absl::string_view responder,
       const DurableOptions& options)
      : connection_(connection),
        responder_(responder),
        o_(options),
        method_stats_(std::make_shared<internal::MethodStatsInterceptor>()),
        interceptors_([this] {
          // The counters first, as on a natsrpc::Server (builtins = 1).
          std::vector<std::shared_ptr<ServerInterceptor>> all{method_stats_};
          for (const auto& i : o_.interceptors) {
            if (i != nullptr) all.push_back(i);
          }
          return all;
        }()) {
    status_ = wire::ValidateToken("responder", responder_);
    if (!status_.ok()) return;
    absl::StatusOr<std::shared_ptr<JetStream>> js =
        connection_.transport().OpenJetStream(o_.jetstream);
    if (!js.ok()) {
      status_ = js.status();
      return;
    }
    js_ = *std::move(js);
    denied_ = std::make_unique<internal::PermissionErrors>(connection_);
  }

  ~Impl() { Stop(); }

  absl::Status AddService(Service& service, absl::string_view app_in) {
    if (!status_.ok()) return status_;
    const uint64_t mark = denied_->Mark();
    return denied_->Explain(Add(service, app_in), mark);
  }

  // AddService() but for the explanation of a timeout.
  absl::Status Add(Service& service, absl::string_view app_in) {
    const std::string app(app_in.empty() ? service.default_app() : app_in);
    if (absl::Status s = wire::ValidateToken("app", app); !s.ok()) return s;
    const std::string name(service.service_name());
    if (absl::Status s =
            js_->EnsureStream(internal::RequestStreamSpec(responder_, o_));
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            js_->EnsureStream(internal::DeadLetterStreamSpec(responder_, o_));
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            js_->EnsureKeyValue(internal::ResultBucketSpec(responder_, o_));
        !s.ok()) {
      return s;
    }
    ConsumerSpec spec;
    spec.stream = wire::DurableStreamName(responder_);
    spec.durable_name = wire::DurableConsumerName(app, name);
    spec.filter_subject = wire::DurableConsumerFilter(responder_, app, name);
    spec.ack_wait = o_.ack_wait;
    spec.max_ack_pending = o_.max_ack_pending;
    absl::StatusOr<std::unique_ptr<PullConsumer>> consumer =
        js_->PullSubscribe(spec);
    if (!consumer.ok()) return consumer.status();
    absl::MutexLock lock(&mu_);
    if (stopped_) return absl::FailedPreconditionError("stopped");
    auto w = std::make_unique<Worker>();
    w->service = &service;
    w->app = app;
    w->consumer = *std::move(consumer);
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { Run(*raw); });
    workers_.push_back(std::move(w));
    return absl::OkStatus();
  }

  void Stop() {
    std::vector<std::unique_ptr<Worker>> workers;
    {
      absl::MutexLock lock(&mu_);
      stopped_ = true;
      workers.swap(workers_);
    }
    if (!stop_.HasBeenNotified()) stop_.Notify();
    for (auto& w : workers) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  DurableStats stats() const {
    DurableStats s;
    s.delivered = c_.delivered.load();
    s.redelivered = c_.redelivered.load();
    s.handled = c_.handled.load();
    s.completed = c_.completed.load();
    s.already_done = c_.already_done.load();
    s.retried = c_.retried.load();
    s.dead_lettered = c_.dead_lettered.load();
    s.errors = c_.errors.load();
    return s;
  }

  std::vector<MethodStats> method_stats() const {
    return method_stats_->Snapshot();
  }

 private:
  struct Worker {
    Service* service = nullptr;
    std::string app;
    std::unique_ptr<PullConsumer> consumer;
    std::thread thread;
  };

  void Run(Worker& w) {
    while (!stop_.HasBeenNotified()) {
      absl::StatusOr<std::vector<std::unique_ptr<JetStreamMessage>>> batch =
          w.consumer->Fetch(o_.fetch_batch, absl::Milliseconds(500));
      if (!batch.ok()) {
        ++c_.errors;
        // Disconnected or JetStream busy: try again a little later.
        stop_.WaitForNotificationWithTimeout(absl::Milliseconds(250));
        continue;
      }
      for (auto& m : *batch) {
        // Not acknowledged: delivered again after the ack wait.
        if (stop_.HasBeenNotified()) break;
        Process(w, std::shared_ptr<JetStreamMessage>(std::move(m)));
      }
    }
  }

  void Count(const absl::Status& s) {
    if (!s.ok()) ++c_.errors;
  }

  // Stores `status` (and the reply) as the request's result.
  absl::Status StoreResult(absl::string_view key, const absl::Status& status,
                           absl::string_view content_type,
                           absl::string_view reply) {
    return js_->KeyValuePut(
        wire::ResultBucketName(responder_), key,
        wire::EncodeDurableResult(status, content_type, reply));
  }

  // Sends the request to the dead-letter subject with `error`, stores the
  // error as its result and acknowledges it.
  void DeadLetter(JetStreamMessage& m, const wire::DurableSubjectParts& p,
                  absl::string_view key, const absl::Status& error) {
    Metadata original = m.headers();
    std::vector<HeaderRef> headers;
    for (const auto& [k, v] : original) headers.push_back({k, v});
    const std::string text = wire::DurableErrorText(error);
    const std::string deliveries = absl::StrCat(m.num_delivered());
    headers.push_back({wire::kDurableErrorHeader, text});
    headers.push_back({wire::kDurableDeliveriesHeader, deliveries});
    absl::StatusOr<PublishAck> ack =
        js_->Publish(wire::DeadLetterSubject(p.requester, p.responder, p.app,
                                             p.service, p.method),
                     headers, m.data(), key);
    if (!ack.ok()) {
      ++c_.errors;
      Count(m.Nak(o_.retry_delay));
      return;
    }
    if (absl::Status s = StoreResult(key, error, "", ""); !s.ok()) {
      ++c_.errors;
      Count(m.Nak(o_.retry_delay));
      return;
    }
    ++c_.dead_lettered;
    Count(m.Ack());
  }

  // One handler run: the interceptor chain's OnStart, the handler unless an
  // interceptor refused, then OnFinish with the run's status (the
  // handler's, or the refusal).
  absl::Status RunChain(Service& service, internal::MethodHandler& handler,
                        const std::shared_ptr<JetStreamMessage>& m,
                        const wire::DurableSubjectParts& p, Payload& reply,
                        absl::string_view& content_type) {
    CallInfo call;
    call.requester = p.requester;
    call.responder = p.responder;
    call.app = p.app;
    call.service = p.service;
    call.method = p.method;
    call.kind = CallKind::kUnary;
    // No deadline (docs/protocol.md 14.2): none is sent with the request.
    call.deadline = absl::InfiniteFuture();
    internal::ServerCallInterceptors chain;
    absl::Status status = chain.Start(interceptors_, /*builtins=*/1, call, *m);
    if (status.ok()) {
      ServerContext context(m, p.requester, p.responder, p.app, p.service,
                            p.method, absl::InfiniteFuture());
      if (chain.trace().valid()) {
        internal::ServerContextAccess::SetTrace(context, chain.trace());
      }
      ++c_.handled;
      // While the handler runs, "in progress" every third of the ack wait
      // keeps the request from being delivered again.
      absl::Notification handler_done;
      std::thread keepalive([&] {
        while (!handler_done.WaitForNotificationWithTimeout(o_.ack_wait / 3)) {
          Count(m->InProgress());
        }
      });
      if (context.trace_context().valid()) {
        // The handler's nested calls are children of this run's span.
        ScopedTraceContext current(context.trace_context());
        status = RunHandler(service, handler, context, m, reply, content_type);
      } else {
        status = RunHandler(service, handler, context, m, reply, content_type);
      }
      handler_done.Notify();
      keepalive.join();
    }
    // Before the result is stored: whoever reads the result finds the run
    // counted. Response metadata is not stored.
    Metadata unstored;
    chain.Finish(status, unstored);
    return status;
  }

  // The handler; an exception it throws is UNKNOWN (retryable), as on a
  // natsrpc::Server, instead of ending the process.
  static absl::Status RunHandler(Service& service,
                                 internal::MethodHandler& handler,
                                 ServerContext& context,
                                 const std::shared_ptr<JetStreamMessage>& m,
                                 Payload& reply,
                                 absl::string_view& content_type) {
    try {
      return handler.Run(service, context, m, reply, content_type);
    } catch (const std::exception& e) {
      return absl::UnknownError(absl::StrCat("handler of ", context.service(),
                                             ".", context.method(),
                                             " threw: ", e.what()));
    } catch (...) {
      return absl::UnknownError(
          absl::StrCat("handler of ", context.service(), ".", context.method(),
                       " threw a non-standard exception"));
    }
  }

  void Process(Worker& w, std::shared_ptr<JetStreamMessage> m) {
    ++c_.delivered;
    if (m->num_delivered() > 1) ++c_.redelivered;
    absl::StatusOr<wire::DurableSubjectParts> p =
        wire::ParseDurableSubject(m->subject());
    if (!p.ok()) {
      // Cannot happen through the consumer's filter; never deliver it again.
      ++c_.errors;
      Count(m->Term());
      return;
    }
    const std::optional<absl::string_view> id_header =
        m->header(wire::kRequestIdHeader);
    const std::string id(id_header.value_or(""));
    const std::string key = wire::ResultKey(
        p->requester, internal::ValidateRequestId(id).ok() ? id : "invalid");
    if (absl::Status s = internal::ValidateRequestId(id); !s.ok()) {
      DeadLetter(*m, *p, key, s);
      return;
    }
    absl::StatusOr<std::optional<std::string>> done =
        js_->KeyValueGet(wire::ResultBucketName(responder_), key);
    if (!done.ok()) {
      ++c_.errors;
      Count(m->Nak(o_.retry_delay));
      return;
    }
    if (done->has_value()) {
      // Handled before (and the result stored), the ack lost: not again.
      ++c_.already_done;
      Count(m->Ack());
      return;
    }
    if (m->num_delivered() > static_cast<uint64_t>(o_.max_deliver)) {
      DeadLetter(*m, *p, key,
                 absl::AbortedError(absl::StrCat(
                     "delivered ", m->num_delivered() - 1,
                     " times without a result (the responder stopped or "
                     "crashed while handling it)")));
      return;
    }
    internal::MethodHandler* handler =
        internal::DurableAccess::Find(*w.service, p->method);
    absl::Status status;
    Payload reply;
    absl::string_view content_type;
    if (handler == nullptr || handler->kind() != internal::MethodKind::kUnary) {
      status = absl::UnimplementedError(
          absl::StrCat("durable method ", p->service, ".", p->method,
                       " is not a unary method of this service"));
    } else {
      status = RunChain(*w.service, *handler, m, *p, reply, content_type);
    }
    if (!status.ok() && Retryable(status)) {
      if (m->num_delivered() >= static_cast<uint64_t>(o_.max_deliver)) {
        DeadLetter(*m, *p, key, status);
      } else {
        ++c_.retried;
        Count(m->Nak(o_.retry_delay));
      }
      return;
    }
    if (absl::Status s = StoreResult(key, status, content_type, reply.view());
        !s.ok()) {
      ++c_.errors;
      Count(m->Nak(o_.retry_delay));
      return;
    }
    if (absl::Status s = m->Ack(); !s.ok()) {
      // The result is stored: a redelivery is acknowledged without running
      // the handler again.
      ++c_.errors;
      return;
    }
    ++c_.completed;
  }

  Connection connection_;
  const std::string responder_;
  const DurableOptions o_;
  absl::Status status_;
  std::shared_ptr<JetStream> js_;
  // A JetStream timeout caused by missing grants: PERMISSION_DENIED.
  std::unique_ptr<internal::PermissionErrors> denied_;
  absl::Notification stop_;
  Counters c_;
  // Behind method_stats(); interceptors_[0].
  const std::shared_ptr<internal::MethodStatsInterceptor> method_stats_;
  const std::vector<std::shared_ptr<ServerInterceptor>> interceptors_;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
};

DurableServer::DurableServer(const Connection& connection,
                             absl::string_view responder,
                             const DurableOptions& options)
    : impl_(std::make_unique<Impl>(connection, responder, options)) {}

DurableServer::~DurableServer() { impl_->Stop(); }

absl::Status DurableServer::AddService(Service& service,
                                       absl::string_view app) {
  return impl_->AddService(service, app);
}

void DurableServer::Stop() { impl_->Stop(); }

DurableStats DurableServer::stats() const { return impl_->stats(); }

std::vector<MethodStats> DurableServer::method_stats() const {
  return impl_->method_stats();
}

std::string PrometheusText(const DurableStats& stats,
                           absl::string_view responder) {
  struct Family {
    const char* name;
    const char* help;
    uint64_t value;
  };
  const Family families[] = {
      {"natsrpc_durable_deliveries_total", "Durable requests delivered.",
       stats.delivered},
      {"natsrpc_durable_redeliveries_total",
       "Deliveries of a durable request after its first.", stats.redelivered},
      {"natsrpc_durable_handled_total", "Handler runs.", stats.handled},
      {"natsrpc_durable_completed_total",
       "Results stored and requests acknowledged.", stats.completed},
      {"natsrpc_durable_already_done_total",
       "Deliveries acknowledged without a run: the result was stored.",
       stats.already_done},
      {"natsrpc_durable_retries_total",
       "Retryable errors: the request is delivered again later.",
       stats.retried},
      {"natsrpc_durable_dead_letters_total",
       "Requests sent to the dead-letter subject.", stats.dead_lettered},
      {"natsrpc_durable_errors_total", "JetStream operations that failed.",
       stats.errors},
  };
  // The responder is a subject token: nothing to escape in a label value.
  std::string out;
  for (const Family& f : families) {
    absl::StrAppend(&out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name,
                    " counter\n", f.name, "{responder=\"", responder, "\"} ",
                    f.value, "\n");
  }
  return out;
}

std::string PrometheusText(const std::vector<MethodStats>& methods,
                           absl::string_view responder) {
  // Names and label values are subject tokens ([A-Za-z0-9_-], section 1 of
  // docs/protocol.md): nothing to escape.
  std::string requests, started, in_flight, latency;
  for (const MethodStats& m : methods) {
    const std::string labels = absl::StrCat(
        "responder=\"", responder, "\",app=\"", m.app, "\",service=\"",
        m.service, "\",method=\"", m.method, "\"");
    if (m.ok > 0) {
      absl::StrAppend(&requests, "natsrpc_durable_requests_total{", labels,
                      ",code=\"OK\"} ", m.ok, "\n");
    }
    for (const auto& [code, n] : m.errors) {
      absl::StrAppend(&requests, "natsrpc_durable_requests_total{", labels,
                      ",code=\"", absl::StatusCodeToString(code), "\"} ", n,
                      "\n");
    }
    absl::StrAppend(&started, "natsrpc_durable_requests_started_total{", labels,
                    "} ", m.calls, "\n");
    absl::StrAppend(&in_flight, "natsrpc_durable_requests_in_flight{", labels,
                    "} ", m.in_flight, "\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < m.latency_histogram.size(); ++i) {
      cumulative += m.latency_histogram[i];
      const std::string le =
          i < kLatencyBucketBounds.size()
              ? absl::StrCat(absl::ToDoubleSeconds(kLatencyBucketBounds[i]))
              : std::string("+Inf");
      absl::StrAppend(&latency, "natsrpc_durable_handling_seconds_bucket{",
                      labels, ",le=\"", le, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(
        &latency, "natsrpc_durable_handling_seconds_sum{", labels, "} ",
        absl::StrFormat("%.9g", absl::ToDoubleSeconds(m.total_latency)), "\n",
        "natsrpc_durable_handling_seconds_count{", labels, "} ", cumulative,
        "\n");
  }
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    const std::string& samples;
  };
  const Family families[] = {
      {"natsrpc_durable_requests_total", "counter",
       "Durable handler runs ended, by status code.", requests},
      {"natsrpc_durable_requests_started_total", "counter",
       "Durable handler runs started.", started},
      {"natsrpc_durable_requests_in_flight", "gauge",
       "Durable handler runs started and not ended.", in_flight},
      {"natsrpc_durable_handling_seconds", "histogram",
       "Time of a durable handler run, interceptors included.", latency},
  };
  std::string out;
  for (const Family& f : families) {
    if (f.samples.empty()) continue;
    absl::StrAppend(&out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name,
                    " ", f.type, "\n", f.samples);
  }
  return out;
}

absl::string_view DurableRequestId(const ServerContext& context) {
  if (!wire::ParseDurableSubject(context.request_message().subject()).ok()) {
    return {};
  }
  return context.metadata(wire::kRequestIdHeader).value_or("");
}

}  // namespace natsrpc
