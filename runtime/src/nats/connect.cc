// Copyright 2026 The natsrpc Authors.
//
// ConnectOptions -> natsOptions, one function per concern, then
// StartNatsTransport (nats_transport.cc).

#include <nats/nats.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nats/nats_internals.h"
#include "nats/nats_transport.h"
#include "nats/nkey_seed.h"
#include "natsrpc/status_macros.h"

namespace natsrpc::internal {
namespace {

// nats.c computes a byte limit from the message limit in an int: from this
// many messages on, later subscribes fail (docs/platform.md).
constexpr int kMaxPendingMessagesLimit = 2097152;

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;

// OK, or INVALID_ARGUMENT naming the ConnectOptions field nats.c refused.
absl::Status Check(absl::string_view field, natsStatus s) {
  if (s == NATS_OK) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("ConnectOptions.", field, ": ", NatsText(s)));
}

int64_t Millis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

// Every server URL of `url` (comma-separated) and `servers`.
absl::StatusOr<std::vector<std::string>> ServerUrls(const ConnectOptions& o) {
  std::vector<std::string> urls;
  for (absl::string_view u :
       absl::StrSplit(o.url, ',', absl::SkipWhitespace())) {
    urls.emplace_back(absl::StripAsciiWhitespace(u));
  }
  for (const std::string& u : o.servers) {
    if (!u.empty()) urls.push_back(u);
  }
  if (urls.empty()) {
    return absl::InvalidArgumentError(
        "ConnectOptions.url and ConnectOptions.servers name no server");
  }
  return urls;
}

absl::Status SetServers(natsOptions* opts, const ConnectOptions& o,
                        const std::vector<std::string>& urls) {
  std::vector<const char*> ptrs;
  for (const std::string& u : urls) ptrs.push_back(u.c_str());
  NATSRPC_RETURN_IF_ERROR(
      Check("url", natsOptions_SetServers(opts, ptrs.data(),
                                          static_cast<int>(ptrs.size()))));
  if (!o.name.empty()) {
    NATSRPC_RETURN_IF_ERROR(
        Check("name", natsOptions_SetName(opts, o.name.c_str())));
  }
  return absl::OkStatus();
}

// The contents of the file a ConnectOptions field names, or
// INVALID_ARGUMENT naming the field, the path and the reason.
absl::StatusOr<std::string> ReadOptionFile(absl::string_view field,
                                           const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("ConnectOptions.", field, ": cannot read \"", path,
                     "\": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status SetAuth(natsOptions* opts, const ConnectOptions& o) {
  if (!o.user.empty() || !o.password.empty()) {
    NATSRPC_RETURN_IF_ERROR(Check(
        "user",
        natsOptions_SetUserInfo(opts, o.user.c_str(), o.password.c_str())));
  }
  if (!o.token.empty()) {
    NATSRPC_RETURN_IF_ERROR(
        Check("token", natsOptions_SetToken(opts, o.token.c_str())));
  }
  if (!o.creds_file.empty() && !o.nkey_seed_file.empty()) {
    return absl::InvalidArgumentError(
        "ConnectOptions.creds_file and ConnectOptions.nkey_seed_file exclude "
        "each other (a .creds file holds its own nkey seed)");
  }
  if (!o.creds_file.empty()) {
    // nats.c reads the file only when it connects, and a missing file then
    // looked like an unreachable server: check it here.
    absl::StatusOr<std::string> text =
        ReadOptionFile("creds_file", o.creds_file);
    if (!text.ok()) return text.status();
    const bool has_jwt =
        absl::StrContains(*text, "-----BEGIN NATS USER JWT-----");
    const bool has_seed = NKeyPublicKeyFromSeedText(*text).ok();
    if (!has_jwt || !has_seed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ConnectOptions.creds_file: \"", o.creds_file, "\" holds no ",
          has_jwt ? "user nkey seed"
                  : "user JWT (-----BEGIN NATS USER JWT-----)",
          " (expected a .creds file as nsc writes it)"));
    }
    NATSRPC_RETURN_IF_ERROR(
        Check("creds_file", natsOptions_SetUserCredentialsFromFiles(
                                opts, o.creds_file.c_str(), nullptr)));
  }
  if (!o.nkey_seed_file.empty()) {
    absl::StatusOr<std::string> text =
        ReadOptionFile("nkey_seed_file", o.nkey_seed_file);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::string> public_key = NKeyPublicKeyFromSeedText(*text);
    std::fill(text->begin(), text->end(), '\0');
    if (!public_key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ConnectOptions.nkey_seed_file: \"", o.nkey_seed_file,
                       "\" ", public_key.status().message()));
    }
    NATSRPC_RETURN_IF_ERROR(
        Check("nkey_seed_file",
              natsOptions_SetNKeyFromSeed(opts, public_key->c_str(),
                                          o.nkey_seed_file.c_str())));
  }
  return absl::OkStatus();
}

