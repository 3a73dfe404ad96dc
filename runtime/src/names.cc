// Copyright 2026 The natsrpc Authors.

#include "natsrpc/names.h"

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

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

absl::StatusOr<RequestSubjectParts> ParseRequestSubject(
    absl::string_view subject) {
  std::vector<absl::string_view> tokens = absl::StrSplit(subject, '.');
  if (tokens.size() != 6 || tokens[0] != "requests") {
    return absl::InvalidArgumentError(absl::StrCat(
        "subject \"", absl::CEscape(subject),
        "\" is not requests.<requester>.<responder>.<app>.<service>.<method>"));
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (!IsValidToken(tokens[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("subject \"", absl::CEscape(subject), "\" has token ",
                       i, " that is not of the form [A-Za-z0-9_-]+"));
    }
  }
  return RequestSubjectParts{tokens[1], tokens[2], tokens[3], tokens[4],
                             tokens[5]};
}

absl::Status CheckReplySubject(absl::string_view reply,
                               const RequestSubjectParts& request) {
  if (reply.empty()) {
    return absl::InvalidArgumentError("request has no reply-to");
  }
  std::vector<absl::string_view> tokens = absl::StrSplit(reply, '.');
  if (tokens.size() != 6 || tokens[0] != "responses") {
    return absl::InvalidArgumentError(absl::StrCat(
        "reply-to \"", absl::CEscape(reply),
        "\" is not responses.<requester>.<responder>.<app>.<client id>.<seq>"));
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (!IsValidToken(tokens[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("reply-to \"", absl::CEscape(reply), "\" has token ", i,
                       " that is not of the form [A-Za-z0-9_-]+"));
    }
  }
  if (tokens[1] != request.requester || tokens[2] != request.responder ||
      tokens[3] != request.app) {
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
