// Copyright 2026 The natsrpc Authors.
//
// Message headers of protocol v1 (docs/protocol.md, section 3): header names,
// the `Natsrpc-Timeout` encoding, and the mapping of absl::Status onto the
// `Nats-Service-Error-Code` / `Nats-Service-Error` headers of the NATS micro
// service API (ADR-32).

#ifndef NATSRPC_METADATA_H_
#define NATSRPC_METADATA_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace natsrpc {

// Application metadata: NATS headers as (key, value) pairs, in order. A key
// may repeat. Keys starting with `Nats-` or `Natsrpc-` are reserved.
using Metadata = std::vector<std::pair<std::string, std::string>>;

inline constexpr absl::string_view kTimeoutHeader = "Natsrpc-Timeout";
inline constexpr absl::string_view kContentTypeHeader = "Content-Type";
inline constexpr absl::string_view kErrorCodeHeader = "Nats-Service-Error-Code";
inline constexpr absl::string_view kErrorHeader = "Nats-Service-Error";

inline constexpr absl::string_view kProtobufContentType =
    "application/protobuf";
inline constexpr absl::string_view kFlatBuffersContentType =
    "application/x-flatbuffers";

// True for keys natsrpc or NATS reserve (`Nats-*`, `Natsrpc-*`,
// `Content-Type`), compared without regard to case. Such keys are refused as
// application metadata.
bool IsReservedHeader(absl::string_view key);

// OK if `metadata` can be sent as NATS headers: keys are non-empty printable
// ASCII without ':' and not reserved, values have no CR or LF.
absl::Status ValidateMetadata(const Metadata& metadata);

// Encodes a timeout in gRPC's `grpc-timeout` form: at most 8 digits and one
// unit of H (hours), M (minutes), S, m (milli), u (micro), n (nano). The
// finest unit that fits is used and the value is rounded up, so that the
// receiver never sees less time than the sender has. Negative → "0n".
//
//   EncodeTimeout(absl::Milliseconds(250)) -> "250000u"
//   EncodeTimeout(absl::Seconds(30))       -> "30000000u"
//   EncodeTimeout(absl::Hours(1000))       -> "3600000S"
std::string EncodeTimeout(absl::Duration timeout);

// Parses the form above. INVALID_ARGUMENT names the bad value.
//
//   DecodeTimeout("250m") -> absl::Milliseconds(250)
//   DecodeTimeout("1x")   -> INVALID_ARGUMENT
absl::StatusOr<absl::Duration> DecodeTimeout(absl::string_view value);

// Rebuilds the status a reply carries from its error headers. Absent code
// header → OK. A code header that is not a number in [1, 16] gives UNKNOWN
// with the raw header in the message, so nothing is lost.
absl::Status StatusFromHeaders(std::optional<absl::string_view> code,
                               std::optional<absl::string_view> message);

}  // namespace natsrpc

#endif  // NATSRPC_METADATA_H_
