// Copyright 2026 The natsrpc Authors.

#include "wire/lean_unary.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "wire/headers.h"
#include "wire/subjects.h"

namespace natsrpc::wire {

absl::string_view LeanResponseSubject(absl::string_view prefix, uint64_t seq,
                                      absl::string_view encoded,
                                      absl::Span<char> buffer,
                                      std::string& overflow) {
  const absl::string_view plain =
      ResponseSubject(prefix, seq, buffer, overflow);
  const size_t size = plain.size() + 1 + encoded.size();
  if (plain.data() == buffer.data() && size <= buffer.size()) {
    char* out = buffer.data() + plain.size();
    *out++ = kLeanSeparator;
    std::copy(encoded.begin(), encoded.end(), out);
    return absl::string_view(buffer.data(), size);
  }
  if (plain.data() != overflow.data()) {
    overflow.assign(plain.data(), plain.size());
  }
  overflow.push_back(kLeanSeparator);
  overflow.append(encoded.data(), encoded.size());
  return overflow;
}

std::string LeanCancelSubjectOf(absl::string_view request_subject,
                                absl::string_view client_id, uint64_t seq,
                                absl::string_view timeout) {
  return absl::StrCat(CancelSubjectOf(request_subject, client_id, seq),
                      absl::string_view(&kLeanSeparator, 1), timeout);
}

namespace {

// Splits a lean token at its separator; false if it has none or the seq part
// is not 1 to 20 digits.
bool SplitLean(absl::string_view token, absl::string_view& seq,
               absl::string_view& timeout) {
  const size_t sep = token.find(kLeanSeparator);
  if (sep == absl::string_view::npos || sep == 0 || sep > 20) return false;
  seq = token.substr(0, sep);
  timeout = token.substr(sep + 1);
  return std::all_of(seq.begin(), seq.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// What DecodeTimeout() accepts, without computing it: 1 to 8 digits and a
// unit (this runs on every reply a client receives).
bool IsTimeoutValue(absl::string_view value) {
  if (value.size() < 2 || value.size() > 9) return false;
  for (size_t i = 0; i + 1 < value.size(); ++i) {
    if (value[i] < '0' || value[i] > '9') return false;
  }
  switch (value.back()) {
    case 'H':
    case 'M':
    case 'S':
    case 'm':
    case 'u':
    case 'n':
      return true;
    default:
      return false;
  }
}

// The last token of a subject.
absl::string_view LastToken(absl::string_view subject) {
  const size_t dot = subject.rfind('.');
  return dot == absl::string_view::npos ? absl::string_view()
                                        : subject.substr(dot + 1);
}

}  // namespace

bool IsLeanToken(absl::string_view token) {
  absl::string_view seq, timeout;
  return SplitLean(token, seq, timeout) && IsTimeoutValue(timeout);
}

bool IsLeanReplyTo(absl::string_view reply) {
  return IsLeanToken(LastToken(reply));
}

std::optional<absl::Duration> LeanTimeout(absl::string_view token) {
  absl::string_view seq, timeout;
  if (!SplitLean(token, seq, timeout) || !IsTimeoutValue(timeout)) {
    return std::nullopt;
  }
  absl::StatusOr<absl::Duration> t = DecodeTimeout(timeout);
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::optional<absl::Duration> LeanTimeoutOfReplyTo(absl::string_view reply) {
  return LeanTimeout(LastToken(reply));
}

bool ParseReplySeq(absl::string_view token, uint64_t& seq) {
  if (ParseSeq(token, seq)) return true;
  if (!IsLeanToken(token)) return false;
  return ParseSeq(token.substr(0, token.find(kLeanSeparator)), seq);
}

bool ReadsLeanUnary(std::optional<absl::string_view> revision) {
  if (!revision.has_value() || revision->empty() || revision->size() > 9) {
    return false;
  }
  int value = 0;
  if (!std::all_of(revision->begin(), revision->end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(*revision, &value)) {
    return false;
  }
  return value >= kLeanUnaryRevision;
}

}  // namespace natsrpc::wire
