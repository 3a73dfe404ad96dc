// Copyright 2026 The natsrpc Authors.
//
// The names of durable requests on JetStream (docs/protocol.md section 14):
// subjects, stream, consumer and bucket names, headers, and the stored
// result's format. Spelled here and nowhere else.

#ifndef NATSRPC_SRC_WIRE_DURABLE_H_
#define NATSRPC_SRC_WIRE_DURABLE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace natsrpc::wire {

// The id of a durable request: the caller's, else a random one.
inline constexpr absl::string_view kRequestIdHeader = "Natsrpc-Request-Id";
// On a dead letter: the last error ("UNAVAILABLE: disk full") and how many
// times the request was delivered.
inline constexpr absl::string_view kDurableErrorHeader =
    "Natsrpc-Durable-Error";
inline constexpr absl::string_view kDurableDeliveriesHeader =
    "Natsrpc-Durable-Deliveries";

// durable.<requester>.<responder>.<app>.<service>.<method>
//
//   DurableSubject("alice", "bob", "calc", "Calculator", "Add")
//     -> "durable.alice.bob.calc.Calculator.Add"
std::string DurableSubject(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view service, absl::string_view method);

// durable_dead.<requester>.<responder>.<app>.<service>.<method>
std::string DeadLetterSubject(absl::string_view requester,
                              absl::string_view responder,
                              absl::string_view app, absl::string_view service,
                              absl::string_view method);

// "NATSRPC_DURABLE_bob", holding durable.*.bob.>
std::string DurableStreamName(absl::string_view responder);
std::string DurableStreamSubjects(absl::string_view responder);
// "NATSRPC_DEAD_bob", holding durable_dead.*.bob.>
std::string DeadLetterStreamName(absl::string_view responder);
std::string DeadLetterStreamSubjects(absl::string_view responder);
// The durable consumer of one service: "natsrpc_<len(app)>_<app>_<service>"
// (the length keeps "a_b"+"c" apart from "a"+"b_c"), filtered on
// durable.*.<responder>.<app>.<service>.*
std::string DurableConsumerName(absl::string_view app,
                                absl::string_view service);
std::string DurableConsumerFilter(absl::string_view responder,
                                  absl::string_view app,
                                  absl::string_view service);
// The key-value bucket of results: "natsrpc_results_bob".
std::string ResultBucketName(absl::string_view responder);
// A result's key, and the request's `Nats-Msg-Id`: "<requester>.<id>".
std::string ResultKey(absl::string_view requester,
                      absl::string_view request_id);

// The fields of a durable subject; INVALID_ARGUMENT if it is none.
struct DurableSubjectParts {
  absl::string_view requester, responder, app, service, method;
};
absl::StatusOr<DurableSubjectParts> ParseDurableSubject(
    absl::string_view subject);

// A stored result: the handler's status and, on OK, the reply.
//
//   "<code> <content type length> <message length>\n"
//   <content type><status message><reply payload>
struct DurableResult {
  absl::Status status;
  std::string content_type;
  std::string payload;
};
std::string EncodeDurableResult(const absl::Status& status,
                                absl::string_view content_type,
                                absl::string_view payload);
// INTERNAL naming the fault if `value` is no stored result.
absl::StatusOr<DurableResult> DecodeDurableResult(absl::string_view value);

// "UNAVAILABLE: disk full", the value of kDurableErrorHeader.
std::string DurableErrorText(const absl::Status& status);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_DURABLE_H_
