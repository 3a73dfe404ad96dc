// Copyright 2026 The natsrpc Authors.
//
// protoc-gen-natsrpc as a protoc CodeGenerator: for every .proto file protoc
// asks for, parses `--natsrpc_opt`, builds the model with the protobuf front
// end, emits `<name>.natsrpc.h` and `<name>.natsrpc.cc` beside protoc's
// `<name>.pb.h` (always both files; see cpp_emitter.h), and reports errors
// that start with the file name.
//
//   protoc --plugin=protoc-gen-natsrpc=/path/to/protoc-gen-natsrpc
//          --cpp_out=gen --natsrpc_out=gen [--natsrpc_opt=key=value,...]
//          -I proto example/v1/calculator.proto

#ifndef NATSRPC_PLUGIN_GENERATOR_H_
#define NATSRPC_PLUGIN_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/compiler/code_generator.h"
#include "google/protobuf/descriptor.h"

namespace natsrpc::gen {

class NatsrpcGenerator final
    : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file,
                const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;

  // Like the default, but does not prefix errors with the file name a
  // second time (Generate's errors already start with it).
  bool GenerateAll(
      const std::vector<const google::protobuf::FileDescriptor*>& files,
      const std::string& parameter,
      google::protobuf::compiler::GeneratorContext* context,
      std::string* error) const override;

  uint64_t GetSupportedFeatures() const override {
    return FEATURE_PROTO3_OPTIONAL;
  }
};

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_GENERATOR_H_
