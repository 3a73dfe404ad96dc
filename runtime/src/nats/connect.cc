// Copyright 2026 The natsrpc Authors.
//
// ConnectOptions -> natsOptions, one function per concern, then
// StartNatsTransport (nats_transport.cc).

#include <nats/nats.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nats/nats_internals.h"
#include "nats/nats_transport.h"
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
  if (!o.creds_file.empty()) {
    NATSRPC_RETURN_IF_ERROR(
        Check("creds_file", natsOptions_SetUserCredentialsFromFiles(
                                opts, o.creds_file.c_str(), nullptr)));
  }
  return absl::OkStatus();
}

// TLS is on if asked for, implied by a file, or by a tls:// URL.
absl::Status SetTls(natsOptions* opts, const ConnectOptions& o,
                    const std::vector<std::string>& urls) {
  bool tls = o.tls || !o.tls_ca_file.empty() || !o.tls_cert_file.empty();
  for (const std::string& u : urls) tls = tls || absl::StartsWith(u, "tls://");
  if (!tls) return absl::OkStatus();
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
  return StartNatsTransport(opts.get(), o.tuning, o.max_pending_messages,
                            absl::StrJoin(*urls, ","));
}

}  // namespace natsrpc::internal
