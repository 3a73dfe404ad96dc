// Copyright 2026 The natsrpc Authors.
//
// Names and subjects of protocol v1 (docs/protocol.md, sections 1, 2, 9.2 and
// 9.8). Every subject natsrpc publishes or subscribes to is built here, from
// names that were validated here, so a malformed subject can never reach NATS.

#ifndef NATSRPC_SRC_WIRE_SUBJECTS_H_
#define NATSRPC_SRC_WIRE_SUBJECTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "wire/app.h"

namespace natsrpc::wire {

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
// INVALID_ARGUMENT if the subject has another shape. The method token need
// only be non-empty: one outside the token rule names no method, which a
// server answers UNIMPLEMENTED (docs/protocol.md section 4).
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

// A reply-to subject: the prefix (ResponsePrefix) followed by the call's
// seq in decimal, written into `buffer` when it fits (no allocation) or into
// `overflow`. Returns a view of the subject.
//
//   ResponseSubject("responses.alice.bob.app.Xk3.", 42, ...)
//     -> "responses.alice.bob.app.Xk3.42"
absl::string_view ResponseSubject(absl::string_view prefix, uint64_t seq,
                                  absl::Span<char> buffer,
                                  std::string& overflow);

// ---- Streams and cancellation (docs/protocol.md 9.2, 9.8) ----

// The token that marks a cancel subject.
inline constexpr absl::string_view kCancelToken = "cancel";

// The subject of one stream at the instance that accepted it:
//
//   StreamSubject("alice", "bob", "app", "Svc", "Chat", "I1", "7")
//     -> "requests.alice.bob.app.Svc.Chat.I1.7"
std::string StreamSubject(absl::string_view requester,
                          absl::string_view responder, absl::string_view app,
                          absl::string_view service, absl::string_view method,
                          absl::string_view instance_id,
                          absl::string_view stream_id);

// What a server instance subscribes to (no queue group) for its streams:
//
//   StreamWildcard("bob", "app", "I1") -> "requests.*.bob.app.*.*.I1.*"
std::string StreamWildcard(absl::string_view responder, absl::string_view app,
                           absl::string_view instance_id);

// Where a caller cancels call or stream <client id>.<seq> of a method:
//
//   CancelSubject("alice", "bob", "app", "Svc", "Add", "cid", "3")
//     -> "requests.alice.bob.app.Svc.Add.cancel.cid.3"
std::string CancelSubject(absl::string_view requester,
                          absl::string_view responder, absl::string_view app,
                          absl::string_view service, absl::string_view method,
                          absl::string_view client_id, absl::string_view seq);

// The cancel subject of a call, from its request subject; the instance
// token of a call addressed to one instance is left out (every instance
// subscribes to the cancels, CancelWildcard):
//
//   CancelSubjectOf("requests.alice.bob.app.Svc.Add", "cid", 3)
//     -> "requests.alice.bob.app.Svc.Add.cancel.cid.3"
//   CancelSubjectOf("requests.alice.bob.app.Svc.Add.I1", "cid", 3)
//     -> "requests.alice.bob.app.Svc.Add.cancel.cid.3"
std::string CancelSubjectOf(absl::string_view request_subject,
                            absl::string_view client_id, uint64_t seq);

// What every server instance subscribes to (no queue group) per service:
//
//   CancelWildcard("bob", "app", "Svc") ->
//   "requests.*.bob.app.Svc.*.cancel.*.*"
std::string CancelWildcard(absl::string_view responder, absl::string_view app,
                           absl::string_view service);

// The tokens of an 8-token stream subject.
struct StreamSubjectParts {
  std::string requester, responder, app, service, method, instance_id,
      stream_id;
};

// INVALID_ARGUMENT unless `subject` is `requests.` + 7 valid tokens and the
// instance token is not `cancel`.
absl::StatusOr<StreamSubjectParts> ParseStreamSubject(
    absl::string_view subject);

// The reply-to of the call a cancel subject names (the subject the call's
// replies go to), so that a server finds the call it cancels:
//
//   CancelTargetReplyTo("requests.alice.bob.app.Svc.Add.cancel.cid.3")
//     -> "responses.alice.bob.app.cid.3"
absl::StatusOr<std::string> CancelTargetReplyTo(absl::string_view subject);

// ---- Instance targeting (docs/protocol.md 2.1, revision 5) ----

// The subject of a call (or stream open) addressed to one server instance:
// the method subject with the instance id as a 7th token. Without an
// instance, the method subject (RequestSubject).
//
//   InstanceRequestSubject("alice", "bob", "app", "Svc", "Add", "I1")
//     -> "requests.alice.bob.app.Svc.Add.I1"
//   InstanceRequestSubject("alice", "bob", "app", "Svc", "Add", "")
//     -> "requests.alice.bob.app.Svc.Add"
std::string InstanceRequestSubject(absl::string_view requester,
                                   absl::string_view responder,
                                   absl::string_view app,
                                   absl::string_view service,
                                   absl::string_view method,
                                   absl::string_view instance_id);

// What a server instance subscribes to (no queue group) per service for
// the calls addressed to it:
//
//   InstanceWildcard("bob", "app", "Svc", "I1") ->
//   "requests.*.bob.app.Svc.*.I1"
std::string InstanceWildcard(absl::string_view responder, absl::string_view app,
                             absl::string_view service,
                             absl::string_view instance_id);

// Splits "requests.<requester>.<responder>.<app>.<service>.<method>.<id>"
// into the parts of the method subject (as ParseRequestSubject) and the
// instance id. INVALID_ARGUMENT if the subject has another shape or the id
// is not a token.
//
//   ParseInstanceRequestSubject("requests.a.b.app.Svc.Add.I1", id)
//     -> {a, b, app, Svc, Add}, id == "I1"
absl::StatusOr<RequestSubjectParts> ParseInstanceRequestSubject(
    absl::string_view subject, absl::string_view& instance_id);

// ---- Every instance: events and scatter-gather (docs/protocol.md 13) ----
//
// Revision 5 adds a 7th token to a request subject: `all` reaches every
// instance of the responder (each server instance subscribes to it without a
// queue group). Revision-4 servers do not subscribe to 7-token subjects, so
// such a request finds no responders.

// The token that addresses every instance.
inline constexpr absl::string_view kAllToken = "all";

// The every-instance subject of a method, from its request subject:
//
//   AllRequestSubjectOf("requests.alice.bob.app.Svc.Add")
//     -> "requests.alice.bob.app.Svc.Add.all"
std::string AllRequestSubjectOf(absl::string_view request_subject);

// What every server instance subscribes to (no queue group) per service:
//
//   AllWildcard("bob", "app", "Svc") -> "requests.*.bob.app.Svc.*.all"
std::string AllWildcard(absl::string_view responder, absl::string_view app,
                        absl::string_view service);

// True if `subject` has the shape requests.<5 tokens>.all (7 tokens, the
// last `all`); cheap, for every reply a server sends.
//
//   IsAllRequestSubject("requests.a.b.app.Svc.Add.all") -> true
//   IsAllRequestSubject("requests.a.b.app.Svc.all")     -> false (6 tokens)
bool IsAllRequestSubject(absl::string_view subject);

// Splits "requests.<requester>.<responder>.<app>.<service>.<method>.all"
// into the parts of the request subject it addresses. INVALID_ARGUMENT if
// the subject has another shape; the method token need only be non-empty,
// as in ParseRequestSubject().
absl::StatusOr<RequestSubjectParts> ParseAllRequestSubject(
    absl::string_view subject);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_SUBJECTS_H_
