// Copyright 2026 The natsrpc Authors.

#include "wire/durable.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "wire/subjects.h"

namespace natsrpc::wire {
namespace {

constexpr absl::string_view kDurablePrefix = "durable";
constexpr absl::string_view kDeadPrefix = "durable_dead";

}  // namespace

std::string DurableSubject(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view service,
                           absl::string_view method) {
  return absl::StrCat(kDurablePrefix, ".", requester, ".", responder, ".", app,
                      ".", service, ".", method);
}

std::string DeadLetterSubject(absl::string_view requester,
                              absl::string_view responder,
                              absl::string_view app, absl::string_view service,
                              absl::string_view method) {
  return absl::StrCat(kDeadPrefix, ".", requester, ".", responder, ".", app,
                      ".", service, ".", method);
}

std::string DurableStreamName(absl::string_view responder) {
  return absl::StrCat("NATSRPC_DURABLE_", responder);
}

std::string DurableStreamSubjects(absl::string_view responder) {
  return absl::StrCat(kDurablePrefix, ".*.", responder, ".>");
}

std::string DeadLetterStreamName(absl::string_view responder) {
  return absl::StrCat("NATSRPC_DEAD_", responder);
}

std::string DeadLetterStreamSubjects(absl::string_view responder) {
  return absl::StrCat(kDeadPrefix, ".*.", responder, ".>");
}

std::string DurableConsumerName(absl::string_view app,
                                absl::string_view service) {
  return absl::StrCat("natsrpc_", app.size(), "_", app, "_", service);
}

std::string DurableConsumerFilter(absl::string_view responder,
                                  absl::string_view app,
                                  absl::string_view service) {
  return absl::StrCat(kDurablePrefix, ".*.", responder, ".", app, ".", service,
                      ".*");
}

std::string ResultBucketName(absl::string_view responder) {
  return absl::StrCat("natsrpc_results_", responder);
}

std::string ResultKey(absl::string_view requester,
                      absl::string_view request_id) {
  return absl::StrCat(requester, ".", request_id);
}

absl::StatusOr<DurableSubjectParts> ParseDurableSubject(
    absl::string_view subject) {
  std::vector<absl::string_view> t = absl::StrSplit(subject, '.');
  if (t.size() != 6 || t[0] != kDurablePrefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", subject, "\" is no durable request subject"));
  }
  for (size_t i = 1; i < t.size(); ++i) {
    if (!IsValidToken(t[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", subject, "\" is no durable request subject: bad token"));
    }
  }
  return DurableSubjectParts{t[1], t[2], t[3], t[4], t[5]};
}

std::string EncodeDurableResult(const absl::Status& status,
                                absl::string_view content_type,
                                absl::string_view payload) {
  return absl::StrCat(static_cast<int>(status.code()), " ", content_type.size(),
                      " ", status.message().size(), "\n", content_type,
                      status.message(), payload);
}

absl::StatusOr<DurableResult> DecodeDurableResult(absl::string_view value) {
  auto bad = [](absl::string_view why) {
    return absl::InternalError(
        absl::StrCat("malformed stored durable result: ", why));
  };
  size_t eol = value.find('\n');
  if (eol == absl::string_view::npos) return bad("no first line");
  std::vector<absl::string_view> f = absl::StrSplit(value.substr(0, eol), ' ');
  int code = 0;
  size_t ct_len = 0, msg_len = 0;
  if (f.size() != 3 || !absl::SimpleAtoi(f[0], &code) ||
      !absl::SimpleAtoi(f[1], &ct_len) || !absl::SimpleAtoi(f[2], &msg_len) ||
      code < 0 || code > 16) {
    return bad("bad first line");
  }
  absl::string_view rest = value.substr(eol + 1);
  if (rest.size() < ct_len || rest.size() - ct_len < msg_len) {
    return bad("shorter than its lengths");
  }
  DurableResult r;
  r.content_type = std::string(rest.substr(0, ct_len));
  r.status = absl::Status(static_cast<absl::StatusCode>(code),
                          rest.substr(ct_len, msg_len));
  r.payload = std::string(rest.substr(ct_len + msg_len));
  return r;
}

std::string DurableErrorText(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                      status.message());
}

}  // namespace natsrpc::wire
