// Copyright 2026 The natsrpc Authors.

#include "stream/client_stream.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "wire/defaults.h"
#include "wire/status_body.h"

namespace natsrpc::internal {

absl::StatusOr<std::shared_ptr<ClientStream>> ClientStream::Create(
    std::shared_ptr<Transport> transport, ClientStreamParams params) {
  for (auto [field, value] : {std::pair<absl::string_view, absl::string_view>{
                                  "requester", params.requester},
                              {"responder", params.responder},
                              {"app", params.app},
                              {"service", params.service},
                              {"method", params.method},
                              {"client id", params.client_id}}) {
    if (absl::Status s = wire::ValidateToken(field, value); !s.ok()) return s;
  }
  return std::shared_ptr<ClientStream>(
      new ClientStream(std::move(transport), std::move(params)));
}

ClientStream::ClientStream(std::shared_ptr<Transport> transport,
                           ClientStreamParams params)
    : transport_(std::move(transport)),
      params_(std::move(params)),
      open_subject_(wire::InstanceRequestSubject(
          params_.requester, params_.responder, params_.app, params_.service,
          params_.method, params_.instance)) {
  StreamEndpointOptions o;
  o.sends = params_.sends;
  o.receives = true;
  o.window = params_.legacy_window > 0 ? params_.legacy_window : params_.window;
  o.window_with_byte_credit = params_.window;
  o.window_bytes = params_.window_bytes;
  o.initial_send_credit = 0;  // until the accept
  o.heartbeat_interval = params_.heartbeat;
  o.liveness_timeout = wire::kLivenessHeartbeats * params_.heartbeat;
  o.silence_code = absl::StatusCode::kUnavailable;
  o.peer_end_closes_send = true;
  o.on_failure = params_.on_failure;
  o.credit_stalls = params_.credit_stalls;
  o.on_read_end = params_.on_read_end;
  o.clock = params_.clock;
  o.deadline = params_.deadline;
  // Before the accept the server is reached through the cancel subject.
  o.cancel_before_peer = [transport = transport_,
                          subject = wire::CancelSubject(
                              params_.requester, params_.responder, params_.app,
                              params_.service, params_.method,
                              params_.client_id, absl::StrCat(params_.seq))] {
    PublishCancel(*transport, subject).IgnoreError();
  };
  endpoint_ = std::make_shared<StreamEndpoint>(transport_, std::move(o));
}

absl::Status ClientStream::Open() {
  const std::string prefix = wire::ResponsePrefix(
      params_.requester, params_.responder, params_.app, params_.client_id);
  char buffer[256];
  std::string long_reply;
  const absl::string_view reply = wire::ResponseSubject(
      prefix, params_.seq, absl::MakeSpan(buffer), long_reply);
  const std::string credit = absl::StrCat(endpoint_->window());
  const std::string credit_bytes = absl::StrCat(endpoint_->window_bytes());
  const std::string heartbeat = wire::EncodeTimeout(params_.heartbeat);
  const absl::Time now = params_.clock ? params_.clock() : absl::Now();
  const std::string timeout = wire::EncodeTimeout(params_.deadline - now);
  std::vector<HeaderRef> headers = {
      {wire::kStreamHeader, wire::StreamFrameName(wire::StreamFrame::kOpen)},
      {wire::kCreditHeader, credit},
      {wire::kHeartbeatHeader, heartbeat},
      {wire::kRevisionHeader, wire::kRevisionValue}};
  // Revision 5 (protocol 9.5.1): this client honours byte credit.
  if (params_.window_bytes > 0) {
    headers.push_back({wire::kCreditBytesHeader, credit_bytes});
  }
  if (params_.deadline != absl::InfiniteFuture()) {
    headers.push_back({wire::kTimeoutHeader, timeout});
  }
  if (!params_.content_type.empty()) {
    headers.push_back({wire::kContentTypeHeader, params_.content_type});
  }
  return transport_->Publish(
      OutgoingMessage{open_subject_, reply, absl::MakeConstSpan(headers),
                      params_.metadata, params_.payload});
}

bool ClientStream::accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

void ClientStream::OnReply(MessagePtr message) {
  // The transport never runs one subscription's handler concurrently with
  // itself, so the first message is handled before any later one.
  bool first;
  {
    absl::MutexLock lock(&mu_);
    first = !first_seen_;
    first_seen_ = true;
  }
  if (!first) {
    endpoint_->OnMessage(std::move(message));
    return;
  }
  absl::StatusOr<AcceptInfo> accept =
      CheckAccept(*message, open_subject_, params_.heartbeat);
  if (!accept.ok()) {
    endpoint_->OnPeerCancel(accept.status());
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    accepted_ = true;
  }
  // Revision 4: the accept's application headers are initial metadata.
  endpoint_->AddInitialMetadata(message->headers());
  // Both sides use the server's interval (it only raises the client's).
  endpoint_->SetPeer(
      accept->stream_subject, accept->credit, accept->heartbeat,
      params_.window_bytes > 0 ? accept->credit_bytes : std::nullopt);
}

void ClientStream::Cancel() {
  endpoint_->Cancel(absl::CancelledError("cancelled"));
}

absl::StatusOr<std::shared_ptr<StreamEndpoint>> AcceptStream(
    std::shared_ptr<Transport> transport, ServerStreamTable& table,
    const IncomingMessage& open, const wire::RequestSubjectParts& request,
    ServerStreamParams params) {
  uint64_t credit = 0;
  std::optional<absl::string_view> credit_header =
      open.header(wire::kCreditHeader);
  if (!credit_header.has_value() || !wire::ParseSeq(*credit_header, credit)) {
    return absl::InvalidArgumentError(
        "stream open without a valid Natsrpc-Credit");
  }
  // Revision 5 (protocol 9.5.1): a client that announces byte credit
  // honours ours, so it may be granted the larger message window.
  std::optional<uint64_t> credit_bytes;
  if (std::optional<absl::string_view> h =
          open.header(wire::kCreditBytesHeader)) {
    credit_bytes = wire::ParseCounter(h);
    if (!credit_bytes.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stream open with a malformed ", wire::kCreditBytesHeader));
    }
  }
  const bool byte_credit = credit_bytes.has_value() && params.window_bytes > 0;
  const absl::Duration heartbeat = NegotiateHeartbeat(
      open.header(wire::kHeartbeatHeader), params.min_heartbeat);
  StreamEndpointOptions o;
  o.sends = true;
  o.receives = params.receives;
  o.window = byte_credit || params.legacy_window == 0 ? params.window
                                                      : params.legacy_window;
  o.window_bytes = byte_credit ? params.window_bytes : 0;
  o.initial_send_credit = credit;
  if (byte_credit) o.initial_send_byte_credit = credit_bytes;
  o.peer_subject = std::string(open.reply());
  o.heartbeat_interval = heartbeat;
  o.liveness_timeout = wire::kLivenessHeartbeats * heartbeat;
  o.silence_code = absl::StatusCode::kCancelled;
  o.own_end_ends_stream = true;
  o.deadline = params.deadline;
  o.on_failure = std::move(params.on_failure);
  o.credit_stalls = std::move(params.credit_stalls);
  o.clock = std::move(params.clock);
  auto endpoint = std::make_shared<StreamEndpoint>(transport, std::move(o));
  const std::string stream = table.AddStream(
      StreamOrigin{std::string(request.requester),
                   std::string(request.responder), std::string(request.app),
                   std::string(request.service), std::string(request.method)},
      open.reply(), endpoint);
  const std::string window =
      absl::StrCat(params.receives ? endpoint->window() : 0);
  const std::string window_bytes = absl::StrCat(endpoint->window_bytes());
  const std::string interval = wire::EncodeTimeout(heartbeat);
  HeaderRef headers[] = {
      {wire::kStreamHeader, wire::StreamFrameName(wire::StreamFrame::kAccept)},
      {wire::kCreditHeader, window},
      {wire::kHeartbeatHeader, interval},
      {wire::kRevisionHeader, wire::kRevisionValue},
      // Revision 5: only to a client that announced byte credit (0 from a
      // server that receives nothing).
      {wire::kCreditBytesHeader, window_bytes}};
  absl::Status s = transport->Publish(OutgoingMessage{
      open.reply(), stream, absl::MakeConstSpan(headers, byte_credit ? 5 : 4),
      nullptr, ""});
  if (!s.ok()) {
    table.RemoveStream(stream);
    return s;
  }
  return endpoint;
}

absl::Status RefuseStream(Transport& transport, const IncomingMessage& open,
                          const absl::Status& status) {
  const absl::Status refusal =
      status.ok() ? absl::InternalError("refused") : status;
  const wire::StatusHeaders error(refusal);
  HeaderRef headers[4] = {
      {wire::kStreamHeader, wire::StreamFrameName(wire::StreamFrame::kEnd)},
      {wire::kCountHeader, "0"}};
  error.WriteTo(&headers[2]);
  const std::string body = wire::EncodeStatusBody(refusal);
  return transport.Publish(
      OutgoingMessage{open.reply(), "", headers, nullptr, body});
}

}  // namespace natsrpc::internal
