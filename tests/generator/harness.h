// Copyright 2026 The natsrpc Authors.
//
// Runs protoc-gen-natsrpc in-process on a .proto of this source tree: parses
// it with compiler::Importer over a DiskSourceTree (proto/ and protobuf's
// include directory), then calls the generator with an in-memory
// GeneratorContext.

#ifndef NATSRPC_TESTS_GENERATOR_HARNESS_H_
#define NATSRPC_TESTS_GENERATOR_HARNESS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "model.h"

namespace natsrpc::gen::testing {

struct GeneratorRun {
  bool ok = false;
  // The generator's error, or the parser's errors.
  std::string error;
  // File name -> content.
  std::map<std::string, std::string> files;
};

// `proto` is relative to proto/, e.g. "example/v1/calculator.proto".
GeneratorRun RunGenerator(const std::string& proto,
                          const std::string& parameter = "");

// The model the protobuf front end builds for `proto` (relative to proto/),
// as the generator would see it; parser errors are INVALID_ARGUMENT.
absl::StatusOr<ServiceModel> BuildModel(const std::string& proto);

// The content of a file of this source tree (path relative to its root).
std::string ReadSourceFile(const std::string& path);

// Runs a shell command; returns its exit status and fills `output` with its
// stdout and stderr.
int RunCommand(const std::string& command, std::string* output);

}  // namespace natsrpc::gen::testing

#endif  // NATSRPC_TESTS_GENERATOR_HARNESS_H_
