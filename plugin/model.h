// Copyright 2026 The natsrpc Authors.
//
// The plain-data model between an IDL front end and the C++ emitter.
//
//   .proto -> protoc -> FileDescriptor -> proto_front_end --+
//                                                            +-> ServiceModel
//   .fbs -> flatbuffers::Parser -> ServiceDef -> fbs front end --+     |
//                                                                 cpp_emitter
//
// A front end decides everything that depends on the IDL: how a message type
// is spelled in C++ (`::example::v1::AddRequest`, or
// `::natsrpc::FlatMessage<::example::AddRequest>`), which codec template
// carries it (`::natsrpc::ProtobufCodec`, `::natsrpc::FlatBuffersCodec`),
// which headers declare those types (`example/v1/calculator.pb.h`,
// `calculator_generated.h`), the app and timeouts from the IDL's options,
// and the escaped C++ identifiers (see names.h). The emitter only prints what
// is here and never asks which IDL the model came from.
//
// Every string is final: identifiers are already escaped and unique, type
// spellings are fully qualified, and includes are written as they appear
// between the quotes of an `#include`.

#ifndef NATSRPC_PLUGIN_MODEL_H_
#define NATSRPC_PLUGIN_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace natsrpc::gen {

// How many messages flow each way; the emitter prints every kind (the
// client call, asynchronous call and handler shapes are listed in
// plugin/README.md). From .proto: the `stream` keywords; from .fbs: the
// `streaming` attribute ("client", "server", "bidi"; absent: unary).
enum class StreamingKind {
  kUnary,
  kClientStreaming,  // many requests, one response
  kServerStreaming,  // one request, many responses
  kBidiStreaming,    // many requests, many responses
};

// One rpc.
struct MethodDef {
  // The IDL name; it is the method token on the wire (subjects), in errors
  // and in the method table. Always a valid subject token.
  std::string name;  // "Add", "delete"
  // The C++ identifiers of the blocking and asynchronous calls and of the
  // server's virtual method (the blocking name), for every streaming kind.
  // Escaped and unique within the service's generated classes.
  std::string cpp_name;        // "Add", "delete_"
  std::string cpp_async_name;  // "AddAsync", "delete_Async"
  // The virtual behind a streaming call in Svc::ClientInterface (emitted
  // with generate_mock_code), reserved for every kind.
  std::string cpp_raw_name;  // "DownloadRaw", "delete_Raw"
  // The client's coroutine call (natsrpc/coro.h) of a unary method,
  // reserved for every kind. Also escaped and unique.
  std::string cpp_co_name;  // "AddCo", "delete_Co"
  // Fully qualified C++ types of the request and response.
  std::string request_type;   // "::example::v1::AddRequest"
  std::string response_type;  // "::example::v1::AddReply"
  // The IDL's fully qualified names of the two types, for discovery
  // (docs/protocol.md section 11).
  std::string request_type_name;   // "example.v1.AddRequest"
  std::string response_type_name;  // "example.v1.AddReply"
  // The codec class template both types are used with, fully qualified.
  std::string codec;  // "::natsrpc::ProtobufCodec"
  StreamingKind streaming = StreamingKind::kUnary;
  // Default timeout from the IDL (most specific option wins); 0: none. For
  // a streaming method it is the default deadline of the whole stream.
  uint32_t timeout_ms = 0;
  // The IDL's doc comment, one entry per line, without comment markers
  // (" Returns a + b."). Raw user text: the emitter makes it safe.
  std::vector<std::string> doc;

  // ---- Durable requests (docs/protocol.md section 14) ----
  // The IDL marks this unary method durable: `(natsrpc.method).durable` or
  // `(natsrpc.service).durable` in .proto, the `natsrpc_durable` attribute
  // on the method or the service in .fbs. The service's DurableClient then
  // has a blocking call named cpp_name and the two below.
  bool durable = false;
  // Store the request and return its ticket; fetch a result by request id.
  // Unique among the DurableClient's members (durable_names.h).
  std::string cpp_durable_submit_name;  // "SubmitAdd"
  std::string cpp_durable_fetch_name;   // "FetchAdd"

  // ---- Retries (natsrpc/client.h, RetryPolicy) ----
  // Serving the method twice does no harm, so the client's retry policy
  // applies to it. From .proto: `option idempotency_level` IDEMPOTENT or
  // NO_SIDE_EFFECTS; from .fbs: the `idempotent` attribute.
  bool idempotent = false;

  // ---- Events and scatter-gather (natsrpc/fanout.h, docs/protocol.md 13) --
  // From .proto: (natsrpc.method).event / (natsrpc.service).events and
  // .broadcast / .broadcast_events; from .fbs: the natsrpc_event and
  // natsrpc_broadcast attributes (fanout_model.h checks and fills them).
  // An event method (unary only): published without reply-to.
  bool event = false;
  // An event that reaches every instance (the `.all` subject).
  bool event_broadcast = false;
  // Reserved for every method, escaped and unique among all the service's
  // generated names: the event's flush-and-confirm call, and the
  // scatter-gather calls (blocking, callback) of a unary non-event method.
  std::string cpp_confirmed_name;     // "NotifyConfirmed"
  std::string cpp_gather_name;        // "AddAll"
  std::string cpp_gather_async_name;  // "AddAllAsync"
};

// One service.
struct ServiceDef {
  // The IDL name: the service token on the wire.
  std::string name;  // "Calculator"
  // The IDL's fully qualified name, for error messages.
  std::string full_name;  // "example.v1.Calculator"
  // The C++ class holding `Client` and `Service`, escaped and unique in its
  // namespace.
  std::string cpp_name;  // "Calculator", "class_"
  // The name of the method table in the generated .cc, unique in the
  // namespace and among the method identifiers.
  std::string method_table_name;  // "kCalculatorMethods"
  // The app token of the service's subjects (IDL option, else derived from
  // the package).
  std::string app;  // "example_v1"
  std::vector<std::string> doc;
  std::vector<MethodDef> methods;
};

// Everything generated from one IDL file.
struct ServiceModel {
  // The IDL file as the compiler names it, for comments and errors.
  std::string idl_file;  // "example/v1/calculator.proto"
  // Output paths relative to the output directory.
  std::string header_file;  // "example/v1/calculator.natsrpc.h"
  std::string source_file;  // "example/v1/calculator.natsrpc.cc"
  // How the generated .cc includes the generated header.
  std::string header_include;  // "example/v1/calculator.natsrpc.h"
  // Headers declaring the message types and codecs, in the order they are
  // included (before "natsrpc/natsrpc.h", which is always included).
  std::vector<std::string> includes;  // {"example/v1/calculator.pb.h"}
  // C++ namespaces, outermost first; empty: the global namespace.
  std::vector<std::string> namespaces;  // {"example", "v1"}
  std::vector<ServiceDef> services;

  // The file's schema, embedded in the generated .cc and handed to the
  // runtime with every service of the file, which answers schema requests
  // with it (docs/protocol.md section 12). The front end serializes it: a
  // `google.protobuf.FileDescriptorSet` of the file and everything it
  // imports, dependencies first (.proto), or the binary schema, `.bfbs`
  // (.fbs). Empty: no schema.
  std::string schema;
  // The `::natsrpc::SchemaEncoding` enumerator naming `schema`'s format,
  // fully qualified.
  std::string schema_encoding;  // "::natsrpc::SchemaEncoding::kProtobuf..."
  // The name of the byte array holding `schema` in the generated .cc,
  // unique in the namespace (like method_table_name).
  std::string schema_array_name;  // "kNatsrpcSchema"
};

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_MODEL_H_
