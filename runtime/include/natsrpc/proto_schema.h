// Copyright 2026 The natsrpc Authors.
//
// Protobuf schemas at run time: the dynamic-message layer of the generic
// client (natsrpc/generic_client.h). A ProtoSchema is a DescriptorPool built
// from a service's schema (GenericClient::FetchSchema, docs/protocol.md
// section 12) or from .proto files, and makes DynamicMessages of its types,
// so that a program calls methods it was not compiled with:
//
//   absl::StatusOr<natsrpc::RemoteSchema> remote = client.FetchSchema();
//   absl::StatusOr<std::unique_ptr<natsrpc::ProtoSchema>> schema =
//       natsrpc::ProtoSchema::FromFileDescriptorSet(remote->bytes);
//   absl::StatusOr<const google::protobuf::MethodDescriptor*> add =
//       (*schema)->FindMethod(remote->service, "Add");
//   std::unique_ptr<google::protobuf::Message> req =
//       (*schema)->NewMessage(*(*add)->input_type());
//   std::unique_ptr<google::protobuf::Message> reply =
//       (*schema)->NewMessage(*(*add)->output_type());
//   absl::Status s = client.Call("Add", *req, reply.get());

#ifndef NATSRPC_PROTO_SCHEMA_H_
#define NATSRPC_PROTO_SCHEMA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "natsrpc/export.h"
#include "natsrpc/interceptor.h"

namespace natsrpc {

// A descriptor pool and the factory of its dynamic messages. Thread-safe
// once built; messages it makes must not outlive it.
class NATSRPC_EXPORT ProtoSchema {
 public:
  // From a serialized google.protobuf.FileDescriptorSet whose files come
  // after the files they import (what a server's schema reply holds).
  // INVALID_ARGUMENT naming the file and the error if it does not build.
  static absl::StatusOr<std::unique_ptr<ProtoSchema>> FromFileDescriptorSet(
      absl::string_view serialized);
  // Parses `files` (paths relative to one of `import_paths`, as protoc's -I)
  // and everything they import. INVALID_ARGUMENT with protoc's messages
  // (file:line:column) if one does not parse.
  static absl::StatusOr<std::unique_ptr<ProtoSchema>> FromProtoFiles(
      absl::Span<const std::string> files,
      absl::Span<const std::string> import_paths);

  ~ProtoSchema();
  ProtoSchema(const ProtoSchema&) = delete;
  ProtoSchema& operator=(const ProtoSchema&) = delete;

  const google::protobuf::DescriptorPool& pool() const { return *pool_; }

  // Every service of every file of the schema (imports included), in file
  // order.
  std::vector<const google::protobuf::ServiceDescriptor*> services() const;
  // A service by full name ("example.v1.Calculator") or, if only one service
  // has it, by simple name ("Calculator"). NOT_FOUND naming the services
  // there are.
  absl::StatusOr<const google::protobuf::ServiceDescriptor*> FindService(
      absl::string_view name) const;
  // A method of `service` (FindService's name). NOT_FOUND naming the
  // methods there are.
  absl::StatusOr<const google::protobuf::MethodDescriptor*> FindMethod(
      absl::string_view service, absl::string_view method) const;
  // An empty message of `type` (a type of this pool).
  std::unique_ptr<google::protobuf::Message> NewMessage(
      const google::protobuf::Descriptor& type) const;

  // The kind of call `method` is (its `stream` keywords).
  static CallKind KindOf(const google::protobuf::MethodDescriptor& method);

 private:
  struct ImportState;
  ProtoSchema();

  // Set for FromProtoFiles: the importer owns the pool.
  std::unique_ptr<ImportState> import_;
  std::unique_ptr<google::protobuf::DescriptorPool> owned_pool_;
  const google::protobuf::DescriptorPool* pool_ = nullptr;
  std::vector<const google::protobuf::FileDescriptor*> files_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
};

}  // namespace natsrpc

#endif  // NATSRPC_PROTO_SCHEMA_H_
