// Copyright 2026 The natsrpc Authors.
//
// Names and subjects of protocol v1 (docs/protocol.md, sections 1 and 2).
// Every subject natsrpc publishes or subscribes to is built here, from names
// that were validated here, so a malformed subject can never reach NATS.

#ifndef NATSRPC_NAMES_H_
#define NATSRPC_NAMES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace natsrpc {

// True if `token` is one NATS subject token of the form `[A-Za-z0-9_-]+`.
//
//   IsValidToken("alice")     -> true
//   IsValidToken("a.b")       -> false  (two tokens)
//   IsValidToken("")          -> false
bool IsValidToken(absl::string_view token);

// OK if `value` is a valid token, else INVALID_ARGUMENT naming `field`, the
// value and the first bad character.
//
//   ValidateToken("requester", "al ice")
//     -> INVALID_ARGUMENT: requester "al ice" is not a valid subject token:
//        character ' ' at offset 2 is not one of [A-Za-z0-9_-]
absl::Status ValidateToken(absl::string_view field, absl::string_view value);

// The default app of an IDL package: dots become underscores, and an empty
// package gives "default".
//
//   DefaultApp("example.v1") -> "example_v1"
//   DefaultApp("")           -> "default"
std::string DefaultApp(absl::string_view package);

// requests.<requester>.<responder>.<app>.<service>.<method>
//
//   RequestSubject("alice", "bob", "example_v1", "Calculator", "Add")
//     -> "requests.alice.bob.example_v1.Calculator.Add"
std::string RequestSubject(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view service, absl::string_view method);

// The wildcard a client instance subscribes to for all its replies:
//
//   ResponseWildcard("alice", "Xk3...") -> "responses.alice.*.*.Xk3....*"
std::string ResponseWildcard(absl::string_view requester,
                             absl::string_view client_id);

// The prefix of a reply-to subject; the call's seq is appended per call.
//
//   ResponsePrefix("alice", "bob", "example_v1", "Xk3")
//     -> "responses.alice.bob.example_v1.Xk3."
std::string ResponsePrefix(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view client_id);

// The subject a server instance subscribes to for one service:
//
//   ServiceWildcard("bob", "example_v1", "Calculator")
//     -> "requests.*.bob.example_v1.Calculator.*"
std::string ServiceWildcard(absl::string_view responder, absl::string_view app,
                            absl::string_view service);

// The queue group all instances of one responder share for one app:
//
//   DefaultQueueGroup("bob", "example_v1") -> "natsrpc.bob.example_v1"
std::string DefaultQueueGroup(absl::string_view responder,
                              absl::string_view app);

// A new random client id: 22 base62 characters (about 131 bits), like a NUID.
std::string NewClientId();

// The tokens of a request subject, as parsed by ParseRequestSubject().
struct RequestSubjectParts {
  absl::string_view requester;
  absl::string_view responder;
  absl::string_view app;
  absl::string_view service;
  absl::string_view method;
};

// Splits "requests.<requester>.<responder>.<app>.<service>.<method>".
// INVALID_ARGUMENT if the subject has another shape.
absl::StatusOr<RequestSubjectParts> ParseRequestSubject(
    absl::string_view subject);

// The reply-to check of protocol section 5: `reply` must be
// responses.<requester>.<responder>.<app>.<client id>.<seq> with the first
// three names equal to those of the request. Returns the reason on mismatch.
absl::Status CheckReplySubject(absl::string_view reply,
                               const RequestSubjectParts& request);

// Parses the <seq> token of a reply subject: a decimal uint64.
//
//   ParseSeq("42", seq) -> true, seq == 42
//   ParseSeq("4x", seq) -> false
bool ParseSeq(absl::string_view token, uint64_t& seq);

}  // namespace natsrpc

#endif  // NATSRPC_NAMES_H_
