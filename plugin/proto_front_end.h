// Copyright 2026 The natsrpc Authors.
//
// The protobuf front end: turns a FileDescriptor into the IDL-neutral model
// (model.h). It spells message types as protoc's C++ generator names them
// (`::example::v1::AddRequest`, `::pkg::Outer_Inner`,
// `::google::protobuf::Empty`), uses `::natsrpc::ProtobufCodec`, includes the
// file's `.pb.h`, and reads the natsrpc IDL options
// (proto/natsrpc/options.proto):
//
//   app:        service option, else file option, else the package with '.'
//               replaced by '_' (no package: "default"). An explicit app
//               must be a subject token ([A-Za-z0-9_-]+).
//   timeout_ms: method option, else service, else file; 0 means none.

#ifndef NATSRPC_PLUGIN_PROTO_FRONT_END_H_
#define NATSRPC_PLUGIN_PROTO_FRONT_END_H_

#include "absl/status/statusor.h"
#include "generator_options.h"
#include "google/protobuf/descriptor.h"
#include "model.h"

namespace natsrpc::gen {

// Builds the model of `file`. Errors (INVALID_ARGUMENT) start with the file
// name and name the service or option at fault, e.g.
//
//   bad/app.proto: service bad.Svc: option (natsrpc.service).app "a.b" is
//   not a valid subject token: character '.' at offset 1 is not one of
//   [A-Za-z0-9_-]
//
// Streaming methods get their StreamingKind from the `stream` keywords
// (request only: client, reply only: server, both: bidi).
absl::StatusOr<ServiceModel> BuildProtoModel(
    const google::protobuf::FileDescriptor& file,
    const GeneratorOptions& options);

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_PROTO_FRONT_END_H_
