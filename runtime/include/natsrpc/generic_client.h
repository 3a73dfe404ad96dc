// Copyright 2026 The natsrpc Authors.
//
// Calling any natsrpc method by name, without generated code: the client
// behind the `natsrpc` command-line tool (tools/natsrpc), usable from C++.
//
// A GenericClient holds one service of one responder, like a generated
// `Svc::Client`, and goes through the same client channel: the same subjects,
// deadlines, metadata, status mapping and interceptors (ClientOptions). The
// payloads are bytes (already encoded with the method's codec), or protobuf
// messages of any type, generated or dynamic (natsrpc/proto_schema.h builds
// dynamic ones from a service's schema):
//
//   natsrpc::GenericClient calc(conn, {.requester = "alice",
//                                      .responder = "bob",
//                                      .app = "example_v1"},
//                               "Calculator");
//   absl::StatusOr<std::string> reply = calc.Call("Add", request_bytes);
//
//   std::unique_ptr<natsrpc::GenericStream> s =
//       calc.OpenServerStream("Download", request_bytes);
//   std::string chunk;
//   while (s->Read(&chunk)) { ... }
//   absl::Status status = s->Finish();
//
// And the two discovery requests a generic caller needs first:
// DiscoverServices() (ADR-32's $SRV.INFO, docs/protocol.md section 11) and
// GenericClient::FetchSchema() (the schema request, section 12).

#ifndef NATSRPC_GENERIC_CLIENT_H_
#define NATSRPC_GENERIC_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "natsrpc/client.h"
#include "natsrpc/codec.h"
#include "natsrpc/connection.h"
#include "natsrpc/export.h"
#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metadata.h"
#include "natsrpc/server.h"
#include "natsrpc/stream_stats.h"

namespace natsrpc {

namespace internal {
class ClientChannel;
// Encodes std::string (as is) and protobuf messages (generic_client.cc).
template <typename T>
struct GenericCodec;
}  // namespace internal

// One stream of any kind opened by a GenericClient (docs/protocol.md section
// 9). A server stream only reads; a client stream writes its requests,
// WritesDone(), then reads its one reply; a bidi stream does both (one
// thread may read while another writes). Nothing throws; after a false
// Read or Write, Finish() says why.
class NATSRPC_EXPORT GenericStream {
 public:
  GenericStream(std::shared_ptr<internal::StreamEndpoint> endpoint,
                absl::Time deadline);
  // Cancels the stream if it has not ended.
  ~GenericStream();
  GenericStream(const GenericStream&) = delete;
  GenericStream& operator=(const GenericStream&) = delete;

  // Sends one request, waiting for credit; false if the stream is over.
  bool Write(absl::string_view bytes);
  bool Write(const google::protobuf::MessageLite& request);
  // Half close: no more requests. Idempotent.
  bool WritesDone();
  // The next reply; false at the end of the stream or on failure. A reply
  // that does not parse as `*reply` fails the stream with INTERNAL.
  bool Read(std::string* reply);
  bool Read(google::protobuf::MessageLite* reply);
  // Drops unread replies, waits for the end and returns the final status.
  absl::Status Finish();
  // Ends the stream with CANCELLED; the server's handler is cancelled.
  void Cancel();

  // The server's initial metadata (complete once the first reply was read)
  // and trailers (complete once Finish() returned).
  Metadata GetServerInitialMetadata() const;
  Metadata GetServerTrailingMetadata() const;
  StreamStats stats() const;

 private:
  internal::TypedStream<internal::GenericCodec> s_;
  bool writes_done_ = false;
};

// A service's schema as its server sends it (docs/protocol.md section 12).
struct RemoteSchema {
  // kNone when the server sent an encoding this runtime does not know.
  SchemaEncoding encoding = SchemaEncoding::kNone;
  // The `Natsrpc-Schema-Encoding` header as received.
  std::string encoding_name{};
  // The IDL's fully qualified service name, e.g. "example.v1.Calculator".
  std::string service{};
  // A serialized FileDescriptorSet or a FlatBuffers binary schema.
  std::string bytes{};
};

// Calls the methods of one service by name. Thread-safe.
class NATSRPC_EXPORT GenericClient {
 public:
  // `service` is the service's simple name as it appears in subjects
  // ("Calculator", not "example.v1.Calculator"). `options.app` must be set:
  // there is no IDL to take it from. Never fails; a bad argument is kept in
  // status() and ends every call with it.
  GenericClient(const Connection& connection, ClientOptions options,
                absl::string_view service);
  ~GenericClient();
  GenericClient(const GenericClient&) = delete;
  GenericClient& operator=(const GenericClient&) = delete;

