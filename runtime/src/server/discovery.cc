// Copyright 2026 The natsrpc Authors.
//
// ServerCore's answers to NATS service discovery (ADR-32) and to natsrpc's
// health check (docs/protocol.md section 11). The JSON and the subjects are
// spelled in wire/discovery.h; this file gathers what they say.

#include "wire/discovery.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "natsrpc/version.h"
#include "server/server_core.h"

namespace natsrpc::internal {
namespace {

#define NATSRPC_STR2(x) #x
#define NATSRPC_STR(x) NATSRPC_STR2(x)
constexpr absl::string_view kNatsrpcVersion =
    NATSRPC_STR(NATSRPC_VERSION_MAJOR) "." NATSRPC_STR(
        NATSRPC_VERSION_MINOR) "." NATSRPC_STR(NATSRPC_VERSION_PATCH);
#undef NATSRPC_STR
#undef NATSRPC_STR2

absl::string_view KindName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kUnary:
      return wire::kKindUnary;
    case MethodKind::kServerStreaming:
      return wire::kKindServer;
    case MethodKind::kClientStreaming:
      return wire::kKindClient;
    case MethodKind::kBidiStreaming:
      return wire::kKindBidi;
  }
  return wire::kKindUnary;
}

// What an answer needs of one service, copied under the server's mutex.
struct ServiceView {
  std::shared_ptr<const RegisteredService> reg;
  bool serving;
};

}  // namespace

void ServerCore::EnableDiscovery() {
  if (discovery_enabled_) return;
  discovery_enabled_ = true;
  std::weak_ptr<ServerCore> weak = weak_from_this();
  Transport& transport = connection_.transport();
  const std::string subjects[] = {
      std::string(wire::kDiscoveryWildcard),
      wire::HealthSubject(options_.responder),
      wire::HealthServiceWildcard(options_.responder),
  };
  {
    absl::MutexLock lock(&events_mu_);
    for (const std::string& s : subjects) discovery_subjects_.insert(s);
  }
  for (size_t i = 0; i < std::size(subjects); ++i) {
    const bool discovery = i == 0;
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        transport.Subscribe(subjects[i], "", [weak, discovery](MessagePtr m) {
          auto self = weak.lock();
          if (self == nullptr) return;
          if (discovery) {
            self->OnDiscovery(*m);
          } else {
            self->OnHealth(*m);
          }
        });
    if (!sub.ok()) {
      DiscoveryUnavailable(SubscribeError(subjects[i], sub.status()));
      continue;
    }
    discovery_subscriptions_.push_back(*std::move(sub));
  }
}

void ServerCore::DiscoveryUnavailable(const absl::Status& status) {
  absl::MutexLock lock(&events_mu_);
  if (!discovery_status_.ok()) return;
  discovery_status_ = absl::Status(
      status.code(),
      absl::StrCat(
          "discovery and health of responder ", options_.responder,
          " are unavailable (calls are still served): ", status.message()));
  std::fprintf(stderr, "natsrpc server: %s\n",
               std::string(discovery_status_.message()).c_str());
}

absl::Status ServerCore::discovery_status() const {
  absl::MutexLock lock(&events_mu_);
  return discovery_status_;
}

bool ServerCore::Refused(const RegisteredService& reg) const {
  absl::MutexLock lock(&events_mu_);
  return refused_.contains(
             wire::ServiceWildcard(options_.responder, reg.app, reg.name)) ||
         refused_.contains(
             wire::CancelWildcard(options_.responder, reg.app, reg.name));
}

void ServerCore::Answer(absl::string_view reply, absl::string_view json) {
  if (reply.empty()) return;
  absl::Status s = connection_.transport().Publish(
      OutgoingMessage{reply, {}, {}, nullptr, json, FlushPolicy::kNow});
  if (!s.ok()) publish_errors_.fetch_add(1, std::memory_order_relaxed);
}

