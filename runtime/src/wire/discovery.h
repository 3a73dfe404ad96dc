// Copyright 2026 The natsrpc Authors.
//
// The text of discovery and health (docs/protocol.md section 11): the
// subjects and JSON documents of NATS's service API (ADR-32, "micro",
// revision 6) as a natsrpc server answers them, and natsrpc's own health
// check. Spelled nowhere else.

#ifndef NATSRPC_SRC_WIRE_DISCOVERY_H_
#define NATSRPC_SRC_WIRE_DISCOVERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace natsrpc::wire {

// --- ADR-32 service API.

// What a server subscribes to for all discovery requests (no queue group:
// every instance answers).
inline constexpr absl::string_view kDiscoveryWildcard = "$SRV.>";

enum class DiscoveryVerb { kPing, kInfo, kStats };

// A discovery request's subject, parsed. Empty `name`: every service; empty
// `id`: every instance.
struct DiscoveryRequest {
  DiscoveryVerb verb;
  absl::string_view name;
  absl::string_view id;
};

// "$SRV.<VERB>[.<name>[.<id>]]" with VERB one of PING, INFO, STATS; nullopt
// for any other subject (another verb, more tokens, an empty token).
//
//   ParseDiscoverySubject("$SRV.PING")
//     -> {kPing, "", ""}
//   ParseDiscoverySubject("$SRV.INFO.example_v1-Calculator.Xk3")
//     -> {kInfo, "example_v1-Calculator", "Xk3"}
//   ParseDiscoverySubject("$SRV.SCHEMA") -> nullopt
std::optional<DiscoveryRequest> ParseDiscoverySubject(
    absl::string_view subject);

// True if a request for `request_name` / `request_id` (empty: any) is for the
// service `name` of instance `id`.
bool DiscoveryMatches(const DiscoveryRequest& request, absl::string_view name,
                      absl::string_view id);

// The ADR-32 name of a natsrpc service: "<app>-<service>". App and service
// are valid subject tokens ([A-Za-z0-9_-]+, subjects.h), so the name obeys
// ADR-32's rule (A-Z, a-z, 0-9, dash, underscore) as it is.
//
//   MicroServiceName("example_v1", "Calculator") -> "example_v1-Calculator"
std::string MicroServiceName(absl::string_view app, absl::string_view service);

// True if `version` is SemVer 2.0.0 (semver.org's regular expression).
//
//   IsSemVer("1.2.3-rc.1+build.5") -> true
//   IsSemVer("1.2") -> false
bool IsSemVer(absl::string_view version);

// The version a service announces when ServerOptions::version is empty.
inline constexpr absl::string_view kDefaultMicroVersion = "0.0.0";

// Metadata keys of a service (ping, info, stats).
inline constexpr absl::string_view kMetaApp = "natsrpc.app";
inline constexpr absl::string_view kMetaResponder = "natsrpc.responder";
inline constexpr absl::string_view kMetaService = "natsrpc.service";
inline constexpr absl::string_view kMetaVersion = "natsrpc.version";
inline constexpr absl::string_view kMetaProtocol = "natsrpc.protocol_revision";
inline constexpr absl::string_view kMetaHealth = "natsrpc.health_subject";
// Metadata keys of an endpoint (one per method).
inline constexpr absl::string_view kMetaKind = "natsrpc.kind";
inline constexpr absl::string_view kMetaRequestType = "natsrpc.request_type";
inline constexpr absl::string_view kMetaResponseType = "natsrpc.response_type";
// Values of kMetaKind.
inline constexpr absl::string_view kKindUnary = "unary";
inline constexpr absl::string_view kKindServer = "server";
inline constexpr absl::string_view kKindClient = "client";
inline constexpr absl::string_view kKindBidi = "bidi";

using MicroMetadata = std::vector<std::pair<std::string, std::string>>;

// The standard fields of every response.
struct MicroIdentity {
  std::string name;
  std::string id;
  std::string version;
  MicroMetadata metadata;
};

// One endpoint: its info, and its stats for a STATS response.
struct MicroEndpoint {
  std::string name;
  std::string subject;
  std::string queue_group;  // empty: no queue group (the field is omitted)
  MicroMetadata metadata;
  uint64_t num_requests = 0;
  uint64_t num_errors = 0;
  std::string last_error;  // empty: the field is omitted
  int64_t processing_time_ns = 0;
  int64_t average_processing_time_ns = 0;
};

