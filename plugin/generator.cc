// Copyright 2026 The natsrpc Authors.

#include "generator.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cpp_emitter.h"
#include "generator_options.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "proto_front_end.h"

namespace natsrpc::gen {
namespace {

namespace pb = ::google::protobuf;

void Write(pb::compiler::GeneratorContext& context, const std::string& name,
           const std::string& content) {
  std::unique_ptr<pb::io::ZeroCopyOutputStream> stream(context.Open(name));
  pb::io::CodedOutputStream out(stream.get());
  out.WriteRaw(content.data(), static_cast<int>(content.size()));
}

}  // namespace

bool NatsrpcGenerator::Generate(const pb::FileDescriptor* file,
                                const std::string& parameter,
                                pb::compiler::GeneratorContext* context,
                                std::string* error) const {
  absl::StatusOr<GeneratorOptions> options = GeneratorOptions::Parse(parameter);
  if (!options.ok()) {
    *error = absl::StrCat(file->name(), ": ", options.status().message());
    return false;
  }
  absl::StatusOr<ServiceModel> model = BuildProtoModel(*file, *options);
  if (!model.ok()) {
    *error = std::string(model.status().message());
    return false;
  }
  absl::StatusOr<GeneratedFiles> files =
      EmitCpp(*model, {.mock_code = options->generate_mock_code});
  if (!files.ok()) {
    *error = std::string(files.status().message());
    return false;
  }
  Write(*context, files->header_name, files->header);
  Write(*context, files->source_name, files->source);
  if (!files->mock_header_name.empty()) {
    Write(*context, files->mock_header_name, files->mock_header);
  }
  return true;
}

bool NatsrpcGenerator::GenerateAll(
    const std::vector<const pb::FileDescriptor*>& files,
    const std::string& parameter, pb::compiler::GeneratorContext* context,
    std::string* error) const {
  for (const pb::FileDescriptor* file : files) {
    if (!Generate(file, parameter, context, error)) return false;
  }
  return true;
}

}  // namespace natsrpc::gen
