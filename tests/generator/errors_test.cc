// Copyright 2026 The natsrpc Authors.
//
// Generation errors name the file and the service, method, option or key at
// fault, and nothing is written. (Streaming methods are no longer an error:
// streaming_test.cc.)

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "harness.h"

namespace natsrpc::gen::testing {
namespace {

TEST(OptionsErrorTest, UnknownKeyIsNamed) {
  GeneratorRun run = RunGenerator("example/v1/calculator.proto",
                                  "message_header_extension=.pb.h,lite");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            "example/v1/calculator.proto: unknown --natsrpc_opt key \"lite\" "
            "(known keys: message_header_extension, generate_mock_code)");
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

TEST(DurableErrorTest, DurableStreamingMethodNamesFileServiceAndMethod) {
  GeneratorRun run = RunGenerator("test/errors/durable_stream.proto");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            "test/errors/durable_stream.proto: service "
            "natsrpc_test.errors.DurableStream, method Watch: only unary "
            "methods can be durable");
  EXPECT_TRUE(run.files.empty());
}

// Events (docs/protocol.md 13): unary only; broadcast only for events.
TEST(EventErrorTest, StreamingEventNamesFileServiceAndMethod) {
  GeneratorRun run = RunGenerator("test/errors/streaming_event.proto");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            "test/errors/streaming_event.proto: service "
            "natsrpc_test.errors.Events, method Feed: an event method cannot "
            "stream");
  EXPECT_TRUE(run.files.empty());
}

TEST(EventErrorTest, BroadcastOfACallNamesFileServiceAndMethod) {
  GeneratorRun run = RunGenerator("test/errors/broadcast_call.proto");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error,
            "test/errors/broadcast_call.proto: service "
            "natsrpc_test.errors.Calls, method Call: broadcast applies to "
            "event methods only");
  EXPECT_TRUE(run.files.empty());
}

}  // namespace
}  // namespace natsrpc::gen::testing