// {"type":"io.nats.micro.v1.ping_response","name":...,"id":...,
//  "version":...,"metadata":{...}}
std::string EncodePingResponse(const MicroIdentity& identity);

// The ping fields with type io.nats.micro.v1.info_response, "description"
// and "endpoints": [{"name","subject","queue_group","metadata"}].
std::string EncodeInfoResponse(const MicroIdentity& identity,
                               absl::string_view description,
                               absl::Span<const MicroEndpoint> endpoints);

// The ping fields with type io.nats.micro.v1.stats_response, "started"
// (RFC 3339, UTC, milliseconds: "2026-12-01T13:07:38.123Z") and
// "endpoints": [{"name","subject","queue_group","num_requests",
// "num_errors","last_error","processing_time","average_processing_time"}]
// (times in nanoseconds).
std::string EncodeStatsResponse(const MicroIdentity& identity,
                                absl::Time started,
                                absl::Span<const MicroEndpoint> endpoints);

// --- natsrpc's health check (not part of ADR-32).

// The health of a whole server instance of `responder`:
//
//   HealthSubject("bob") -> "natsrpc.health.bob"
std::string HealthSubject(absl::string_view responder);

// The health of one service: "natsrpc.health.<responder>.<app>.<service>".
//
//   HealthServiceSubject("bob", "example_v1", "Calculator")
//     -> "natsrpc.health.bob.example_v1.Calculator"
std::string HealthServiceSubject(absl::string_view responder,
                                 absl::string_view app,
                                 absl::string_view service);

// What a server subscribes to for the per-service checks:
//
//   HealthServiceWildcard("bob") -> "natsrpc.health.bob.>"
std::string HealthServiceWildcard(absl::string_view responder);

// The service a health subject of `responder` asks about: nullopt for
// the whole server (HealthSubject), {app, service} for a service; an
// app/service of "" when the subject has another shape (asked about
// nothing this server knows: SERVICE_UNKNOWN).
struct HealthTarget {
  absl::string_view app;
  absl::string_view service;
};
std::optional<HealthTarget> ParseHealthSubject(absl::string_view responder,
                                               absl::string_view subject);

// grpc.health.v1.HealthCheckResponse.ServingStatus, as its JSON names it.
enum class ServingStatus { kServing, kNotServing, kServiceUnknown };
absl::string_view ServingStatusName(ServingStatus status);

// {"status":"SERVING","responder":"bob","id":"Xk3..."} for the server, with
// "app" and "service" for one service.
std::string EncodeHealthResponse(ServingStatus status,
                                 absl::string_view responder,
                                 absl::string_view id,
                                 const std::optional<HealthTarget>& target);

// --- The asking side: a generic client listing services
// (natsrpc/generic_client.h, DiscoverServices).

// The subject of a discovery request, the inverse of ParseDiscoverySubject:
//
//   DiscoveryRequestSubject(DiscoveryVerb::kInfo, "", "") -> "$SRV.INFO"
//   DiscoveryRequestSubject(DiscoveryVerb::kPing, "example_v1-Calculator", "")
//     -> "$SRV.PING.example_v1-Calculator"
std::string DiscoveryRequestSubject(DiscoveryVerb verb, absl::string_view name,
                                    absl::string_view id);

// Where a discovery client collects the answers: NATS's usual inbox
// ("_INBOX.<token>", the grant `subscribe _INBOX.>` that NATS's own tools
// need too).
//
//   DiscoveryInbox("q7Yk") -> "_INBOX.q7Yk"
std::string DiscoveryInbox(absl::string_view token);

// An INFO response (EncodeInfoResponse's document, from any ADR-32
// implementation), parsed. INVALID_ARGUMENT if it is not JSON or not an
// io.nats.micro.v1.info_response. Unknown fields are ignored; missing ones
// stay empty.
struct MicroInfo {
  MicroIdentity identity;
  std::string description;
  std::vector<MicroEndpoint> endpoints;
};
absl::StatusOr<MicroInfo> ParseInfoResponse(absl::string_view json);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_DISCOVERY_H_
