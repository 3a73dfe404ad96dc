// Copyright 2026 The natsrpc Authors.
//
// Revision 5's lean unary form (docs/protocol.md 3.3): a request whose
// timeout travels in the last token of its reply-to instead of a header, the
// `Natsrpc-Revision` exchange that tells a caller its responder reads that
// form, and which headers each side leaves out.

#ifndef NATSRPC_SRC_WIRE_LEAN_UNARY_H_
#define NATSRPC_SRC_WIRE_LEAN_UNARY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace natsrpc::wire {

// The revision whose peers read the lean form, as sent in `Natsrpc-Revision`
// on a request that asks for it and on the reply that answers it.
inline constexpr int kLeanUnaryRevision = 5;
inline constexpr absl::string_view kLeanUnaryRevisionValue = "5";

// The separator between the seq and the timeout in a lean token.
inline constexpr char kLeanSeparator = '-';

// A lean reply-to: the prefix (ResponsePrefix) followed by
// `<seq>-<timeout>`, `timeout` being EncodeTimeout() of the time the caller
// still waits; written into `buffer` when it fits (no allocation) or into
// `overflow`. Returns a view of the subject.
//
//   LeanResponseSubject("responses.alice.bob.app.Xk3.", 42, "5000000u", ...)
//     -> "responses.alice.bob.app.Xk3.42-5000000u"
absl::string_view LeanResponseSubject(absl::string_view prefix, uint64_t seq,
                                      absl::string_view timeout,
                                      absl::Span<char> buffer,
                                      std::string& overflow);

// The cancel subject of a lean call (CancelSubjectOf() with the lean token,
// as docs/protocol.md 9.8 copies the reply-to's last token):
//
//   LeanCancelSubjectOf("requests.alice.bob.app.Svc.Add", "cid", 3,
//                       "5000000u")
//     -> "requests.alice.bob.app.Svc.Add.cancel.cid.3-5000000u"
std::string LeanCancelSubjectOf(absl::string_view request_subject,
                                absl::string_view client_id, uint64_t seq,
                                absl::string_view timeout);

// The timeout of a lean token, or none if `token` is not lean (1 to 20
// digits, '-', a valid `Natsrpc-Timeout` value): then it is an ordinary seq
// token with its revision-4 meaning.
//
//   LeanTimeout("42-5000000u") -> absl::Seconds(5)
//   LeanTimeout("42")          -> none
//   LeanTimeout("42-5x")       -> none
//   LeanTimeout("a-5S")        -> none
std::optional<absl::Duration> LeanTimeout(absl::string_view token);

// True if `token` is lean (LeanTimeout() would return a value), without
// computing the timeout.
bool IsLeanToken(absl::string_view token);
// True if the last token of `reply` is lean.
//
//   IsLeanReplyTo("responses.a.b.app.Xk3.42-250m") -> true
bool IsLeanReplyTo(absl::string_view reply);

// The lean timeout of a reply-to subject's last token (LeanTimeout).
//
//   LeanTimeoutOfReplyTo("responses.a.b.app.Xk3.42-250m") -> 250 ms
//   LeanTimeoutOfReplyTo("responses.a.b.app.Xk3.42")      -> none
std::optional<absl::Duration> LeanTimeoutOfReplyTo(absl::string_view reply);

// The seq of a reply subject's last token, ordinary (`42`) or lean
// (`42-5000000u`): what a caller routes a reply by.
//
//   ParseReplySeq("42", seq)          -> true, seq == 42
//   ParseReplySeq("42-5000000u", seq) -> true, seq == 42
//   ParseReplySeq("42-x", seq)        -> false
bool ParseReplySeq(absl::string_view token, uint64_t& seq);

// True if a `Natsrpc-Revision` value names revision 5 or later (a decimal
// number; anything else, and an absent header, is not).
//
//   ReadsLeanUnary("5") -> true;  ReadsLeanUnary("4"), ReadsLeanUnary("x"),
//   ReadsLeanUnary(std::nullopt) -> false
bool ReadsLeanUnary(std::optional<absl::string_view> revision);

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_LEAN_UNARY_H_