  // OK, or INVALID_ARGUMENT naming the bad requester, responder, app or
  // service.
  const absl::Status& status() const { return status_; }
  const std::string& service() const { return service_; }
  const std::string& app() const { return options_.app; }

  // A unary call with an encoded request; the encoded reply. `content_type`
  // is the method's codec's (kProtobufContentType, kFlatBuffersContentType
  // of natsrpc/flatbuffers_codec.h). `options.timeout` zero: the client's
  // default timeout, else 10 s.
  absl::StatusOr<std::string> Call(
      absl::string_view method, absl::string_view request,
      const CallOptions& options = {},
      absl::string_view content_type = kProtobufContentType);
  // The same, asynchronously: `done` runs once, on a runtime thread (it
  // must not block), with the encoded reply or the status.
  CallHandle CallAsync(
      absl::string_view method, absl::string_view request,
      absl::AnyInvocable<void(absl::StatusOr<std::string>)> done,
      const CallOptions& options = {},
      absl::string_view content_type = kProtobufContentType);
  // A unary call with protobuf messages of the method's types (generated or
  // dynamic): OK with `*reply` filled, or the status (INVALID_ARGUMENT if
  // `request` cannot be serialized, INTERNAL if the reply is not a
  // `reply`).
  absl::Status Call(absl::string_view method,
                    const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* reply,
                    const CallOptions& options = {});

  // Opens a server stream with its one request. Never null: a stream that
  // cannot be opened fails its first Read, and Finish() says why.
  std::unique_ptr<GenericStream> OpenServerStream(
      absl::string_view method, absl::string_view request,
      const CallOptions& options = {},
      absl::string_view content_type = kProtobufContentType);
  std::unique_ptr<GenericStream> OpenServerStream(
      absl::string_view method, const google::protobuf::MessageLite& request,
      const CallOptions& options = {});
  // Opens a client stream (kind kClientStreaming) or a bidi stream
  // (kBidiStreaming). Never null.
  std::unique_ptr<GenericStream> OpenStream(
      absl::string_view method, CallKind kind, const CallOptions& options = {},
      absl::string_view content_type = kProtobufContentType);

  // Asks the service for its schema (docs/protocol.md section 12).
  // NOT_FOUND: the service has none; UNIMPLEMENTED: its server predates
  // schema requests; otherwise the call's status.
  absl::StatusOr<RemoteSchema> FetchSchema(const CallOptions& options = {});

 private:
  // The channel of `method` called as `kind`, made on first use.
  absl::StatusOr<internal::ClientChannel*> Channel(absl::string_view method,
                                                   CallKind kind);

  const Connection connection_;
  const ClientOptions options_;
  const std::string service_;
  absl::Status status_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, CallKind>,
           std::unique_ptr<internal::ClientChannel>>
      channels_ ABSL_GUARDED_BY(mu_);
};

// One instance of one service, as it answers ADR-32's $SRV.INFO
// (docs/protocol.md section 11.3).
struct DiscoveredService {
  struct Endpoint {
    std::string name;     // the method
    std::string subject;  // requests.*.<responder>.<app>.<service>.<method>
    std::string queue_group;
    CallKind kind = CallKind::kUnary;
    std::string request_type;   // e.g. "example.v1.AddRequest"
    std::string response_type;  // e.g. "example.v1.AddReply"
  };
  std::string name;  // the ADR-32 name, "<app>-<service>"
  std::string id;    // the server instance
  std::string version;
  std::string description;
  // From the natsrpc.* metadata.
  std::string app;
  std::string responder;
  std::string service;  // the IDL's full name, e.g. "example.v1.Calculator"
  std::string runtime_version;
  std::string protocol_revision;
  std::vector<Endpoint> endpoints;
};

struct DiscoveryOptions {
  // Only the services of this ADR-32 name ("<app>-<service>"); empty: all.
  std::string name{};
  // How long to collect answers at most.
  absl::Duration timeout = absl::Seconds(2);
  // Stop earlier once this long passed without a new answer after the
  // first one.
  absl::Duration gap = absl::Milliseconds(300);
};

// Sends $SRV.INFO (every natsrpc server answers once per service, section
// 11.2) and returns the natsrpc services that answered, sorted by service,
// responder and id; services of other ADR-32 implementations (without
// natsrpc metadata) and unreadable answers are skipped. Needs the grants to
// publish on `$SRV.>` and to subscribe to `_INBOX.>`. Errors: those of
// subscribing and publishing; no answer is an empty list, not an error.
NATSRPC_EXPORT absl::StatusOr<std::vector<DiscoveredService>> DiscoverServices(
    const Connection& connection, const DiscoveryOptions& options = {});

}  // namespace natsrpc

#endif  // NATSRPC_GENERIC_CLIENT_H_
