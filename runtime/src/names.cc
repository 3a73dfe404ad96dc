// Copyright 2026 The natsrpc Authors.

#include "natsrpc/names.h"

#include <array>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "natsrpc/status_macros.h"

namespace natsrpc {
namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

std::string Printable(char c) {
  if (absl::ascii_isprint(static_cast<unsigned char>(c))) {
    return absl::StrCat("'", std::string(1, c), "'");
  }
  return absl::StrCat("0x", absl::Hex(static_cast<unsigned char>(c),
                                      absl::kZeroPad2));
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
        absl::StrCat(field, " is empty; it must be a NATS subject token "
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

std::string DefaultApp(absl::string_view package) {
  if (package.empty()) return "default";
  return absl::StrReplaceAll(package, {{".", "_"}});
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
absl::Status SplitSixTokens(absl::string_view what, absl::string_view subject,
                            absl::string_view first, absl::string_view shape,
                            SixTokens& tokens) {
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
    return absl::InvalidArgumentError(absl::StrCat(
        what, " \"", absl::CEscape(subject), "\" is not ", shape));
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (!IsValidToken(tokens[i])) {
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
      "requests.<requester>.<responder>.<app>.<service>.<method>", t));
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
    return absl::PermissionDeniedError(absl::StrCat(
        "reply-to \"", reply, "\" does not belong to requester \"",
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

}  // namespace natsrpc
