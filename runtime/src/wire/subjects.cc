// Copyright 2026 The natsrpc Authors.

#include "wire/subjects.h"

#include <algorithm>
#include <array>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "natsrpc/status_macros.h"

namespace natsrpc::wire {
namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

std::string Printable(char c) {
  if (absl::ascii_isprint(static_cast<unsigned char>(c))) {
    return absl::StrCat("'", std::string(1, c), "'");
  }
  return absl::StrCat(
      "0x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
}

}  // namespace

bool IsValidToken(absl::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

absl::Status ValidateToken(absl::string_view field, absl::string_view value) {
  if (value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     " is empty; it must be a NATS subject token "
                     "of the form [A-Za-z0-9_-]+"));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!IsTokenChar(value[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " \"", absl::CEscape(value),
          "\" is not a valid subject token: character ", Printable(value[i]),
          " at offset ", i, " is not one of [A-Za-z0-9_-]"));
    }
  }
  return absl::OkStatus();
}

std::string RequestSubject(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view service,
                           absl::string_view method) {
  return absl::StrCat("requests.", requester, ".", responder, ".", app, ".",
                      service, ".", method);
}

std::string ResponseWildcard(absl::string_view requester,
                             absl::string_view client_id) {
  return absl::StrCat("responses.", requester, ".*.*.", client_id, ".*");
}

std::string ResponsePrefix(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view client_id) {
  return absl::StrCat("responses.", requester, ".", responder, ".", app, ".",
                      client_id, ".");
}

std::string ServiceWildcard(absl::string_view responder, absl::string_view app,
                            absl::string_view service) {
  return absl::StrCat("requests.*.", responder, ".", app, ".", service, ".*");
}

std::string DefaultQueueGroup(absl::string_view responder,
                              absl::string_view app) {
  return absl::StrCat("natsrpc.", responder, ".", app);
}

std::string NewClientId() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(),
                     device(), device(), device(), device()};
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int> pick(0, 61);
  std::string id(22, '0');
  for (char& c : id) c = kAlphabet[pick(gen)];
  return id;
}

namespace {

using SixTokens = std::array<absl::string_view, 6>;

// Splits `subject` into exactly six valid tokens, the first being `first`,
// without allocating (this runs for every request a server receives).
// `what` and `shape` name the subject in errors.
// `any_last`: the last token need only be non-empty.
absl::Status SplitSixTokens(absl::string_view what, absl::string_view subject,
                            absl::string_view first, absl::string_view shape,
                            SixTokens& tokens, bool any_last = false) {
  size_t n = 0;
  for (absl::string_view rest = subject;;) {
    const size_t dot = rest.find('.');
    if (n == tokens.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " \"", absl::CEscape(subject), "\" is not ", shape));
    }
    tokens[n++] = rest.substr(0, dot);
    if (dot == absl::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (n != tokens.size() || tokens[0] != first) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", absl::CEscape(subject), "\" is not ", shape));
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (any_last && i + 1 == tokens.size() ? tokens[i].empty()
                                           : !IsValidToken(tokens[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " \"", absl::CEscape(subject), "\" has token ", i,
                       " that is not of the form [A-Za-z0-9_-]+"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RequestSubjectParts> ParseRequestSubject(
    absl::string_view subject) {
  SixTokens t;
  NATSRPC_RETURN_IF_ERROR(SplitSixTokens(
      "subject", subject, "requests",
      "requests.<requester>.<responder>.<app>.<service>.<method>", t,
      /*any_last=*/true));
  return RequestSubjectParts{t[1], t[2], t[3], t[4], t[5]};
}

absl::Status CheckReplySubject(absl::string_view reply,
                               const RequestSubjectParts& request) {
  if (reply.empty()) {
    return absl::InvalidArgumentError("request has no reply-to");
  }
  SixTokens t;
  NATSRPC_RETURN_IF_ERROR(SplitSixTokens(
      "reply-to", reply, "responses",
      "responses.<requester>.<responder>.<app>.<client id>.<seq>", t));
  if (t[1] != request.requester || t[2] != request.responder ||
      t[3] != request.app) {
    return absl::PermissionDeniedError(
        absl::StrCat("reply-to \"", reply, "\" does not belong to requester \"",
                     request.requester, "\", responder \"", request.responder,
                     "\" and app \"", request.app, "\""));
  }
  return absl::OkStatus();
}

bool ParseSeq(absl::string_view token, uint64_t& seq) {
  if (token.empty() || token.size() > 20) return false;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(token, &seq);
}

absl::string_view ResponseSubject(absl::string_view prefix, uint64_t seq,
                                  absl::Span<char> buffer,
                                  std::string& overflow) {
  // Decimal digits of seq, last digit first: this runs for every call.
  char reversed[20];
  size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + seq % 10);
    seq /= 10;
  } while (seq != 0);
  char* out = buffer.data();
  if (prefix.size() + n > buffer.size()) {
    overflow.assign(prefix.data(), prefix.size());
    overflow.resize(prefix.size() + n);
    out = overflow.data();
  } else {
    std::copy(prefix.begin(), prefix.end(), out);
  }
  for (size_t i = 0; i < n; ++i) out[prefix.size() + i] = reversed[n - 1 - i];
  return absl::string_view(out, prefix.size() + n);
}

std::string StreamSubject(absl::string_view requester,
                          absl::string_view responder, absl::string_view app,
                          absl::string_view service, absl::string_view method,
                          absl::string_view instance_id,
                          absl::string_view stream_id) {
  return absl::StrCat("requests.", requester, ".", responder, ".", app, ".",
                      service, ".", method, ".", instance_id, ".", stream_id);
}

std::string StreamWildcard(absl::string_view responder, absl::string_view app,
                           absl::string_view instance_id) {
  return absl::StrCat("requests.*.", responder, ".", app, ".*.*.", instance_id,
                      ".*");
}

std::string CancelSubject(absl::string_view requester,
                          absl::string_view responder, absl::string_view app,
                          absl::string_view service, absl::string_view method,
                          absl::string_view client_id, absl::string_view seq) {
  return absl::StrCat("requests.", requester, ".", responder, ".", app, ".",
                      service, ".", method, ".", kCancelToken, ".", client_id,
                      ".", seq);
}

std::string CancelWildcard(absl::string_view responder, absl::string_view app,
                           absl::string_view service) {
  return absl::StrCat("requests.*.", responder, ".", app, ".", service, ".*.",
                      kCancelToken, ".*.*");
}

absl::StatusOr<StreamSubjectParts> ParseStreamSubject(
    absl::string_view subject) {
  std::vector<absl::string_view> t = absl::StrSplit(subject, '.');
  if (t.size() != 8 || t[0] != "requests") {
    return absl::InvalidArgumentError(
        absl::StrCat("not a stream subject: \"", subject, "\""));
  }
  for (size_t i = 1; i < t.size(); ++i) {
    if (!IsValidToken(t[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad token in stream subject: \"", subject, "\""));
    }
  }
  if (t[6] == kCancelToken) {
    return absl::InvalidArgumentError(
        absl::StrCat("instance id may not be \"cancel\": \"", subject, "\""));
  }
  return StreamSubjectParts{std::string(t[1]), std::string(t[2]),
                            std::string(t[3]), std::string(t[4]),
                            std::string(t[5]), std::string(t[6]),
                            std::string(t[7])};
}

std::string CancelSubjectOf(absl::string_view request_subject,
                            absl::string_view client_id, uint64_t seq) {
  // The first six tokens: the method subject without an instance token.
  size_t sixth_dot = absl::string_view::npos;
  for (size_t i = 0, from = 0; i < 6; ++i) {
    sixth_dot = request_subject.find('.', from);
    if (sixth_dot == absl::string_view::npos) break;
    from = sixth_dot + 1;
  }
  if (sixth_dot != absl::string_view::npos) {
    request_subject = request_subject.substr(0, sixth_dot);
  }
  return absl::StrCat(request_subject, ".", kCancelToken, ".", client_id, ".",
                      seq);
}

absl::StatusOr<std::string> CancelTargetReplyTo(absl::string_view subject) {
  std::vector<absl::string_view> t = absl::StrSplit(subject, '.');
  if (t.size() != 9 || t[0] != "requests" || t[6] != kCancelToken) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a cancel subject: \"", subject, "\""));
  }
  for (size_t i = 1; i < t.size(); ++i) {
    if (!IsValidToken(t[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad token in cancel subject: \"", subject, "\""));
    }
  }
  return absl::StrCat("responses.", t[1], ".", t[2], ".", t[3], ".", t[7], ".",
                      t[8]);
}

