// Copyright 2026 The natsrpc Authors.
//
// Generation errors name the file and the service, method, option or key at
// fault, and nothing is written.

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cpp_emitter.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "model.h"

namespace natsrpc::gen::testing {
namespace {

struct StreamingCase {
  const char* proto;
  const char* kind;
};

class StreamingTest : public ::testing::TestWithParam<StreamingCase> {};

TEST_P(StreamingTest, FailsNamingFileServiceAndMethod) {
  GeneratorRun run = RunGenerator(GetParam().proto);
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            absl::StrCat(GetParam().proto,
                         ": service natsrpc_test.errors.Chat, method Stream: "
                         "streaming methods are not supported yet (",
                         GetParam().kind, ")"));
  EXPECT_TRUE(run.files.empty());
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, StreamingTest,
    ::testing::Values(
        StreamingCase{"test/errors/client_streaming.proto", "client streaming"},
        StreamingCase{"test/errors/server_streaming.proto", "server streaming"},
        StreamingCase{"test/errors/bidi_streaming.proto",
                      "bidirectional streaming"}));

TEST(StreamingTest, ProtocReportsTheErrorAndFails) {
  std::string output;
  const std::string command = absl::StrCat(
      "'", PROTOC_EXECUTABLE,
      "' '--plugin=protoc-gen-natsrpc=", NATSRPC_PLUGIN_EXECUTABLE,
      "' '--natsrpc_out=", ::testing::TempDir(), "' '-I", NATSRPC_SOURCE_DIR,
      "/proto' test/errors/client_streaming.proto");
  EXPECT_NE(RunCommand(command, &output), 0);
  EXPECT_TRUE(absl::StrContains(
      output,
      "test/errors/client_streaming.proto: service natsrpc_test.errors.Chat, "
      "method Stream: streaming methods are not supported yet (client "
      "streaming)"))
      << output;
}

// The emitter rejects streaming whichever front end built the model.
TEST(StreamingTest, EmitterRejectsStreamingModel) {
  ServiceModel model;
  model.idl_file = "example/chat.fbs";
  model.header_file = "example/chat.natsrpc.h";
  model.source_file = "example/chat.natsrpc.cc";
  model.header_include = model.header_file;
  ServiceDef service;
  service.name = service.cpp_name = "Chat";
  service.full_name = "example.Chat";
  service.app = "example";
  MethodDef method;
  method.name = method.cpp_name = "Stream";
  method.streaming = StreamingKind::kServerStreaming;
  service.methods.push_back(method);
  model.services.push_back(service);
  absl::StatusOr<GeneratedFiles> files = EmitCpp(model);
  EXPECT_EQ(files.status().message(),
            "example/chat.fbs: service example.Chat, method Stream: streaming "
            "methods are not supported yet (server streaming)");
}

TEST(OptionsErrorTest, UnknownKeyIsNamed) {
  GeneratorRun run = RunGenerator("example/v1/calculator.proto",
                                  "message_header_extension=.pb.h,lite");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            "example/v1/calculator.proto: unknown --natsrpc_opt key \"lite\" "
            "(known keys: message_header_extension)");
  EXPECT_TRUE(run.files.empty());
}

TEST(OptionsErrorTest, UnknownKeyWithValueIsNamed) {
  GeneratorRun run =
      RunGenerator("example/v1/calculator.proto", "include_prefix=foo/");
  EXPECT_FALSE(run.ok);
  EXPECT_TRUE(absl::StrContains(run.error,
                                "unknown --natsrpc_opt key \"include_prefix\""))
      << run.error;
}

TEST(OptionsErrorTest, BadHeaderExtensionIsNamed) {
  GeneratorRun run = RunGenerator("example/v1/calculator.proto",
                                  "message_header_extension=a\"b");
  EXPECT_FALSE(run.ok);
  EXPECT_TRUE(
      absl::StrContains(run.error,
                        "example/v1/calculator.proto: --natsrpc_opt key "
                        "\"message_header_extension\""))
      << run.error;
}

TEST(AppErrorTest, InvalidFileAppNamesFileAndOption) {
  GeneratorRun run = RunGenerator("test/errors/bad_file_app.proto");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            "test/errors/bad_file_app.proto: option (natsrpc.file).app "
            "\"bad.app\" is not a valid subject token: character '.' at "
            "offset 3 is not one of [A-Za-z0-9_-]");
  EXPECT_TRUE(run.files.empty());
}

TEST(AppErrorTest, InvalidServiceAppNamesFileServiceAndOption) {
  GeneratorRun run = RunGenerator("test/errors/bad_service_app.proto");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(
      run.error,
      "test/errors/bad_service_app.proto: service natsrpc_test.errors.Bad: "
      "option (natsrpc.service).app \"has space\" is not a valid subject "
      "token: character ' ' at offset 3 is not one of [A-Za-z0-9_-]");
  EXPECT_TRUE(run.files.empty());
}

}  // namespace
}  // namespace natsrpc::gen::testing
