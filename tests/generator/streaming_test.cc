// Copyright 2026 The natsrpc Authors.
//
// Streaming methods (client, server, bidi) are emitted, from the `stream`
// keywords of a .proto through the IDL-neutral model: the front end puts the
// right kind into the model, the emitter prints each kind's client calls,
// handler and registration, and a file with streaming methods includes
// <memory> while a unary-only file does not. The whole output is
// checked by the golden files (golden_test.cc,
// tests/golden/test/compile/streaming.natsrpc.*) and compiled by
// tests/compile.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cpp_emitter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "model.h"

namespace natsrpc::gen::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kStreamingProto[] = "test/compile/streaming.proto";

std::vector<StreamingKind> Kinds(const ServiceDef& service) {
  std::vector<StreamingKind> kinds;
  for (const MethodDef& m : service.methods) kinds.push_back(m.streaming);
  return kinds;
}

TEST(StreamingModelTest, StreamKeywordsGiveTheKinds) {
  absl::StatusOr<ServiceModel> model = BuildModel(kStreamingProto);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->services.size(), 2u);
  const ServiceDef& s = model->services[0];
  EXPECT_EQ(s.name, "Streamer");
  EXPECT_THAT(Kinds(s), ElementsAre(StreamingKind::kUnary,
                                    StreamingKind::kServerStreaming,
                                    StreamingKind::kClientStreaming,
                                    StreamingKind::kBidiStreaming));
  // The service's timeout, and a method's own, are the streams' deadlines.
  EXPECT_EQ(s.methods[1].timeout_ms, 30000u);
  EXPECT_EQ(s.methods[3].timeout_ms, 60000u);
  EXPECT_EQ(s.methods[3].request_type, "::natsrpc_test::streaming::Tick");
  EXPECT_EQ(s.methods[3].response_type, "::natsrpc_test::streaming::Total");
}

// Streaming methods take part in the naming rules (names.h) exactly as unary
// ones: keywords get `_`, and `X`/`XAsync` stay unique whatever the kinds.
TEST(StreamingModelTest, NamesFollowTheUnaryRules) {
  absl::StatusOr<ServiceModel> model = BuildModel(kStreamingProto);
  ASSERT_TRUE(model.ok()) << model.status();
  const ServiceDef& s = model->services[1];
  EXPECT_EQ(s.cpp_name, "class_");
  struct Expected {
    const char* wire;
    const char* call;
    const char* async;
    StreamingKind kind;
  };
  const std::vector<Expected> expected = {
      {"delete", "delete_", "delete_Async", StreamingKind::kBidiStreaming},
      {"co_yield", "co_yield_", "co_yield_Async",
       StreamingKind::kServerStreaming},
      {"assert", "assert_", "assert_Async", StreamingKind::kClientStreaming},
      {"Foo", "Foo", "FooAsync", StreamingKind::kServerStreaming},
      {"FooAsync", "FooAsync_", "FooAsync_Async",
       StreamingKind::kClientStreaming},
      {"BarAsync", "BarAsync", "BarAsyncAsync", StreamingKind::kBidiStreaming},
      {"Bar", "Bar_", "Bar_Async", StreamingKind::kUnary},
      {"Client", "Client_", "Client_Async", StreamingKind::kServerStreaming},
      {"Service", "Service_", "Service_Async", StreamingKind::kClientStreaming},
      {"channel_", "channel__", "channel__Async",
       StreamingKind::kBidiStreaming},
      {"reactor", "reactor", "reactorAsync", StreamingKind::kServerStreaming},
      {"reader", "reader", "readerAsync", StreamingKind::kClientStreaming},
      {"writer", "writer", "writerAsync", StreamingKind::kServerStreaming},
      {"stream", "stream", "streamAsync", StreamingKind::kBidiStreaming},
      {"request", "request", "requestAsync", StreamingKind::kServerStreaming},
      {"response", "response", "responseAsync",
       StreamingKind::kClientStreaming},
      {"context", "context", "contextAsync", StreamingKind::kBidiStreaming},
      {"options", "options", "optionsAsync", StreamingKind::kBidiStreaming},
  };
  ASSERT_EQ(s.methods.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(s.methods[i].name, expected[i].wire);
    EXPECT_EQ(s.methods[i].cpp_name, expected[i].call) << expected[i].wire;
    EXPECT_EQ(s.methods[i].cpp_async_name, expected[i].async)
        << expected[i].wire;
    EXPECT_EQ(s.methods[i].streaming, expected[i].kind) << expected[i].wire;
  }
}