void ServerCore::OnDiscovery(const IncomingMessage& message) {
  const std::optional<wire::DiscoveryRequest> request =
      wire::ParseDiscoverySubject(message.subject());
  if (!request.has_value() || message.reply().empty()) return;
  const std::string& id = instance_id();
  std::vector<std::shared_ptr<const RegisteredService>> services;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    for (const auto& reg : registry_.services()) {
      if (wire::DiscoveryMatches(*request, reg->micro_name, id)) {
        services.push_back(reg);
      }
    }
  }
  if (services.empty()) return;
  std::vector<MethodStats> stats;
  if (request->verb == wire::DiscoveryVerb::kStats) {
    stats = method_stats_->Snapshot();
  }
  const std::string version = options_.version.empty()
                                  ? std::string(wire::kDefaultMicroVersion)
                                  : options_.version;
  for (const auto& reg : services) {
    wire::MicroIdentity identity{reg->micro_name, id, version, {}};
    identity.metadata = {
        {std::string(wire::kMetaApp), reg->app},
        {std::string(wire::kMetaResponder), options_.responder},
        {std::string(wire::kMetaService),
         reg->full_name.empty() ? reg->name : reg->full_name},
        {std::string(wire::kMetaVersion), std::string(kNatsrpcVersion)},
        {std::string(wire::kMetaProtocol),
         absl::StrCat(NATSRPC_PROTOCOL_REVISION)},
        {std::string(wire::kMetaHealth),
         wire::HealthServiceSubject(options_.responder, reg->app, reg->name)},
    };
    if (request->verb == wire::DiscoveryVerb::kPing) {
      Answer(message.reply(), wire::EncodePingResponse(identity));
      continue;
    }
    std::vector<wire::MicroEndpoint> endpoints;
    endpoints.reserve(reg->method_infos.size());
    for (const auto& m : reg->method_infos) {
      wire::MicroEndpoint e;
      e.name = m.name;
      e.subject = wire::RequestSubject("*", options_.responder, reg->app,
                                       reg->name, m.name);
      e.queue_group = reg->queue;
      if (request->verb == wire::DiscoveryVerb::kInfo) {
        e.metadata = {
            {std::string(wire::kMetaKind), std::string(KindName(m.kind))},
            {std::string(wire::kMetaRequestType), m.request_type},
            {std::string(wire::kMetaResponseType), m.response_type}};
      } else {
        for (const MethodStats& s : stats) {
          if (s.app != reg->app || s.service != reg->name ||
              s.method != m.name) {
            continue;
          }
          e.num_requests = s.calls;
          for (const auto& [code, n] : s.errors) e.num_errors += n;
          e.last_error = s.last_error;
          e.processing_time_ns = absl::ToInt64Nanoseconds(s.total_latency);
          e.average_processing_time_ns =
              absl::ToInt64Nanoseconds(s.average_latency());
        }
      }
      endpoints.push_back(std::move(e));
    }
    Answer(message.reply(),
           request->verb == wire::DiscoveryVerb::kInfo
               ? wire::EncodeInfoResponse(identity, reg->description, endpoints)
               : wire::EncodeStatsResponse(identity, reg->started, endpoints));
  }
}

void ServerCore::OnHealth(const IncomingMessage& message) {
  if (message.reply().empty()) return;
  const std::optional<wire::HealthTarget> target =
      wire::ParseHealthSubject(options_.responder, message.subject());
  wire::ServingStatus status = wire::ServingStatus::kServiceUnknown;
  std::shared_ptr<const RegisteredService> found;
  bool draining;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    draining = draining_;
    if (target.has_value()) {
      for (const auto& reg : registry_.services()) {
        if (reg->app == target->app && reg->name == target->service) {
          found = reg;
        }
      }
    }
  }
  if (!target.has_value()) {
    status = draining || !health().ok() ? wire::ServingStatus::kNotServing
                                        : wire::ServingStatus::kServing;
  } else if (found != nullptr) {
    status = draining || Refused(*found) ? wire::ServingStatus::kNotServing
                                         : wire::ServingStatus::kServing;
  }
  Answer(message.reply(), wire::EncodeHealthResponse(status, options_.responder,
                                                     instance_id(), target));
}

}  // namespace natsrpc::internal
