// Copyright 2026 The natsrpc Authors.
//
// The public Server and Service (natsrpc/server.h); the work is done by
// ServerCore (server/server_core.h).

#include "natsrpc/server.h"

#include <memory>
#include <string>
#include <utility>

#include "natsrpc/impl/method_handler.h"
#include "server/server_core.h"

namespace natsrpc {

Service::Service(absl::string_view name, absl::string_view default_app)
    : name_(name), default_app_(default_app) {}

Service::Service(absl::string_view name, absl::string_view default_app,
                 const ServiceSchema& schema)
    : name_(name), default_app_(default_app), schema_(schema) {}

Service::~Service() = default;

void Service::RegisterMethod(absl::string_view method,
                             std::unique_ptr<internal::MethodHandler> handler) {
  // A second registration replaces the first: Svc::AsyncService re-registers
  // the unary methods of Svc::Service with asynchronous handlers.
  for (auto& [name, existing] : methods_) {
    if (name == method) {
      existing = std::move(handler);
      return;
    }
  }
  methods_.emplace_back(std::string(method), std::move(handler));
}

void Service::Describe(absl::string_view full_name,
                       absl::string_view description) {
  full_name_ = std::string(full_name);
  description_ = std::string(description);
}

void Service::DescribeMethod(absl::string_view method,
                             absl::string_view request_type,
                             absl::string_view response_type) {
  method_types_[std::string(method)] = {std::string(request_type),
                                        std::string(response_type)};
}

Server::Server(const Connection& connection, ServerOptions options)
    : core_(std::make_shared<internal::ServerCore>(connection,
                                                   std::move(options))) {}

Server::~Server() { Shutdown(); }

absl::Status Server::AddService(Service& service) {
  return core_->AddService(service);
}

void Server::Drain() { core_->Drain(); }

void Server::Shutdown() { core_->Shutdown(); }

const std::string& Server::instance_id() const { return core_->instance_id(); }

absl::Status Server::discovery_status() const {
  return core_->discovery_status();
}

ServerStats Server::stats() const { return core_->stats(); }

std::vector<MethodStats> Server::method_stats() const {
  return core_->method_stats();
}

absl::Status Server::health() const { return core_->health(); }

}  // namespace natsrpc
