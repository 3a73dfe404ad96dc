// Copyright 2026 The natsrpc Authors.
//
// Message headers of protocol v1 (docs/protocol.md sections 3, 4 and 9.1):
// header names, stream frame names, the `Natsrpc-Timeout` encoding, the rules
// for application metadata, and the mapping of absl::Status onto the
// `Nats-Service-Error-Code` / `Nats-Service-Error` headers of the NATS micro
// service API (ADR-32), both ways.

#ifndef NATSRPC_SRC_WIRE_HEADERS_H_
#define NATSRPC_SRC_WIRE_HEADERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"
#include "natsrpc/version.h"

namespace natsrpc::wire {

// Unary headers (section 3).
inline constexpr absl::string_view kTimeoutHeader = "Natsrpc-Timeout";
inline constexpr absl::string_view kContentTypeHeader = "Content-Type";
inline constexpr absl::string_view kErrorCodeHeader = "Nats-Service-Error-Code";
inline constexpr absl::string_view kErrorHeader = "Nats-Service-Error";

// Revision 5, every-instance requests (docs/protocol.md 13): a server's
// reply to a request on a `.all` subject names the instance that sent it
// (its ADR-32 id, Server::instance_id()); a reply that also carries
// `Natsrpc-Gather-End` (any value) is the sentinel: the caller stops
// collecting after it.
inline constexpr absl::string_view kInstanceHeader = "Natsrpc-Instance";
inline constexpr absl::string_view kGatherEndHeader = "Natsrpc-Gather-End";

// Stream headers (section 9.1).
inline constexpr absl::string_view kStreamHeader = "Natsrpc-Stream";
inline constexpr absl::string_view kSeqHeader = "Natsrpc-Seq";
inline constexpr absl::string_view kCreditHeader = "Natsrpc-Credit";
inline constexpr absl::string_view kCountHeader = "Natsrpc-Count";
inline constexpr absl::string_view kHeartbeatHeader = "Natsrpc-Heartbeat";
// Revision 5 (section 9.5.1): the sender's cumulative credit in payload
// bytes, beside `Natsrpc-Credit`, on every frame that carries credit. On
// `open` and `accept` it also says that the sender honours byte credit.
inline constexpr absl::string_view kCreditBytesHeader = "Natsrpc-Credit-Bytes";
// Revision 3 (section 9.3.5): on `open` and `accept`, the protocol revision
// the sender implements; peers of revision <= 2 neither send nor read it.
// (Revision 4's headers: wire/reply_metadata.h, wire/trace_context.h.)
inline constexpr absl::string_view kRevisionHeader = "Natsrpc-Revision";
inline constexpr absl::string_view kRevisionValue = "5";
static_assert(NATSRPC_PROTOCOL_REVISION == 5,
              "kRevisionValue must spell NATSRPC_PROTOCOL_REVISION");

// Values of the `Natsrpc-Stream` header.
enum class StreamFrame { kOpen, kAccept, kMsg, kEnd, kCancel, kCredit, kPing };

//   StreamFrameName(StreamFrame::kOpen) -> "open"
absl::string_view StreamFrameName(StreamFrame frame);
//   ParseStreamFrame("end") -> StreamFrame::kEnd; ParseStreamFrame("x") -> none
std::optional<StreamFrame> ParseStreamFrame(absl::string_view value);

// A counter header value (`Natsrpc-Seq`, `-Credit`, `-Count`): decimal
// digits only, fitting a uint64.
//
//   ParseCounter("42") -> 42;  ParseCounter("+1"), ParseCounter("") -> none
std::optional<uint64_t> ParseCounter(std::optional<absl::string_view> value);

// True for keys natsrpc or NATS reserve (`Nats-*`, `Natsrpc-*`,
// `Content-Type`), compared without regard to case. Such keys are refused as
// application metadata.
bool IsReservedHeader(absl::string_view key);

// OK if `metadata` can be sent as NATS headers: keys are non-empty printable
// ASCII without ':' and not reserved, values have no CR or LF.
absl::Status ValidateMetadata(const Metadata& metadata);

// The entries of `metadata` that ValidateMetadata() accepts, in order: what a
// handler's response metadata becomes on the wire.
Metadata SendableMetadata(const Metadata& metadata);

// Encodes a timeout in gRPC's `grpc-timeout` form: at most 8 digits and one
// unit of H (hours), M (minutes), S, m (milli), u (micro), n (nano). The
// finest unit that fits is used and the value is rounded up, so that the
// receiver never sees less time than the sender has. Negative -> "0n".
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

// The error headers of a status (section 4): nothing for OK; otherwise
// `Nats-Service-Error-Code: <code number>` and `Nats-Service-Error:
// <message>` with CR and LF replaced by spaces (header values are one line).
//
//   StatusHeaders h(absl::NotFoundError("no\nfile"));
//   h.AppendTo(headers);  // {Nats-Service-Error-Code: 5},
//                         // {Nats-Service-Error: no file}
class StatusHeaders {
 public:
  explicit StatusHeaders(const absl::Status& status);
  StatusHeaders(const StatusHeaders&) = delete;
  StatusHeaders& operator=(const StatusHeaders&) = delete;

  // Appends 0 or 2 headers viewing this object's strings.
  template <typename Container>
  void AppendTo(Container& headers) const {
    if (ok_) return;
    headers.push_back(HeaderRef{kErrorCodeHeader, code_});
    headers.push_back(HeaderRef{kErrorHeader, message_});
  }
  // Writes 0 or 2 headers at `out` and returns how many.
  size_t WriteTo(HeaderRef* out) const;

 private:
  bool ok_;
  std::string code_;
  std::string message_;
};

// Rebuilds the status a reply carries from its error headers. Absent code
// header -> OK. A code header that is not a number in [1, 16] gives UNKNOWN
// with the raw header in the message, so nothing is lost.
absl::Status StatusFromHeaders(std::optional<absl::string_view> code,
                               std::optional<absl::string_view> message);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_HEADERS_H_