TEST(StreamingEmitTest, EveryKindHasItsCallsHandlerAndRegistration) {
  GeneratorRun run = RunGenerator(kStreamingProto);
  ASSERT_TRUE(run.ok) << run.error;
  ASSERT_EQ(run.files.size(), 2u);
  const std::string& h = run.files["test/compile/streaming.natsrpc.h"];
  const std::string& cc = run.files["test/compile/streaming.natsrpc.cc"];
  const std::string tick = "::natsrpc_test::streaming::Tick";
  const std::string total = "::natsrpc_test::streaming::Total";
  const std::string codec = "::natsrpc::ProtobufCodec";

  EXPECT_THAT(h, HasSubstr("#include <memory>\n"));
  EXPECT_THAT(h, HasSubstr("#include \"natsrpc/impl/codegen.h\"\n"));

  // Unary, beside the streams.
  EXPECT_THAT(h, HasSubstr(absl::StrCat("::absl::StatusOr<", tick, "> Echo(")));
  // Server streaming.
  EXPECT_THAT(h,
              HasSubstr(absl::StrCat("::std::unique_ptr<::natsrpc::"
                                     "ClientReader<",
                                     tick, ", ", codec, ">> Watch(\n",
                                     "        const ", tick, "& request,\n")));
  EXPECT_THAT(
      h, HasSubstr(absl::StrCat(
             "void WatchAsync(\n        const ", tick, "& request,\n",
             "        ::natsrpc::ClientReadReactor<", tick, ">* reactor,")));
  EXPECT_THAT(h, HasSubstr(absl::StrCat("const ", tick, "& request,\n",
                                        "        ::natsrpc::ServerWriter<",
                                        tick, ", ", codec, ">& writer);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat("::natsrpc::internal::OpenServerStream<", codec,
                                         ", ", tick,
                                         ">(\n      channel_, 1, "
                                         "request, options);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat("::natsrpc::internal::StartServerStream<", codec,
                                         ", ", tick,
                                         ">(\n      "
                                         "channel_, 1, request, reactor, "
                                         "options);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat(
                      "MakeServerStreamHandler<", codec,
                      ">(\n          &Streamer::Service::Watch));")));
  // Client streaming.
  EXPECT_THAT(h, HasSubstr(absl::StrCat(
                     "::std::unique_ptr<::natsrpc::ClientWriter<", tick, ", ",
                     total, ", ", codec, ">> Sum(\n",
                     "        const ::natsrpc::CallOptions& options = {});")));
  EXPECT_THAT(h, HasSubstr(absl::StrCat("void SumAsync(\n        ::natsrpc::"
                                        "ClientWriteReactor<",
                                        tick, ", ", total, ">* reactor,")));
  EXPECT_THAT(h, HasSubstr(absl::StrCat("::natsrpc::ServerReader<", tick, ", ",
                                        codec, ">& reader,\n        ", total,
                                        "& response);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat("::natsrpc::internal::OpenClientStream<", codec,
                                         ", ", tick, ", ", total,
                                         ">(\n      channel_, 2, options);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat("::natsrpc::internal::StartClientStream<", codec,
                                         ", ", tick, ", ", total,
                                         ">(\n      channel_, 2, reactor, "
                                         "options);")));
  EXPECT_THAT(
      cc, HasSubstr(absl::StrCat("MakeClientStreamHandler<", codec,
                                 ">(\n          &Streamer::Service::Sum));")));
  // Bidi.
  EXPECT_THAT(h, HasSubstr(absl::StrCat(
                     "::std::unique_ptr<::natsrpc::ClientReaderWriter<", tick,
                     ", ", total, ", ", codec, ">> Chat(\n",
                     "        const ::natsrpc::CallOptions& options = {});")));
  EXPECT_THAT(h, HasSubstr(absl::StrCat("void ChatAsync(\n        ::natsrpc::"
                                        "ClientBidiReactor<",
                                        tick, ", ", total, ">* reactor,")));
  EXPECT_THAT(h, HasSubstr(absl::StrCat(
                     "::natsrpc::ServerContext& context,\n"
                     "        ::natsrpc::ServerReaderWriter<",
                     tick, ", ", total, ", ", codec, ">& stream);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat("::natsrpc::internal::OpenBidiStream<", codec,
                                         ", ", tick, ", ", total,
                                         ">(\n      channel_, 3, options);")));
  EXPECT_THAT(cc, HasSubstr(absl::StrCat("::natsrpc::internal::StartBidiStream<", codec,
                                         ", ", tick, ", ", total,
                                         ">(\n      channel_, 3, reactor, "
                                         "options);")));
  EXPECT_THAT(
      cc, HasSubstr(absl::StrCat("MakeBidiStreamHandler<", codec,
                                 ">(\n          &Streamer::Service::Chat));")));

  // Every method has its row; the timeout is the stream's default deadline.
  EXPECT_THAT(cc, HasSubstr(
          "    {\"Echo\", ::absl::Milliseconds(30000), "
          "::natsrpc::CallKind::kUnary},\n"
          "    {\"Watch\", ::absl::Milliseconds(30000), "
          "::natsrpc::CallKind::kServerStreaming},\n"
          "    {\"Sum\", ::absl::Milliseconds(30000), "
          "::natsrpc::CallKind::kClientStreaming},\n"
          "    {\"Chat\", ::absl::Milliseconds(60000), "
          "::natsrpc::CallKind::kBidiStreaming},\n"));
  // Unimplemented streaming handlers answer with their wire name.
  EXPECT_THAT(cc, HasSubstr("Unimplemented(kServiceName, \"delete\")"));
  EXPECT_THAT(cc, HasSubstr("RegisterMethod(\n      \"co_yield\",\n      "
                            "::natsrpc::internal::MakeServerStreamHandler<"));
}

