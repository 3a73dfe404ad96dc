// Copyright 2026 The natsrpc Authors.
//
// Opening and accepting streams (docs/protocol.md section 9.3), on top of the
// stream core and routing pieces. ReplyMux and ServerCore call these:
//
// - client: ClientStream::Open publishes `open` and creates the endpoint;
//   the ReplyMux must hand every message for the call's seq to OnReply()
//   (the first is the accept or a refusal) instead of completing the call.
// - server: AcceptStream registers the stream in the instance's table and
//   publishes `accept`; RefuseStream answers an open that fails a check.

#ifndef NATSRPC_SRC_STREAM_CLIENT_STREAM_H_
#define NATSRPC_SRC_STREAM_CLIENT_STREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"
#include "stream/server_stream_table.h"
#include "stream/stream_endpoint.h"
#include "wire/defaults.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

struct ClientStreamParams {
  // Also counts this side's credit stalls (StreamEndpointOptions), if set.
  std::shared_ptr<std::atomic<uint64_t>> credit_stalls;
  std::string requester, responder, app, service, method;
  // The server instance the open is addressed to; empty: any (the queue
  // group).
  std::string instance;
  std::string client_id;
  uint64_t seq = 0;
  absl::Time deadline = absl::InfiniteFuture();
  // Client and bidi streams: the client sends messages.
  bool sends = false;
  // The receive window in messages once the server shows (in its accept)
  // that it honours byte credit (revision 5, protocol 9.5.1).
  uint64_t window = wire::kDefaultStreamWindow;
  // The window announced in the open, kept with a server of revision <= 4;
  // 0: `window`.
  uint64_t legacy_window = 0;
  // The receive window in payload bytes (`Natsrpc-Credit-Bytes` of the
  // open); 0: no byte credit, as a revision-4 client.
  uint64_t window_bytes = 0;
  absl::Duration heartbeat = wire::kDefaultStreamHeartbeat;
  std::string content_type;
  // Request metadata of the open; read by Open() only, so it need not
  // outlive that call.
  const Metadata* metadata = nullptr;
  // Server streams: the one request, sent as the open's payload.
  std::string payload;
  std::function<void(const absl::Status&)> on_failure;
  // StreamEndpointOptions::on_read_end.
  std::function<void(const absl::Status&)> on_read_end;
  std::function<absl::Time()> clock;
};

class ClientStream {
 public:
  // Creates the endpoint, then publishes the open. The caller must route
  // messages for (client id, seq) to OnReply() before calling this, since
  // the accept may arrive before Open returns. Publish errors are returned
  // (UNAVAILABLE, RESOURCE_EXHAUSTED, ...).
  static absl::StatusOr<std::shared_ptr<ClientStream>> Create(
      std::shared_ptr<Transport> transport, ClientStreamParams params);
  absl::Status Open();

  // Every message on the call's reply-to.
  void OnReply(MessagePtr message);

  // Cancels the call: before the accept through the cancel subject, after
  // it through the stream subject. Ends the stream locally with CANCELLED.
  void Cancel();

  const std::shared_ptr<StreamEndpoint>& endpoint() const { return endpoint_; }
  bool accepted() const;

 private:
  ClientStream(std::shared_ptr<Transport> transport, ClientStreamParams params);

  const std::shared_ptr<Transport> transport_;
  const ClientStreamParams params_;
  const std::string open_subject_;
  std::shared_ptr<StreamEndpoint> endpoint_;
  mutable absl::Mutex mu_;
  bool first_seen_ ABSL_GUARDED_BY(mu_) = false;
  bool accepted_ ABSL_GUARDED_BY(mu_) = false;
};

struct ServerStreamParams {
  // Also counts this side's credit stalls (StreamEndpointOptions), if set.
  std::shared_ptr<std::atomic<uint64_t>> credit_stalls;
  // Client and bidi streams: the server receives messages.
  bool receives = false;
  // The receive window in messages for a client that honours byte credit
  // (its open has `Natsrpc-Credit-Bytes`, revision 5, protocol 9.5.1).
  uint64_t window = wire::kDefaultStreamWindow;
  // The window for a client of revision <= 4; 0: `window`.
  uint64_t legacy_window = 0;
  // The receive window in payload bytes granted to a client that honours
  // byte credit; 0: the server never uses byte credit.
  uint64_t window_bytes = 0;
  // The shortest heartbeat interval the server accepts.
  absl::Duration min_heartbeat = wire::kDefaultMinStreamHeartbeat;
  // From the open's Natsrpc-Timeout.
  absl::Time deadline = absl::InfiniteFuture();
  std::function<void(const absl::Status&)> on_failure;
  std::function<absl::Time()> clock;
};

// Accepts `open` (whose subject `request` and reply-to the caller already
// checked, protocol section 5): creates the endpoint, registers it in
// `table` and publishes the accept. INVALID_ARGUMENT if the open lacks a
// valid Natsrpc-Credit, or has a malformed Natsrpc-Credit-Bytes (the caller
// then refuses it).
absl::StatusOr<std::shared_ptr<StreamEndpoint>> AcceptStream(
    std::shared_ptr<Transport> transport, ServerStreamTable& table,
    const IncomingMessage& open, const wire::RequestSubjectParts& request,
    ServerStreamParams params);

// Refuses `open`: an end with count 0 and `status` on its reply-to.
absl::Status RefuseStream(Transport& transport, const IncomingMessage& open,
                          const absl::Status& status);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_STREAM_CLIENT_STREAM_H_
