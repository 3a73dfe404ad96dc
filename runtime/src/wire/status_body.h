// Copyright 2026 The natsrpc Authors.
//
// The exact status in the body of an error reply and of an error `end`
// (docs/protocol.md 4.1, revision 3): a protobuf message wire-compatible with
// `google.rpc.Status`,
//
//   message Status {
//     int32 code = 1;                          // tag 0x08, varint
//     string message = 2;                      // tag 0x12, length-delimited
//     repeated google.protobuf.Any details = 3;// tag 0x1a, length-delimited
//   }
//   message Any { string type_url = 1; bytes value = 2; }  // tags 0x0a, 0x12
//
// written and read by hand (varints and length-delimited fields), so the
// runtime needs no .proto for it. Each absl::Status payload is one detail:
// type_url = the payload's key, value = its bytes.
//
// The `Nats-Service-Error-Code` / `Nats-Service-Error` headers (headers.h)
// are still sent with it, so that NATS tools and peers of revision <= 2 read
// the code and a one-line message; StatusFromErrorReply() is the receiver's
// rule that combines the two.

#ifndef NATSRPC_SRC_WIRE_STATUS_BODY_H_
#define NATSRPC_SRC_WIRE_STATUS_BODY_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace natsrpc::wire {

// The body of an error reply or error `end` for `status`. Fields at their
// proto3 default are omitted (OK encodes as ""). Details are written in
// byte-wise order of their type_url, so the bytes are deterministic (absl
// visits payloads in an unspecified order).
//
//   EncodeStatusBody(absl::InvalidArgumentError("bad\nthing"))
//     -> 08 03 12 09 62 61 64 0a 74 68 69 6e 67
//   with payload {"t", "v"} added:
//     -> 08 03 12 09 62 61 64 0a 74 68 69 6e 67
//        1a 06 0a 01 74 12 01 76
//   EncodeStatusBody(absl::OkStatus()) -> ""
std::string EncodeStatusBody(const absl::Status& status);

// Parses a body written by EncodeStatusBody() or by any protobuf
// implementation of google.rpc.Status. Safe on any bytes: reads stay within
// `body`, varints are at most 10 bytes, groups nest at most 64 deep.
// Unknown fields (any wire type, groups included) are skipped; a known field
// with an unexpected wire type is skipped as unknown, as protobuf does; a
// repeated scalar field keeps its last value. The message bytes are taken as
// they are (not checked for UTF-8). A detail with an empty type_url is
// dropped; two details with the same type_url keep the last.
//
//   DecodeStatusBody(08 03 12 09 "bad\nthing") -> INVALID_ARGUMENT "bad\nthing"
//   DecodeStatusBody("")                       -> OK (code 0)
//   DecodeStatusBody(08 00 12 01 "x")          -> OK (message dropped)
//   DecodeStatusBody(08 11)  (code 17)         -> error: not a status code
//   DecodeStatusBody(12 05 "ab")  (truncated)  -> error: truncated
//
// The outer StatusOr is an error (INVALID_ARGUMENT naming the problem) when
// the body is not a well-formed message or its code is outside 0..16; the
// caller then falls back to the headers. Otherwise its value is the status
// the body carries. (Beware: `absl::StatusOr<absl::Status> r = some_status;`
// makes a *value*, never an error.)
absl::StatusOr<absl::Status> DecodeStatusBody(absl::string_view body);

// The status of a received message that may carry an error (unary reply,
// stream `end` or `cancel`): docs/protocol.md 4.1.
//
// - no code header -> OK (the body, if any, is the reply message and is not
//   looked at here);
// - otherwise the headers' status (StatusFromHeaders); if the code header is
//   a number 1..16, the body is non-empty, decodes, and its code equals the
//   header's, the body's status (exact message and payloads) instead.
//
//   StatusFromErrorReply("3", "bad thing", EncodeStatusBody(
//       absl::InvalidArgumentError("bad\nthing")))
//     -> INVALID_ARGUMENT "bad\nthing"
//   StatusFromErrorReply("5", "bad thing", <same body, code 3>)
//     -> NOT_FOUND "bad thing"   (codes disagree: the headers win)
//   StatusFromErrorReply("3", "bad thing", "\xff")
//     -> INVALID_ARGUMENT "bad thing"   (undecodable body)
absl::Status StatusFromErrorReply(std::optional<absl::string_view> code,
                                  std::optional<absl::string_view> message,
                                  absl::string_view body);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_STATUS_BODY_H_
