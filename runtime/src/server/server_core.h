// Copyright 2026 The natsrpc Authors.
//
// What a natsrpc::Server is made of: the services it serves
// (server/service_registry.h), the dispatch of each request through the
// protocol's checks (docs/protocol.md section 5) to a handler on the worker
// pool (server/worker_pool.h) or on the delivery thread
// (server/inline_policy.h), the interceptor chain
// (server/call_interceptors.h), cancellation (9.8), stream accept
// (server_streams.cc) with its owned handler threads
// (server/stream_runner.h), shutdown and counters.

#ifndef NATSRPC_SRC_SERVER_SERVER_CORE_H_
#define NATSRPC_SRC_SERVER_SERVER_CORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/connection.h"
#include "natsrpc/impl/method_handler.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/server.h"
#include "natsrpc/transport.h"
#include "server/async_call.h"
#include "server/call_interceptors.h"
#include "server/method_stats.h"
#include "server/service_registry.h"
#include "server/stream_runner.h"
#include "server/worker_pool.h"
#include "stream/server_stream_table.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(const Connection& connection, ServerOptions options);
  ~ServerCore();

  absl::Status AddService(Service& service);
  void Drain();
  void Shutdown();
  const std::string& instance_id() const { return table_.instance_id(); }
  absl::Status discovery_status() const;
  ServerStats stats() const;
  std::vector<MethodStats> method_stats() const {
    return method_stats_->Snapshot();
  }
  absl::Status health() const;

  // Asynchronous unary handlers (server_async.cc, natsrpc/async.h): ends a
  // pending call once (false if it had ended): kFinished replies `status`
  // (and on OK `reply`) unless the caller cancelled meanwhile. Called by
  // UnaryCompletion, cancels, the deadline thread and Shutdown().
  bool EndAsync(const std::shared_ptr<AsyncUnaryCall>& call, AsyncEnd how,
                const absl::Status& status, Payload reply,
                absl::string_view content_type);

 private:
  // A call's cancellation flag (ServerContext::IsCancelled()).
  struct CallState {
    std::atomic<bool> cancelled{false};
  };
  // Counts a subscription callback in `in_callbacks_` while it runs, if the
  // server is serving and `reg` is registered (Shutdown() waits for them).
  class CallbackScope;
  // Requests taken off the queue whose reply is not sent yet, plus queued
  // ones (counted from submission); a hint for WriteReplyNow.
  struct InFlight {
    explicit InFlight(std::atomic<int>& n) : n(n) {}
    ~InFlight() { n.fetch_sub(1, std::memory_order_relaxed); }
    std::atomic<int>& n;
  };

  // Registration (server_core.cc).
  // Makes the service's subscriptions, kept in `reg`; on failure the ones
  // made are left in `reg` for the caller to drop.
  absl::Status Subscribe(const std::shared_ptr<RegisteredService>& reg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Subscribes the calls addressed to this instance (docs/protocol.md 2.1).
  absl::Status SubscribeInstance(const std::shared_ptr<RegisteredService>& reg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Subscribes the instance's stream subject for `app` once, and starts
  // the ticker.
  absl::Status EnableStreams(const std::string& app)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `subject` with the status of a refused subscribe.
  static absl::Status SubscribeError(absl::string_view subject,
                                     const absl::Status& status);
  void OnTransportEvent(const TransportEvent& event);
  WorkerPool& pool() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Discovery and health (discovery.cc, docs/protocol.md section 11).
  // Subscribes `$SRV.>` and the health subjects once; a refusal is kept in
  // discovery_status_, never returned.
  void EnableDiscovery() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnDiscovery(const IncomingMessage& message);
  void OnHealth(const IncomingMessage& message);
  // Records why discovery is unavailable (logged once).
  void DiscoveryUnavailable(const absl::Status& status);
  // Publishes a JSON answer to `reply`.
  void Answer(absl::string_view reply, absl::string_view json);
  // True if NATS refused a subscription of `reg` (health NOT_SERVING).
  bool Refused(const RegisteredService& reg) const;

  // Unary dispatch (server_core.cc).
  void OnRequest(const RegisteredService& reg, MessagePtr message,
                 Delivery& delivery);
  void Dispatch(const RegisteredService& reg, MessagePtr message,
                Delivery& delivery);
  // A request addressed to this instance (SubscribeInstance).
  void OnInstanceRequest(const RegisteredService& reg, MessagePtr message,
                         Delivery& delivery);
  // Dispatch() after the subject was parsed (a method subject, an
  // instance's or an every-instance one).
  void DispatchParsed(const RegisteredService& reg, MessagePtr message,
                      const absl::StatusOr<wire::RequestSubjectParts>& parts,
                      Delivery& delivery);
  void DispatchUnary(const RegisteredService& reg,
                     const RegisteredMethod& method, MessagePtr message,
                     const wire::RequestSubjectParts& parts,
                     absl::Time deadline, Delivery& delivery);
  void OnCancel(const IncomingMessage& message);
  // Answers a schema request (docs/protocol.md section 12).
  void ReplySchema(const RegisteredService& reg,
                   const IncomingMessage& request);
  // `delivery`: the request's delivery when the subscription's handler runs
  // it itself; null on a worker.
  void Serve(const RegisteredService& reg, const RegisteredMethod& method,
             MessagePtr message, const wire::RequestSubjectParts& parts,
             absl::Time deadline, const CallState& state, Delivery* delivery);
  absl::Status RunHandler(const RegisteredService& reg,
                          const RegisteredMethod& method,
                          ServerContext& context, const MessagePtr& message,
                          Payload& reply, absl::string_view& content_type,
                          Delivery* delivery);
  void Reply(const IncomingMessage& request, const absl::Status& status,
             absl::string_view payload, absl::string_view content_type,
             const Metadata* metadata, FlushPolicy flush = FlushPolicy::kBatch);
  CallInfo MakeCallInfo(const wire::RequestSubjectParts& parts, MethodKind kind,
                        absl::Time deadline) const;

  // Events and every-instance requests (server_fanout.cc,
  // docs/protocol.md 13).
  // Subscribes the service's `.all` subject without a queue group.
  absl::Status SubscribeAll(const std::shared_ptr<RegisteredService>& reg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnAllRequest(const RegisteredService& reg, MessagePtr message,
                    Delivery& delivery);
  // A message without reply-to: runs it if it names an event method of
  // `reg` (true), else false (the caller drops it as before). On a worker,
  // or here on the delivery thread when the workers' queue is full.
  bool DispatchEvent(const RegisteredService& reg, const MessagePtr& message,
                     const wire::RequestSubjectParts& parts,
                     Delivery& delivery);
  // `delivery`: set when it runs on the delivery thread.
  void ServeEvent(const RegisteredService& reg, const RegisteredMethod& method,
                  const MessagePtr& message,
                  const wire::RequestSubjectParts& parts, absl::Time deadline,
                  Delivery* delivery);
  // Adds the sentinel header to a reply whose handler called EndGather().
  static void AppendGatherEnd(const ServerContext& context, Metadata& extra);

  // Streams (server_streams.cc). An open on a method of `reg`: accept it
  // and run the handler on its own thread, or refuse it.
  void OpenStream(const RegisteredService& reg, MethodHandler* handler,
                  MessagePtr message, const wire::RequestSubjectParts& parts,
                  absl::Time deadline);
  void RunStream(const RegisteredService& reg, MethodHandler* handler,
                 MessagePtr message, const wire::RequestSubjectParts& parts,
                 absl::Time deadline, std::shared_ptr<StreamEndpoint> endpoint,
                 std::shared_ptr<CallState> state,
                 ServerCallInterceptors interceptors);
  void Refuse(const IncomingMessage& open, const absl::Status& status);

  // Asynchronous unary handlers (server_async.cc). Runs the handler of a
  // call that passed the interceptors' OnStart; the call ends later.
  void ServeAsync(const RegisteredService& reg, const RegisteredMethod& method,
                  MessagePtr message, const wire::RequestSubjectParts& parts,
                  absl::Time deadline, const CallState& state,
                  ServerCallInterceptors interceptors, Delivery* delivery);
  // Shutdown(): ends every pending call with UNAVAILABLE.
  void EndAllAsync();

  Connection connection_;
  const ServerOptions options_;
  // The per-method counters, then options_.interceptors.
  const std::shared_ptr<MethodStatsInterceptor> method_stats_;
  const std::vector<std::shared_ptr<ServerInterceptor>> interceptors_;

  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  // `$SRV.>`, the server's and the services' health subjects.
  std::vector<std::unique_ptr<Subscription>> discovery_subscriptions_
      ABSL_GUARDED_BY(mu_);
  bool discovery_enabled_ ABSL_GUARDED_BY(mu_) = false;
  int in_callbacks_ ABSL_GUARDED_BY(mu_) = 0;
  ServiceRegistry registry_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<WorkerPool> pool_;  // created by the first AddService
  // Transport events (permission errors), from the first AddService on.
  std::optional<uint64_t> event_listener_ ABSL_GUARDED_BY(mu_);

  // Streams and cancellation (protocol section 9).
  ServerStreamTable table_;
  // The instance's stream subscription, per app.
  absl::flat_hash_map<std::string, std::unique_ptr<Subscription>>
      stream_subscriptions_ ABSL_GUARDED_BY(mu_);
  StreamRunner streams_;

  // What each subscribed subject serves, for permission events; and the
  // last such event (health()).
  mutable absl::Mutex events_mu_ ABSL_ACQUIRED_AFTER(mu_);
  absl::flat_hash_map<std::string, std::string> subject_owners_
      ABSL_GUARDED_BY(events_mu_);
  absl::Status health_ ABSL_GUARDED_BY(events_mu_);
  // Subjects NATS refused after they were subscribed.
  absl::flat_hash_set<std::string> refused_ ABSL_GUARDED_BY(events_mu_);
  // The discovery subjects, and why discovery is unavailable.
  absl::flat_hash_set<std::string> discovery_subjects_
      ABSL_GUARDED_BY(events_mu_);
  absl::Status discovery_status_ ABSL_GUARDED_BY(events_mu_);

  std::atomic<int> in_flight_{0};

  // Pending asynchronous unary calls (server/async_call.h).
  AsyncCallSet async_calls_;

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
  std::atomic<uint64_t> permission_errors_{0};
  std::atomic<uint64_t> schema_requests_{0};
  std::atomic<uint64_t> events_handled_{0};
  std::atomic<uint64_t> events_failed_{0};
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_SERVER_CORE_H_
