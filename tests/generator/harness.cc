// Copyright 2026 The natsrpc Authors.

#include "harness.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "generator.h"
#include "generator_options.h"
#include "google/protobuf/compiler/code_generator.h"
#include "google/protobuf/compiler/importer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto_front_end.h"

namespace natsrpc::gen::testing {
namespace {

namespace pb = ::google::protobuf;

class MemoryContext final : public pb::compiler::GeneratorContext {
 public:
  explicit MemoryContext(std::map<std::string, std::string>& files)
      : files_(files) {}
  pb::io::ZeroCopyOutputStream* Open(const std::string& filename) override {
    std::string& content = files_[filename];
    content.clear();
    return new pb::io::StringOutputStream(&content);
  }

 private:
  std::map<std::string, std::string>& files_;
};

class ErrorCollector final : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    absl::StrAppend(&errors, filename, ":", line + 1, ":", column + 1, ": ",
                    message, "\n");
  }
  std::string errors;
};

}  // namespace

GeneratorRun RunGenerator(const std::string& proto,
                          const std::string& parameter) {
  GeneratorRun run;
  pb::compiler::DiskSourceTree tree;
  tree.MapPath("", NATSRPC_SOURCE_DIR "/proto");
  tree.MapPath("", PROTOBUF_INCLUDE_DIR);
  ErrorCollector errors;
  pb::compiler::Importer importer(&tree, &errors);
  const pb::FileDescriptor* file = importer.Import(proto);
  if (file == nullptr) {
    run.error = errors.errors;
    return run;
  }
  MemoryContext context(run.files);
  NatsrpcGenerator generator;
  run.ok = generator.GenerateAll({file}, parameter, &context, &run.error);
  return run;
}

absl::StatusOr<ServiceModel> BuildModel(const std::string& proto) {
  pb::compiler::DiskSourceTree tree;
  tree.MapPath("", NATSRPC_SOURCE_DIR "/proto");
  tree.MapPath("", PROTOBUF_INCLUDE_DIR);
  ErrorCollector errors;
  pb::compiler::Importer importer(&tree, &errors);
  const pb::FileDescriptor* file = importer.Import(proto);
  if (file == nullptr) return absl::InvalidArgumentError(errors.errors);
  return BuildProtoModel(*file, GeneratorOptions());
}

std::string ReadSourceFile(const std::string& path) {
  std::ifstream in(NATSRPC_SOURCE_DIR "/" + path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output->append(buffer, n);
  }
  return pclose(pipe);
}

}  // namespace natsrpc::gen::testing
