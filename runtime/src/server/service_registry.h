// Copyright 2026 The natsrpc Authors.
//
// The services a server serves: each one's checked names, its methods and
// its subscriptions (ServerCore keeps them; this file says what one is).

#ifndef NATSRPC_SRC_SERVER_SERVICE_REGISTRY_H_
#define NATSRPC_SRC_SERVER_SERVICE_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "natsrpc/impl/method_handler.h"
#include "natsrpc/server.h"
#include "natsrpc/transport.h"
#include "server/inline_policy.h"
#include "server/method_stats.h"

namespace natsrpc::internal {

struct RegisteredMethod {
  MethodHandler* handler;
  std::unique_ptr<MethodTiming> timing;
  // The method's counters (Server::method_stats()), set by ServerCore when
  // the service is added.
  MethodStatsInterceptor::Counters* counters = nullptr;
};

// One added service. Shared with its subscriptions' callbacks, which may
// still run after a failed AddService has returned (transport.h: a handler
// invocation that started may finish after unsubscribing); they find
// `registered` false then and drop the message.
struct RegisteredService {
  Service* service;
  std::string app;
  std::string queue;  // empty: broadcast
  // For discovery (server/discovery.cc), copied from the Service so that
  // answering never touches it: the methods in registration order, with
  // kind and IDL types; the ADR-32 name; when it was added.
  struct MethodInfo {
    std::string name;
    MethodKind kind;
    std::string request_type, response_type;
  };
  std::string name;  // the IDL service name
  std::string full_name;
  std::string description;
  std::vector<MethodInfo> method_infos;
  std::string micro_name;
  absl::Time started;
  absl::flat_hash_map<std::string, RegisteredMethod> methods;
  bool has_streams = false;
  // True once every subscription of the service is made. Guarded by the
  // mutex of the ServerCore that owns the registry.
  bool registered = false;
  std::unique_ptr<Subscription> subscription;
  // The service's cancel subject (docs/protocol.md 9.8), no queue group.
  std::unique_ptr<Subscription> cancel_subscription;
  // The calls addressed to this server instance (wire::InstanceWildcard,
  // docs/protocol.md 2.1), no queue group.
  std::unique_ptr<Subscription> instance_subscription;
  // Every instance (docs/protocol.md 13): the service's `.all` subject, no
  // queue group.
  std::unique_ptr<Subscription> all_subscription;
};

// Not thread-safe: ServerCore calls it under its mutex.
class ServiceRegistry {
 public:
  // A registration of `service` under `options`, not subscribed yet.
  // INVALID_ARGUMENT names a bad responder, app, service name, queue group
  // or queue limit.
  static absl::StatusOr<std::shared_ptr<RegisteredService>> Prepare(
      const ServerOptions& options, Service& service);

  // ALREADY_EXISTS when the same service object, or a service of the same
  // app and name, is registered.
  absl::Status CheckNew(const RegisteredService& reg) const;

  void Add(std::shared_ptr<RegisteredService> reg);

  // Every service's subscriptions, moved out (to unsubscribe outside the
  // server's mutex).
  std::vector<std::unique_ptr<Subscription>> TakeSubscriptions();
  // Every service's request subscriptions (the queue group's and the
  // instance's, not its cancels), moved out.
  std::vector<std::unique_ptr<Subscription>> TakeRequestSubscriptions();

  const std::vector<std::shared_ptr<RegisteredService>>& services() const {
    return services_;
  }

 private:
  std::vector<std::shared_ptr<RegisteredService>> services_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_SERVICE_REGISTRY_H_