TEST(StreamingEmitTest, EscapedAndMovedNamesKeepWireNames) {
  GeneratorRun run = RunGenerator(kStreamingProto);
  ASSERT_TRUE(run.ok) << run.error;
  const std::string& h = run.files["test/compile/streaming.natsrpc.h"];
  const std::string& cc = run.files["test/compile/streaming.natsrpc.cc"];
  for (const char* decl : {">> delete_(",
                           "void delete_Async(",
                           ">> co_yield_(",
                           "void co_yield_Async(",
                           ">> assert_(",
                           ">> Foo(",
                           "void FooAsync(",
                           ">> FooAsync_(",
                           "void FooAsync_Async(",
                           ">> BarAsync(",
                           "void BarAsyncAsync(",
                           "> Bar_(",
                           "::natsrpc::CallHandle Bar_Async(",
                           ">> Client_(",
                           ">> Service_(",
                           ">> channel__(",
                           ">> reactor(",
                           "void reactorAsync(",
                           ">> reader(",
                           ">> writer(",
                           ">> stream(",
                           ">> request(",
                           ">> response(",
                           ">> context(",
                           ">> options(",
                           "virtual ::absl::Status delete_(",
                           "virtual ::absl::Status FooAsync_("}) {
    EXPECT_THAT(h, HasSubstr(decl));
  }
  for (const char* row : {"{\"delete\",", "{\"FooAsync\",", "{\"Bar\",",
                          "{\"channel_\",", "{\"stream\","}) {
    EXPECT_THAT(cc, HasSubstr(row));
  }
  EXPECT_THAT(cc, HasSubstr("&class_::Service::FooAsync_));"));
  EXPECT_THAT(cc, HasSubstr("void class_::Client::FooAsync_Async("));
}

// Unary-only files do not include <memory>.
TEST(StreamingEmitTest, UnaryOnlyFileDoesNotIncludeMemory) {
  GeneratorRun run = RunGenerator("example/v1/calculator.proto");
  ASSERT_TRUE(run.ok) << run.error;
  const std::string& h = run.files["example/v1/calculator.natsrpc.h"];
  EXPECT_THAT(h, HasSubstr("#include \"natsrpc/impl/codegen.h\"\n"));
  EXPECT_THAT(h, Not(HasSubstr("<memory>")));
}

TEST(StreamingEmitTest, ProtocRunsThePluginOnStreamingMethods) {
  const std::string out = ::testing::TempDir();
  std::string output;
  const std::string command =
      absl::StrCat("'", PROTOC_EXECUTABLE,
                   "' '--plugin=protoc-gen-natsrpc=", NATSRPC_PLUGIN_EXECUTABLE,
                   "' '--natsrpc_out=", out, "' '-I", NATSRPC_SOURCE_DIR,
                   "/proto' '-I", PROTOBUF_INCLUDE_DIR, "' ", kStreamingProto);
  EXPECT_EQ(RunCommand(command, &output), 0) << command << "\n" << output;
  EXPECT_EQ(output, "");
}

// The emitter prints streaming methods whichever front end built the model:
// it looks at the kind, never at the IDL.
TEST(StreamingEmitTest, EmitterPrintsAStreamingModelFromAnyFrontEnd) {
  ServiceModel model;
  model.idl_file = "example/chat.fbs";
  model.header_file = "example/chat.natsrpc.h";
  model.source_file = "example/chat.natsrpc.cc";
  model.header_include = model.header_file;
  ServiceDef service;
  service.name = service.cpp_name = "Chat";
  service.full_name = "example.Chat";
  service.app = "example";
  service.method_table_name = "kChatMethods";
  MethodDef method;
  method.name = method.cpp_name = "Stream";
  method.cpp_async_name = "StreamAsync";
  method.request_type = "::M";
  method.response_type = "::R";
  method.codec = "::C";
  method.streaming = StreamingKind::kServerStreaming;
  service.methods.push_back(method);
  model.services.push_back(service);
  absl::StatusOr<GeneratedFiles> files = EmitCpp(model);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(files->header,
              HasSubstr("::std::unique_ptr<::natsrpc::ClientReader<::R, ::C>> "
                        "Stream(\n        const ::M& request,"));
  EXPECT_THAT(files->header,
              HasSubstr("::natsrpc::ServerWriter<::R, ::C>& writer);"));
  EXPECT_THAT(files->source,
              HasSubstr("::natsrpc::internal::StartServerStream<::C, ::R>(\n      "
                        "channel_, 0, request, reactor, options);"));
}

}  // namespace
}  // namespace natsrpc::gen::testing
