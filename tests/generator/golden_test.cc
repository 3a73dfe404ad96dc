// Copyright 2026 The natsrpc Authors.
//
// The generated code for proto/example/v1/calculator.proto and
// proto/test/compile/streaming.proto must equal tests/golden/<same path
// as .natsrpc.{h,cc}>, both when the generator runs in-process and when
// protoc runs the built plugin. After an intended change of the generated
// code, regenerate the golden files with
//
//   cmake --build <build dir> --target regenerate_golden
//
// and review the diff.

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "harness.h"

namespace natsrpc::gen::testing {
namespace {

constexpr char kRegenerate[] =
    "Golden file out of date. If the change is intended, regenerate with:\n"
    "  " NATSRPC_REGENERATE_GOLDEN_COMMAND "\nand review the diff.";

// Reports the first differing line rather than two whole files.
void ExpectMatchesGolden(const std::string& generated,
                         const std::string& golden_path) {
  const std::string golden = ReadSourceFile(golden_path);
  ASSERT_FALSE(golden.empty()) << golden_path << " is missing";
  if (generated == golden) return;
  const std::vector<std::string> got = absl::StrSplit(generated, '\n');
  const std::vector<std::string> want = absl::StrSplit(golden, '\n');
  size_t line = 0;
  while (line < got.size() && line < want.size() && got[line] == want[line]) {
    ++line;
  }
  ADD_FAILURE() << golden_path << " differs from the generated code at line "
                << line + 1 << ":\n  generated: "
                << (line < got.size() ? got[line] : "<end of file>")
                << "\n  golden:    "
                << (line < want.size() ? want[line] : "<end of file>") << "\n"
                << kRegenerate;
}

// The .proto files with golden files (tests/golden/<name>.natsrpc.{h,cc}):
// the example (unary) and every streaming kind.
constexpr const char* kGoldenProtos[] = {"example/v1/calculator.proto",
                                         "example/v1/fleet.proto",
                                         "test/compile/streaming.proto",
                                         "test/compile/durable.proto"};

class GoldenTest : public ::testing::TestWithParam<const char*> {
 protected:
  // "example/v1/calculator.proto" -> "example/v1/calculator.natsrpc"
  static std::string Base() {
    std::string name = GetParam();
    return name.substr(0, name.rfind('.')) + ".natsrpc";
  }
};

TEST_P(GoldenTest, InProcessMatchesGolden) {
  GeneratorRun run = RunGenerator(GetParam());
  ASSERT_TRUE(run.ok) << run.error;
  ASSERT_EQ(run.files.size(), 2u);
  for (const char* suffix : {".h", ".cc"}) {
    const std::string name = Base() + suffix;
    ExpectMatchesGolden(run.files[name], "tests/golden/" + name);
  }
}

TEST_P(GoldenTest, ProtocPluginMatchesGolden) {
  const std::string out =
      absl::StrCat(::testing::TempDir(), "/golden_protoc_", ::getpid());
  std::string output;
  ASSERT_EQ(RunCommand(absl::StrCat("mkdir -p '", out, "'"), &output), 0);
  const std::string command =
      absl::StrCat("'", PROTOC_EXECUTABLE,
                   "' '--plugin=protoc-gen-natsrpc=", NATSRPC_PLUGIN_EXECUTABLE,
                   "' '--natsrpc_out=", out, "' '-I", NATSRPC_SOURCE_DIR,
                   "/proto' '-I", PROTOBUF_INCLUDE_DIR, "' ", GetParam());
  ASSERT_EQ(RunCommand(command, &output), 0) << command << "\n" << output;
  for (const char* suffix : {".h", ".cc"}) {
    const std::string name = Base() + suffix;
    std::string generated;
    ASSERT_EQ(
        RunCommand(absl::StrCat("cat '", out, "/", name, "'"), &generated), 0);
    ExpectMatchesGolden(generated, "tests/golden/" + name);
  }
}

INSTANTIATE_TEST_SUITE_P(Protos, GoldenTest, ::testing::ValuesIn(kGoldenProtos),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           name = name.substr(name.rfind('/') + 1);
                           return name.substr(0, name.find('.'));
                         });

// generate_mock_code=true: the same files with Svc::ClientInterface, plus
// the gMock header, against tests/golden/mock/.
TEST_P(GoldenTest, MockCodeMatchesGolden) {
  GeneratorRun run = RunGenerator(GetParam(), "generate_mock_code=true");
  ASSERT_TRUE(run.ok) << run.error;
  ASSERT_EQ(run.files.size(), 3u);
  for (const char* suffix : {".h", ".cc", "_mock.h"}) {
    const std::string name = Base() + suffix;
    ExpectMatchesGolden(run.files[name], "tests/golden/mock/" + name);
  }
}

// Build systems predict the outputs from the input names: a file without
// services still yields both files.
TEST(OutputContractTest, FileWithoutServiceYieldsBothFiles) {
  GeneratorRun run = RunGenerator("test/compile/no_service.proto");
  ASSERT_TRUE(run.ok) << run.error;
  ASSERT_EQ(run.files.size(), 2u);
  const std::string& h = run.files["test/compile/no_service.natsrpc.h"];
  const std::string& cc = run.files["test/compile/no_service.natsrpc.cc"];
  EXPECT_TRUE(absl::StartsWith(
      h, "// Generated by protoc-gen-natsrpc. DO NOT EDIT.\n"));
  EXPECT_TRUE(absl::StrContains(
      h, "#ifndef NATSRPC_GENERATED_TEST_COMPILE_NO_SERVICE_NATSRPC_H_\n"));
  EXPECT_TRUE(
      absl::StrContains(h, "#include \"test/compile/no_service.pb.h\"\n"));
  EXPECT_FALSE(absl::StrContains(h, "natsrpc/impl/codegen.h"));
  EXPECT_TRUE(
      absl::StrContains(cc, "#include \"test/compile/no_service.natsrpc.h\""));
}

TEST(OutputContractTest, MockCodeYieldsAMockHeaderForEveryFile) {
  GeneratorRun run =
      RunGenerator("test/compile/no_service.proto", "generate_mock_code=true");
  ASSERT_TRUE(run.ok) << run.error;
  ASSERT_EQ(run.files.size(), 3u);
  const std::string& mock = run.files["test/compile/no_service.natsrpc_mock.h"];
  EXPECT_TRUE(absl::StrContains(
      mock, "#include \"test/compile/no_service.natsrpc.h\"\n"));
  EXPECT_FALSE(absl::StrContains(mock, "#include \"gmock"));
}

TEST(OptionsTest, MockCodeOffLeavesTheOutputUnchanged) {
  GeneratorRun off = RunGenerator("example/v1/calculator.proto",
                                  "generate_mock_code=false");
  GeneratorRun plain = RunGenerator("example/v1/calculator.proto");
  ASSERT_TRUE(off.ok && plain.ok) << off.error << plain.error;
  EXPECT_EQ(off.files, plain.files);
  EXPECT_FALSE(absl::StrContains(
      plain.files["example/v1/calculator.natsrpc.h"], "ClientInterface"));
}

TEST(OptionsTest, MockCodeValueMustBeABoolean) {
  GeneratorRun run =
      RunGenerator("example/v1/calculator.proto", "generate_mock_code=yes");
  EXPECT_FALSE(run.ok);
  EXPECT_TRUE(absl::StrContains(
      run.error, "generate_mock_code\": \"yes\" is not true or false"))
      << run.error;
}

TEST(OptionsTest, MostSpecificTimeoutAndAppWin) {
  GeneratorRun run = RunGenerator("test/options/options.proto");
  ASSERT_TRUE(run.ok) << run.error;
  const std::string& h = run.files["test/options/options.natsrpc.h"];
  const std::string& cc = run.files["test/options/options.natsrpc.cc"];
  EXPECT_TRUE(absl::StrContains(h, "kDefaultApp[] = \"file-app\""));
  EXPECT_TRUE(absl::StrContains(h, "kDefaultApp[] = \"service_app\""));
  EXPECT_TRUE(absl::StrContains(cc, R"({"FromFile", ::absl::Milliseconds(3000), ::natsrpc::CallKind::kUnary},
    {"FromMethod", ::absl::Milliseconds(100), ::natsrpc::CallKind::kUnary},)"))
      << cc;
  EXPECT_TRUE(
      absl::StrContains(cc, R"({"FromService", ::absl::Milliseconds(2000), ::natsrpc::CallKind::kUnary},
    {"FromMethod", ::absl::Milliseconds(250), ::natsrpc::CallKind::kUnary},)"))
      << cc;
}

TEST(OptionsTest, DefaultsWithoutOptions) {
  GeneratorRun run = RunGenerator("test/options/no_options.proto");
  ASSERT_TRUE(run.ok) << run.error;
  EXPECT_TRUE(
      absl::StrContains(run.files["test/options/no_options.natsrpc.h"],
                        "kDefaultApp[] = \"natsrpc_test_options_plain\""));
  EXPECT_TRUE(absl::StrContains(run.files["test/options/no_options.natsrpc.cc"],
                                "{\"Call\", ::absl::ZeroDuration(), "
                                "::natsrpc::CallKind::kUnary},"));
}

TEST(OptionsTest, NoPackageGivesGlobalNamespaceAndDefaultApp) {
  GeneratorRun run = RunGenerator("test/compile/no_package.proto");
  ASSERT_TRUE(run.ok) << run.error;
  const std::string& h = run.files["test/compile/no_package.natsrpc.h"];
  EXPECT_FALSE(absl::StrContains(h, "namespace "));
  EXPECT_TRUE(absl::StrContains(h, "kDefaultApp[] = \"default\""));
  EXPECT_TRUE(absl::StrContains(h, "class absl_ final"));
  EXPECT_TRUE(absl::StrContains(h, "class std_ final"));
  EXPECT_TRUE(absl::StrContains(h, "::NoPackageRequest& request"));
}

TEST(OptionsTest, MessageHeaderExtension) {
  GeneratorRun run = RunGenerator("example/v1/calculator.proto",
                                  "message_header_extension=.proto.h");
  ASSERT_TRUE(run.ok) << run.error;
  EXPECT_TRUE(
      absl::StrContains(run.files["example/v1/calculator.natsrpc.h"],
                        "#include \"example/v1/calculator.proto.h\"\n"));
}

TEST(NamingTest, EscapedIdentifiersKeepWireNames) {
  GeneratorRun run = RunGenerator("test/compile/keywords.proto");
  ASSERT_TRUE(run.ok) << run.error;
  const std::string& h = run.files["test/compile/keywords.natsrpc.h"];
  const std::string& cc = run.files["test/compile/keywords.natsrpc.cc"];
  EXPECT_TRUE(absl::StrContains(h, "class delete_ final"));
  EXPECT_TRUE(absl::StrContains(h, "kServiceName[] = \"delete\""));
  // protoc already spells message `class_` so: the service class moves on.
  EXPECT_TRUE(absl::StrContains(h, "class class__ final"));
  EXPECT_TRUE(
      absl::StrContains(h, "::natsrpc_test::keywords::new__int> new_("));
  EXPECT_TRUE(absl::StrContains(h, "::natsrpc::CallHandle co_await_Async("));
  EXPECT_TRUE(absl::StrContains(cc, "{\"co_await\", ::absl::ZeroDuration(), "
                                     "::natsrpc::CallKind::kUnary},"));
  EXPECT_TRUE(absl::StrContains(cc, "Unimplemented(kServiceName, \"assert\")"));
}

TEST(NamingTest, CollisionsResolveInOrder) {
  GeneratorRun run = RunGenerator("test/compile/collisions.proto");
  ASSERT_TRUE(run.ok) << run.error;
  const std::string& h = run.files["test/compile/collisions.natsrpc.h"];
  const std::string& cc = run.files["test/compile/collisions.natsrpc.cc"];
  for (const char* decl : {"> Client_(",
                           "> Service_(",
                           "> Stub(",
                           "> Call(",
                           "> status_(",
                           "> stats_(",
                           "> kServiceName_(",
                           "> kDefaultApp_(",
                           "> channel__(",
                           "> service_name_(",
                           "> default_app_(",
                           "> RegisterMethod_(",
                           "> Add(",
                           "CallHandle AddAsync(",
                           "> AddAsync_(",
                           "CallHandle AddAsync_Async(",
                           "> AddAsync__(",
                           "> Get(",
                           "> get(",
                           "> kCollideMethods(",
                           "> ClientInterface_(",
                           "> MockClient_(",
                           "> Watch(",
                           "> WatchRaw_(",
                           "class ClientInterface_ final",
                           "class MockClient_ final",
                           "class Client_ final",
                           "class Service_ final",
                           "class Stub final",
                           "class Call final"}) {
    EXPECT_TRUE(absl::StrContains(h, decl)) << decl;
  }
  EXPECT_TRUE(absl::StrContains(
      cc, "constexpr ::natsrpc::internal::MethodSpec kCollideMethods_[]"));
  EXPECT_TRUE(
      absl::StrContains(cc, "{\"AddAsync_\", ::absl::ZeroDuration(), "
                            "::natsrpc::CallKind::kUnary},"));
  // A service without methods has no (zero-length) table.
  EXPECT_TRUE(
      absl::StrContains(cc, "::absl::Span<const ::natsrpc::internal::MethodSpec>()"));
}

}  // namespace
}  // namespace natsrpc::gen::testing
