// Copyright 2026 The natsrpc Authors.
//
// The FlatBuffers front end: parses a `.fbs` schema with libflatbuffers'
// `Parser` (includes, namespaces, include directories) and turns the
// schema's `rpc_service`s into the IDL-neutral model (model.h), for the same
// C++ emitter as the protobuf front end.
//
// It spells a table `T` of namespace `ns` as
// `::natsrpc::FlatMessage<::ns::T>` (the table name escaped as flatc 2.0.8
// escapes it), uses the codec `::natsrpc::FlatBuffersCodec`, and includes
// flatc's `<name>_generated.h` and "natsrpc/flatbuffers_codec.h". Outputs
// are `<name>.natsrpc.{h,cc}` with `<name>` the schema's base name, the
// layout of `flatc --cpp -o dir` (which also drops the directory).
//
// Attributes (declare the natsrpc_ ones with `attribute "natsrpc_...";`, as
// FlatBuffers requires for custom attributes):
//
//   rpc_service:  natsrpc_timeout_ms: <ms>   default deadline of its methods
//                 natsrpc_app: "<token>"     app token (default: the
//                                            namespace with '.' -> '_')
//                 natsrpc_event              every method is an event
//                 natsrpc_broadcast          its events reach every instance
//   rpc method:   streaming: "server" | "client" | "bidi"
//                 idempotent                 the client's RetryPolicy
//                                            applies (natsrpc/client.h)
//                 natsrpc_timeout_ms: <ms>   overrides the service's
//                 natsrpc_event              an event (docs/protocol.md 13)
//                 natsrpc_broadcast          an event every instance gets
//
// Anything else on a service or method is an error, and so is a streaming
// value other than the three above (flatc accepts any). Errors name the
// file and line, the service, the method and the value:
//
//   bad.fbs:7: service a.S, method M: attribute streaming: "sever" is not
//   one of "server", "client", "bidi"

#ifndef NATSRPC_PLUGIN_FBS_FRONT_END_H_
#define NATSRPC_PLUGIN_FBS_FRONT_END_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model.h"

namespace natsrpc::gen {

// The name a schema goes by in generated comments and errors: its path
// relative to the first of `include_dirs` that contains it, else `path` as
// given.
//
//   FbsDisplayName("fbs/example/calculator.fbs", {"fbs"})
//       -> "example/calculator.fbs"
//   FbsDisplayName("/tmp/x.fbs", {"fbs"}) -> "/tmp/x.fbs"
std::string FbsDisplayName(const std::string& path,
                           const std::vector<std::string>& include_dirs);

// Reads and parses the schema at `path` (includes are searched in
// `include_dirs`, then in the schema's own directory, as flatc does) and
// builds its model. Errors (INVALID_ARGUMENT, NOT_FOUND for an unreadable
// file) start with the file name and say what is wrong where.
absl::StatusOr<ServiceModel> BuildFbsModel(
    const std::string& path, const std::vector<std::string>& include_dirs);

// The same for schema text that is already in memory; `path` names it (and
// its directory is searched for includes).
absl::StatusOr<ServiceModel> BuildFbsModelFromSource(
    absl::string_view source, const std::string& path,
    const std::vector<std::string>& include_dirs);

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_FBS_FRONT_END_H_
