// Copyright 2026 The natsrpc Authors.
//
// Schema requests (docs/protocol.md section 12): the reserved method token a
// caller asks a service for its schema with, and the headers of the reply.
//
//   request : requests.alice.bob.example_v1.Calculator.natsrpc-schema
//             (an ordinary unary request, empty payload)
//   reply   : Natsrpc-Schema-Encoding: protobuf-file-descriptor-set
//             Natsrpc-Schema-Service: example.v1.Calculator
//             payload: the serialized FileDescriptorSet

#ifndef NATSRPC_SRC_WIRE_SCHEMA_H_
#define NATSRPC_SRC_WIRE_SCHEMA_H_

#include "absl/strings/string_view.h"
#include "natsrpc/server.h"

namespace natsrpc::wire {

// The method token of a schema request. It contains '-', which no .proto or
// .fbs identifier can, so it never names an IDL method.
inline constexpr absl::string_view kSchemaMethod = "natsrpc-schema";

// Reply headers.
inline constexpr absl::string_view kSchemaEncodingHeader =
    "Natsrpc-Schema-Encoding";
inline constexpr absl::string_view kSchemaServiceHeader =
    "Natsrpc-Schema-Service";

// The value of `Natsrpc-Schema-Encoding` for each format.
//
//   SchemaEncodingName(SchemaEncoding::kProtobufFileDescriptorSet)
//       -> "protobuf-file-descriptor-set"
//   SchemaEncodingName(SchemaEncoding::kFlatBuffersBinarySchema)
//       -> "flatbuffers-binary-schema"
//   SchemaEncodingName(SchemaEncoding::kNone) -> ""
constexpr absl::string_view SchemaEncodingName(SchemaEncoding encoding) {
  switch (encoding) {
    case SchemaEncoding::kProtobufFileDescriptorSet:
      return "protobuf-file-descriptor-set";
    case SchemaEncoding::kFlatBuffersBinarySchema:
      return "flatbuffers-binary-schema";
    case SchemaEncoding::kNone:
      break;
  }
  return "";
}

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_SCHEMA_H_