// Which ConnectOptions fields supplied the credentials the server refused.
std::string CredentialFields(const ConnectOptions& o) {
  std::vector<std::string> fields;
  if (!o.user.empty() || !o.password.empty()) {
    fields.push_back(
        absl::StrCat("ConnectOptions.user/password (user \"", o.user, "\")"));
  }
  if (!o.token.empty()) fields.push_back("ConnectOptions.token");
  if (!o.creds_file.empty()) {
    fields.push_back(
        absl::StrCat("ConnectOptions.creds_file \"", o.creds_file, "\""));
  }
  if (!o.nkey_seed_file.empty()) {
    fields.push_back(absl::StrCat("ConnectOptions.nkey_seed_file \"",
                                  o.nkey_seed_file, "\""));
  }
  if (fields.empty()) {
    return "no credentials were given (ConnectOptions.user/password, token, "
           "creds_file or nkey_seed_file)";
  }
  return absl::StrCat("credentials from ", absl::StrJoin(fields, " and "));
}

// The TLS fields a failed TLS connection used, so that the error names them.
std::string TlsFields(const ConnectOptions& o) {
  auto file = [](const std::string& f) {
    return f.empty() ? std::string("none") : absl::StrCat("\"", f, "\"");
  };
  return absl::StrCat("ConnectOptions.tls_ca_file ",
                      o.tls_ca_file.empty()
                          ? std::string("none (the system's CAs)")
                          : file(o.tls_ca_file),
                      " verifies the server; ConnectOptions.tls_cert_file ",
                      file(o.tls_cert_file), " with tls_key_file ",
                      file(o.tls_key_file), " authenticates this client");
}

// TLS is on if asked for, implied by a file, or by a tls:// URL.
bool TlsOn(const ConnectOptions& o, const std::vector<std::string>& urls) {
  bool tls = o.tls || !o.tls_ca_file.empty() || !o.tls_cert_file.empty();
  for (const std::string& u : urls) tls = tls || absl::StartsWith(u, "tls://");
  return tls;
}

absl::Status SetTls(natsOptions* opts, const ConnectOptions& o,
                    const std::vector<std::string>& urls) {
  if (!TlsOn(o, urls)) return absl::OkStatus();
  NATSRPC_RETURN_IF_ERROR(Check("tls", natsOptions_SetSecure(opts, true)));
  if (!o.tls_ca_file.empty()) {
    NATSRPC_RETURN_IF_ERROR(Check(
        "tls_ca_file",
        natsOptions_LoadCATrustedCertificates(opts, o.tls_ca_file.c_str())));
  }
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    NATSRPC_RETURN_IF_ERROR(
        Check("tls_cert_file",
              natsOptions_LoadCertificatesChain(opts, o.tls_cert_file.c_str(),
                                                o.tls_key_file.c_str())));
  }
  if (!o.tls_hostname.empty()) {
    NATSRPC_RETURN_IF_ERROR(
        Check("tls_hostname",
              natsOptions_SetExpectedHostname(opts, o.tls_hostname.c_str())));
  }
  if (o.tls_skip_verify) {
    NATSRPC_RETURN_IF_ERROR(Check(
        "tls_skip_verify", natsOptions_SkipServerVerification(opts, true)));
  }
  return absl::OkStatus();
}

