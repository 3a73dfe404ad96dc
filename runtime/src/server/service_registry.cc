// Copyright 2026 The natsrpc Authors.

#include "server/service_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "natsrpc/status_macros.h"
#include "wire/discovery.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

absl::StatusOr<std::shared_ptr<RegisteredService>> ServiceRegistry::Prepare(
    const ServerOptions& options, Service& service) {
  NATSRPC_RETURN_IF_ERROR(
      wire::ValidateToken("ServerOptions.responder", options.responder));
  const std::string app =
      options.app.empty() ? std::string(service.default_app()) : options.app;
  NATSRPC_RETURN_IF_ERROR(wire::ValidateToken(
      options.app.empty()
          ? absl::StrCat("app of service ", service.service_name(),
                         " (from the IDL)")
          : std::string("ServerOptions.app"),
      app));
  NATSRPC_RETURN_IF_ERROR(
      wire::ValidateToken(absl::StrCat("service name ", service.service_name()),
                          service.service_name()));
  std::string queue;
  if (!options.broadcast) {
    queue = options.queue_group.empty()
                ? wire::DefaultQueueGroup(options.responder, app)
                : options.queue_group;
    for (char c : queue) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '*' ||
          c == '>') {
        return absl::InvalidArgumentError(
            absl::StrCat("ServerOptions.queue_group \"", queue,
                         "\" contains a space, a wildcard or a line break"));
      }
    }
  }
  if (options.max_queued_requests < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions.max_queued_requests is ",
                     options.max_queued_requests, "; it must be at least 1"));
  }
  auto reg = std::make_shared<RegisteredService>();
  reg->service = &service;
  reg->app = app;
  reg->queue = std::move(queue);
  if (options.discovery) {
    const std::string version = options.version.empty()
                                    ? std::string(wire::kDefaultMicroVersion)
                                    : options.version;
    if (!wire::IsSemVer(version)) {
      return absl::InvalidArgumentError(
          absl::StrCat("ServerOptions.version \"", version,
                       "\" is not a SemVer 2.0.0 version (like 1.2.3)"));
    }
  }
  reg->name = std::string(service.service_name());
  reg->full_name = service.full_name_;
  reg->description = service.description_;
  reg->micro_name = wire::MicroServiceName(app, service.service_name());
  for (auto& [name, handler] : service.methods_) {
    RegisteredService::MethodInfo info{name, handler->kind(), "", ""};
    if (auto it = service.method_types_.find(name);
        it != service.method_types_.end()) {
      info.request_type = it->second.first;
      info.response_type = it->second.second;
    }
    reg->method_infos.push_back(std::move(info));
    reg->methods.emplace(
        name,
        RegisteredMethod{handler.get(), std::make_unique<MethodTiming>()});
    if (handler->kind() != MethodKind::kUnary) reg->has_streams = true;
  }
  return reg;
}

absl::Status ServiceRegistry::CheckNew(const RegisteredService& reg) const {
  for (const auto& r : services_) {
    if (r->service == reg.service ||
        (r->app == reg.app &&
         r->service->service_name() == reg.service->service_name())) {
      return absl::AlreadyExistsError(
          absl::StrCat("service ", reg.app, ".", reg.service->service_name(),
                       " was already added to this server"));
    }
  }
  return absl::OkStatus();
}

void ServiceRegistry::Add(std::shared_ptr<RegisteredService> reg) {
  services_.push_back(std::move(reg));
}

std::vector<std::unique_ptr<Subscription>>
ServiceRegistry::TakeSubscriptions() {
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (auto& r : services_) {
    subscriptions.push_back(std::move(r->subscription));
    subscriptions.push_back(std::move(r->cancel_subscription));
    subscriptions.push_back(std::move(r->instance_subscription));
    subscriptions.push_back(std::move(r->all_subscription));
  }
  return subscriptions;
}

std::vector<std::unique_ptr<Subscription>>
ServiceRegistry::TakeRequestSubscriptions() {
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (auto& r : services_) {
    subscriptions.push_back(std::move(r->subscription));
    subscriptions.push_back(std::move(r->instance_subscription));
    subscriptions.push_back(std::move(r->all_subscription));
  }
  return subscriptions;
}

}  // namespace natsrpc::internal