std::string InstanceRequestSubject(absl::string_view requester,
                                   absl::string_view responder,
                                   absl::string_view app,
                                   absl::string_view service,
                                   absl::string_view method,
                                   absl::string_view instance_id) {
  if (instance_id.empty()) {
    return RequestSubject(requester, responder, app, service, method);
  }
  return absl::StrCat("requests.", requester, ".", responder, ".", app, ".",
                      service, ".", method, ".", instance_id);
}

std::string InstanceWildcard(absl::string_view responder, absl::string_view app,
                             absl::string_view service,
                             absl::string_view instance_id) {
  return absl::StrCat("requests.*.", responder, ".", app, ".", service, ".*.",
                      instance_id);
}

absl::StatusOr<RequestSubjectParts> ParseInstanceRequestSubject(
    absl::string_view subject, absl::string_view& instance_id) {
  const size_t dot = subject.rfind('.');
  if (dot == absl::string_view::npos ||
      !IsValidToken(subject.substr(dot + 1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subject \"", absl::CEscape(subject),
        "\" is not requests.<requester>.<responder>.<app>.<service>.<method>."
        "<instance id>"));
  }
  absl::StatusOr<RequestSubjectParts> parts =
      ParseRequestSubject(subject.substr(0, dot));
  if (!parts.ok()) return parts.status();
  instance_id = subject.substr(dot + 1);
  return parts;
}

// ---- Every instance (docs/protocol.md 13) ----

std::string AllRequestSubjectOf(absl::string_view request_subject) {
  return absl::StrCat(request_subject, ".", kAllToken);
}

std::string AllWildcard(absl::string_view responder, absl::string_view app,
                        absl::string_view service) {
  return absl::StrCat("requests.*.", responder, ".", app, ".", service, ".*.",
                      kAllToken);
}

bool IsAllRequestSubject(absl::string_view subject) {
  // Allocation-free: this runs for every reply a server sends.
  if (subject.size() <= kAllToken.size() ||
      subject[subject.size() - kAllToken.size() - 1] != '.' ||
      !absl::EndsWith(subject, kAllToken)) {
    return false;
  }
  return std::count(subject.begin(), subject.end(), '.') == 6 &&
         absl::StartsWith(subject, "requests.");
}

absl::StatusOr<RequestSubjectParts> ParseAllRequestSubject(
    absl::string_view subject) {
  if (!IsAllRequestSubject(subject)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subject \"", absl::CEscape(subject),
        "\" is not requests.<requester>.<responder>.<app>.<service>.<method>."
        "all"));
  }
  subject.remove_suffix(kAllToken.size() + 1);
  return ParseRequestSubject(subject);
}

}  // namespace natsrpc::wire