absl::Status SetReconnection(natsOptions* opts, const ConnectOptions& o) {
  NATSRPC_RETURN_IF_ERROR(
      Check("allow_reconnect",
            natsOptions_SetAllowReconnect(opts, o.allow_reconnect)));
  NATSRPC_RETURN_IF_ERROR(
      Check("max_reconnect_attempts",
            natsOptions_SetMaxReconnect(opts, o.max_reconnect_attempts)));
  NATSRPC_RETURN_IF_ERROR(
      Check("reconnect_wait",
            natsOptions_SetReconnectWait(opts, Millis(o.reconnect_wait))));
  NATSRPC_RETURN_IF_ERROR(
      Check("reconnect_jitter",
            natsOptions_SetReconnectJitter(opts, Millis(o.reconnect_jitter),
                                           Millis(o.reconnect_jitter))));
  NATSRPC_RETURN_IF_ERROR(
      Check("reconnect_buffer_bytes",
            natsOptions_SetReconnectBufSize(opts, o.reconnect_buffer_bytes)));
  if (o.retry_on_failed_connect) {
    NATSRPC_RETURN_IF_ERROR(Check(
        "retry_on_failed_connect",
        natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr)));
  }
  return absl::OkStatus();
}

absl::Status SetTimeouts(natsOptions* opts, const ConnectOptions& o) {
  NATSRPC_RETURN_IF_ERROR(
      Check("connect_timeout",
            natsOptions_SetTimeout(opts, Millis(o.connect_timeout))));
  NATSRPC_RETURN_IF_ERROR(
      Check("ping_interval",
            natsOptions_SetPingInterval(opts, Millis(o.ping_interval))));
  NATSRPC_RETURN_IF_ERROR(Check(
      "max_pings_out", natsOptions_SetMaxPingsOut(opts, o.max_pings_out)));
  return absl::OkStatus();
}

absl::Status SetFlowControl(natsOptions* opts, const ConnectOptions& o) {
  if (o.max_pending_messages <= 0 ||
      o.max_pending_messages >= kMaxPendingMessagesLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ConnectOptions.max_pending_messages ", o.max_pending_messages,
        " must be in [1, ", kMaxPendingMessagesLimit, ")"));
  }
  NATSRPC_RETURN_IF_ERROR(
      Check("max_pending_messages",
            natsOptions_SetMaxPendingMsgs(opts, o.max_pending_messages)));
  // Never wait up to 1 ms for nats.c's flusher thread (docs/platform.md,
  // "The 1 ms trap"): with SendAsap and our event loop attached, a publish
  // appends to nats.c's buffer and asks for write interest once per burst;
  // the loop thread writes the whole burst with one send().
  return Check("send_asap", natsOptions_SetSendAsap(opts, true));
}

}  // namespace

absl::StatusOr<std::shared_ptr<Transport>> ConnectNats(
    const ConnectOptions& o) {
  absl::StatusOr<std::vector<std::string>> urls = ServerUrls(o);
  if (!urls.ok()) return urls.status();
  if (natsStatus s = nats_Open(-1); s != NATS_OK) {
    return absl::InternalError(absl::StrCat("nats_Open: ", NatsText(s)));
  }
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return absl::ResourceExhaustedError(
        absl::StrCat("natsOptions_Create: ", NatsText(s)));
  }
  OptionsPtr opts(raw);
  NATSRPC_RETURN_IF_ERROR(SetFlowControl(opts.get(), o));
  NATSRPC_RETURN_IF_ERROR(SetServers(opts.get(), o, *urls));
  NATSRPC_RETURN_IF_ERROR(SetAuth(opts.get(), o));
  NATSRPC_RETURN_IF_ERROR(SetTls(opts.get(), o, *urls));
  NATSRPC_RETURN_IF_ERROR(SetReconnection(opts.get(), o));
  NATSRPC_RETURN_IF_ERROR(SetTimeouts(opts.get(), o));
  // The fast path's self-test runs once per process, before the first
  // message needs it.
  if (o.tuning.nats_internals) nats_internals::Available();
  absl::StatusOr<std::shared_ptr<Transport>> transport = StartNatsTransport(
      opts.get(), o.tuning, o.max_pending_messages, absl::StrJoin(*urls, ","));
  if (transport.ok()) return transport;
  // Name the options behind a refusal, as for a bad option.
  const absl::Status& s = transport.status();
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(
        absl::StrCat(s.message(), "; ", CredentialFields(o)));
  }
  // nats.c also turns TLS on by itself when the server requires it.
  if (s.code() == absl::StatusCode::kUnavailable &&
      (TlsOn(o, *urls) || absl::StrContains(s.message(), "SSL"))) {
    return absl::UnavailableError(
        absl::StrCat(s.message(), "; with TLS: ", TlsFields(o)));
  }
  return transport;
}

}  // namespace natsrpc::internal
