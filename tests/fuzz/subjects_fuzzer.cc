// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the subject parsers of runtime/src/wire/subjects.h
// (docs/protocol.md sections 1, 2, 5, 9.2 and 9.8): request, reply-to,
// stream and cancel subjects, seq tokens and subject tokens. The input's
// first line is the subject, the rest the reply-to. Checks: whatever a
// parser accepts is made of valid tokens and is rebuilt, by the matching
// builder, into exactly the subject it came from.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "wire/subjects.h"

namespace {

namespace wire = natsrpc::wire;

[[noreturn]] void Fail(const char* what, absl::string_view subject) {
  std::fprintf(stderr, "subjects_fuzzer: %s: \"%s\"\n", what,
               absl::CEscape(subject).c_str());
  std::abort();
}

void Check(bool ok, const char* what, absl::string_view subject) {
  if (!ok) Fail(what, subject);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const absl::string_view subject = input.substr(0, eol);
  const absl::string_view reply = eol == absl::string_view::npos
                                      ? absl::string_view()
                                      : input.substr(eol + 1);

  // Tokens.
  for (absl::string_view token : absl::StrSplit(subject, '.')) {
    const absl::Status v = wire::ValidateToken("token", token);
    Check(v.ok() == wire::IsValidToken(token),
          "ValidateToken and IsValidToken disagree", token);
    uint64_t seq = 0;
    if (wire::ParseSeq(token, seq)) {
      Check(absl::StrCat(seq) == token || token.front() == '0',
            "ParseSeq accepted a token that is not its decimal", token);
    }
  }

  // Requests and their reply-to.
  absl::StatusOr<wire::RequestSubjectParts> request =
      wire::ParseRequestSubject(subject);
  // Every instance (docs/protocol.md 13): a parsed `.all` subject rebuilds
  // from its parts, and only 7-token subjects ending in `all` parse.
  const absl::StatusOr<wire::RequestSubjectParts> all =
      wire::ParseAllRequestSubject(subject);
  Check(!all.ok() || wire::IsAllRequestSubject(subject),
        "parsed an every-instance subject that IsAllRequestSubject refuses",
        subject);
  if (all.ok()) {
    Check(wire::AllRequestSubjectOf(wire::RequestSubject(
              all->requester, all->responder, all->app, all->service,
              all->method)) == subject,
          "every-instance subject does not rebuild", subject);
    Check(!request.ok(), "a subject parsed as both 6 and 7 tokens", subject);
  }
  if (request.ok()) {
    Check(wire::IsValidToken(request->requester) &&
              wire::IsValidToken(request->responder) &&
              wire::IsValidToken(request->app) &&
              wire::IsValidToken(request->service) &&
              !request->method.empty(),
          "request subject parsed into an invalid token", subject);
    // The method token is only non-empty: one outside the token rule is
    // parsed so that the server answers it UNIMPLEMENTED (docs/protocol.md
    // section 4), never dropped.
    Check(wire::RequestSubject(request->requester, request->responder,
                               request->app, request->service,
                               request->method) == subject,
          "request subject does not rebuild", subject);
    const absl::Status r = wire::CheckReplySubject(reply, *request);
    const std::string prefix =
        absl::StrCat("responses.", request->requester, ".", request->responder,
                     ".", request->app, ".");
    if (r.ok()) {
      Check(absl::StartsWith(reply, prefix),
            "accepted a reply-to of another requester", reply);
    }
    // The cancel subject of a call made on it, and back.
    uint64_t seq = 0;
    const std::vector<absl::string_view> rt = absl::StrSplit(reply, '.');
    // (Only for a method token within the token rule: the others are
    // refused UNIMPLEMENTED and never run, so they have no cancel subject.)
    if (r.ok() && rt.size() == 6 && wire::ParseSeq(rt[5], seq) &&
        wire::IsValidToken(request->method)) {
      const std::string cancel = wire::CancelSubjectOf(subject, rt[4], seq);
      absl::StatusOr<std::string> target = wire::CancelTargetReplyTo(cancel);
      Check(target.ok(), "a call's cancel subject does not parse", cancel);
      Check(*target == absl::StrCat(prefix, rt[4], ".", seq),
            "a call's cancel subject names another reply-to", cancel);
    }
  } else {
    Check(!request.status().message().empty(), "error without a message",
          subject);
  }

  // Streams.
  absl::StatusOr<wire::StreamSubjectParts> stream =
      wire::ParseStreamSubject(subject);
  if (stream.ok()) {
    Check(stream->instance_id != wire::kCancelToken,
          "stream subject with instance \"cancel\"", subject);
    Check(
        wire::StreamSubject(stream->requester, stream->responder, stream->app,
                            stream->service, stream->method,
                            stream->instance_id, stream->stream_id) == subject,
        "stream subject does not rebuild", subject);
  }

  // Cancels.
  absl::StatusOr<std::string> target = wire::CancelTargetReplyTo(subject);
  if (target.ok()) {
    Check(!stream.ok(), "a subject is both a stream and a cancel subject",
          subject);
    const std::vector<absl::string_view> t = absl::StrSplit(subject, '.');
    Check(t.size() == 9, "cancel subject of other than 9 tokens", subject);
    Check(wire::CancelSubject(t[1], t[2], t[3], t[4], t[5], t[7], t[8]) ==
              subject,
          "cancel subject does not rebuild", subject);
    Check(*target == absl::StrCat("responses.", t[1], ".", t[2], ".", t[3], ".",
                                  t[7], ".", t[8]),
          "cancel names another call's reply-to", subject);
  }
  return 0;
}
