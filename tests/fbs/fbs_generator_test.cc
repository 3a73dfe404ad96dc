// Copyright 2026 The natsrpc Authors.
//
// The .fbs front end and the natsrpc-fbs command:
//
//  - fbs/example/calculator.fbs and fbs/test/compile/streaming.fbs (every
//    streaming kind) generate tests/golden/fbs/<name>.natsrpc.* in-process
//    and through the binary. After an intended change, regenerate with
//    `cmake --build <build dir> --target regenerate_golden` and review the
//    diff.
//  - The same services from .proto (tests/golden/example/v1/,
//    tests/golden/test/compile/) and .fbs differ only in file names,
//    includes, type spellings, codec and embedded schema.
//  - The `streaming` attribute gives the streaming kinds; other values are
//    refused.
//  - Bad schemas: exit status 1, one clear line naming file:line, service,
//    method and value, and no output written or overwritten.
//  - flatc's keyword escaping as natsrpc-fbs assumes it.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cpp_emitter.h"
#include "fbs_command.h"
#include "fbs_front_end.h"
#include "flatbuffers/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "names.h"

namespace natsrpc::gen {
namespace {

using ::testing::HasSubstr;

constexpr char kRegenerate[] =
    "Golden file out of date. If the change is intended, regenerate with:\n"
    "  " NATSRPC_REGENERATE_GOLDEN_COMMAND "\nand review the diff.";

const std::string kSource = NATSRPC_SOURCE_DIR;
const std::string kFbs = kSource + "/fbs";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Exit status of a shell command; `output` gets its stdout and stderr.
int RunShell(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output->append(buffer, n);
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string TempDir(absl::string_view name) {
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/natsrpc_fbs_", name, "_", getpid());
  std::string ignored;
  RunShell(absl::StrCat("rm -rf '", dir, "' && mkdir -p '", dir, "'"),
           &ignored);
  return dir;
}

// Reports the first differing line rather than two whole files.
void ExpectSameText(const std::string& got, const std::string& want,
                    const std::string& what) {
  if (got == want) return;
  const std::vector<std::string> g = absl::StrSplit(got, '\n');
  const std::vector<std::string> w = absl::StrSplit(want, '\n');
  size_t line = 0;
  while (line < g.size() && line < w.size() && g[line] == w[line]) ++line;
  ADD_FAILURE() << what << " differs at line " << line + 1
                << ":\n  got:  " << (line < g.size() ? g[line] : "<end>")
                << "\n  want: " << (line < w.size() ? w[line] : "<end>");
}

// A schema with golden files in tests/golden/fbs/, and the .proto
// describing the same services (golden files in tests/golden/<its path>).
struct GoldenPair {
  const char* fbs;                   // relative to fbs/
  const char* proto;                 // relative to proto/
  const char* proto_package_prefix;  // "::example::v1::"
  std::vector<const char*> types;    // the messages/tables used
};

const std::vector<GoldenPair>& GoldenPairs() {
  static const auto* const kPairs = new std::vector<GoldenPair>{
      {"example/calculator.fbs",
       "example/v1/calculator.proto",
       "::example::v1::",
       {"AddRequest", "AddReply", "DivideRequest", "DivideReply",
        "EchoMessage"}},
      // Events and scatter-gather (docs/protocol.md 13).
      {"example/fleet.fbs",
       "example/v1/fleet.proto",
       "::example::v1::",
       {"StatusRequest", "StatusReply", "AlarmEvent", "JobEvent", "Ack"}},
      // Every streaming kind, and streaming methods with escaped names.
      {"test/compile/streaming.fbs",
       "test/compile/streaming.proto",
       "::natsrpc_test::streaming::",
       {"Tick", "Total"}},
      // Durable requests: the generated DurableClient.
      {"test/compile/durable.fbs",
       "test/compile/durable.proto",
       "::natsrpc_test::durable::",
       {"Job", "JobResult"}},
  };
  return *kPairs;
}

std::string Stem(absl::string_view path) {
  path = path.substr(path.rfind('/') + 1);
  return std::string(path.substr(0, path.find('.')));
}

class FbsGoldenTest : public ::testing::TestWithParam<GoldenPair> {};

TEST_P(FbsGoldenTest, InProcessMatchesGolden) {
  const std::string stem = Stem(GetParam().fbs);
  absl::StatusOr<ServiceModel> model =
      BuildFbsModel(absl::StrCat(kFbs, "/", GetParam().fbs), {kFbs});
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<GeneratedFiles> files = EmitCpp(*model);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->header_name, stem + ".natsrpc.h");
  EXPECT_EQ(files->source_name, stem + ".natsrpc.cc");
  ExpectSameText(
      files->header,
      ReadFile(absl::StrCat(kSource, "/tests/golden/fbs/", stem, ".natsrpc.h")),
      absl::StrCat("golden ", stem, ".natsrpc.h. ", kRegenerate));
  ExpectSameText(files->source,
                 ReadFile(absl::StrCat(kSource, "/tests/golden/fbs/", stem,
                                       ".natsrpc.cc")),
                 absl::StrCat("golden ", stem, ".natsrpc.cc. ", kRegenerate));
}

TEST_P(FbsGoldenTest, CommandMatchesGolden) {
  const std::string stem = Stem(GetParam().fbs);
  const std::string out = TempDir("golden");
  std::string output;
  const std::string command =
      absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' -I '", kFbs, "' -o '", out,
                   "/gen' '", kFbs, "/", GetParam().fbs, "'");
  ASSERT_EQ(RunShell(command, &output), 0) << command << "\n" << output;
  EXPECT_EQ(output, "");
  for (const char* suffix : {".h", ".cc"}) {
    const std::string name = absl::StrCat(stem, ".natsrpc", suffix);
    ExpectSameText(ReadFile(out + "/gen/" + name),
                   ReadFile(kSource + "/tests/golden/fbs/" + name),
                   absl::StrCat("golden ", name, ". ", kRegenerate));
  }
}

// The embedded schemas (docs/protocol.md section 12) differ by nature, a
// FileDescriptorSet and a binary schema: without the byte array and with one
// encoding name, the rest must match.
std::string WithoutSchemaBytes(std::string text) {
  const size_t begin = text.find("// The schema of ");
  if (begin != std::string::npos) {
    const size_t end = text.find("};\n", begin);
    if (end != std::string::npos) text.erase(begin, end + 3 - begin);
  }
  return absl::StrReplaceAll(
      text, {{"::natsrpc::SchemaEncoding::kProtobufFileDescriptorSet",
              "::natsrpc::SchemaEncoding::kFlatBuffersBinarySchema"}});
}

// The same services described in .proto and .fbs: rewriting the proto output
// where the codec differs (file names, includes, message type spellings and
// the codec) gives the fbs output exactly, but for the embedded schema. So
// everything else (doc comments, namespaces, app, timeouts, the method table,
// the API shape of unary and of every streaming kind) is the same.
TEST_P(FbsGoldenTest, ProtoAndFbsOutputsDifferOnlyWhereTheCodecDiffers) {
  const GoldenPair& pair = GetParam();
  const std::string stem = Stem(pair.fbs);
  std::string proto_base(pair.proto);
  proto_base = proto_base.substr(0, proto_base.rfind('.'));
  std::string guard;
  for (char c : proto_base) {
    guard += absl::ascii_isalnum(static_cast<unsigned char>(c))
                 ? absl::ascii_toupper(static_cast<unsigned char>(c))
                 : '_';
  }
  for (const char* suffix : {".h", ".cc"}) {
    std::string proto = ReadFile(absl::StrCat(kSource, "/tests/golden/",
                                              proto_base, ".natsrpc", suffix));
    const std::string fbs = ReadFile(
        absl::StrCat(kSource, "/tests/golden/fbs/", stem, ".natsrpc", suffix));
    ASSERT_FALSE(proto.empty());
    ASSERT_FALSE(fbs.empty());
    std::vector<std::pair<std::string, std::string>> rewrites = {
        // File names: flatc drops the directory.
        {pair.proto, pair.fbs},
        {absl::StrCat("_", guard, "_NATSRPC_H_"),
         absl::StrCat("_", absl::AsciiStrToUpper(stem), "_NATSRPC_H_")},
        {absl::StrCat(proto_base, ".natsrpc.h"),
         absl::StrCat(stem, ".natsrpc.h")},
        // Includes: flatc's header and the codec's.
        {absl::StrCat("#include \"", proto_base, ".pb.h\"\n"),
         absl::StrCat("#include \"", stem,
                      "_generated.h\"\n"
                      "#include \"natsrpc/flatbuffers_codec.h\"\n")},
        // The codec.
        {"::natsrpc::ProtobufCodec", "::natsrpc::FlatBuffersCodec"},
    };
    for (const char* type : pair.types) {
      rewrites.push_back({absl::StrCat(pair.proto_package_prefix, type),
                          absl::StrCat("::natsrpc::FlatMessage<",
                                       pair.proto_package_prefix, type, ">")});
    }
    proto = WithoutSchemaBytes(absl::StrReplaceAll(proto, rewrites));
    ExpectSameText(
        WithoutSchemaBytes(fbs), proto,
        absl::StrCat(stem, ".natsrpc", suffix, " (fbs vs rewritten proto)"));
  }
}

INSTANTIATE_TEST_SUITE_P(Schemas, FbsGoldenTest,
                         ::testing::ValuesIn(GoldenPairs()),
                         [](const ::testing::TestParamInfo<GoldenPair>& info) {
                           return Stem(info.param.fbs);
                         });

// The `streaming` attribute gives the kinds; the names follow the same
// rules as unary ones (and as the .proto front end's, for the same names).
// The embedded schema (docs/protocol.md section 12) is a binary schema that
// FlatBuffers' reflection reads: the service, its methods and their types.
TEST(FbsFrontEndTest, SchemaIsTheBinarySchema) {
  absl::StatusOr<ServiceModel> model =
      BuildFbsModel(kFbs + "/example/calculator.fbs", {kFbs});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->schema_encoding,
            "::natsrpc::SchemaEncoding::kFlatBuffersBinarySchema");
  const auto* data = reinterpret_cast<const uint8_t*>(model->schema.data());
  flatbuffers::Verifier verifier(data, model->schema.size());
  ASSERT_TRUE(reflection::VerifySchemaBuffer(verifier));
  const reflection::Schema* schema = reflection::GetSchema(data);
  ASSERT_NE(schema->services(), nullptr);
  const reflection::Service* service =
      schema->services()->LookupByKey("example.v1.Calculator");
  ASSERT_NE(service, nullptr);
  const reflection::RPCCall* add = service->calls()->LookupByKey("Add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->request()->name()->str(), "example.v1.AddRequest");
  EXPECT_EQ(add->response()->name()->str(), "example.v1.AddReply");
}

TEST(FbsFrontEndTest, StreamingAttributeGivesTheKinds) {
  absl::StatusOr<ServiceModel> model =
      BuildFbsModel(kFbs + "/test/compile/streaming.fbs", {kFbs});
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->services.size(), 2u);
  const ServiceDef& s = model->services[0];
  ASSERT_EQ(s.methods.size(), 4u);
  EXPECT_EQ(s.methods[0].streaming, StreamingKind::kUnary);
  EXPECT_EQ(s.methods[1].streaming, StreamingKind::kServerStreaming);
  EXPECT_EQ(s.methods[2].streaming, StreamingKind::kClientStreaming);
  EXPECT_EQ(s.methods[3].streaming, StreamingKind::kBidiStreaming);
  EXPECT_EQ(s.methods[1].timeout_ms, 30000u);
  EXPECT_EQ(s.methods[3].timeout_ms, 60000u);
  const ServiceDef& k = model->services[1];
  EXPECT_EQ(k.cpp_name, "class_");
  EXPECT_EQ(k.methods[0].cpp_name, "delete_");
  EXPECT_EQ(k.methods[0].streaming, StreamingKind::kBidiStreaming);
  EXPECT_EQ(k.methods[4].name, "FooAsync");
  EXPECT_EQ(k.methods[4].cpp_name, "FooAsync_");
  EXPECT_EQ(k.methods[4].cpp_async_name, "FooAsync_Async");
  EXPECT_EQ(k.methods[4].streaming, StreamingKind::kClientStreaming);

  absl::StatusOr<ServiceModel> one = BuildFbsModelFromSource(
      "table T { x:int; }\n"
      "rpc_service S {\n"
      "  A(T):T;\n"
      "  B(T):T (streaming: \"server\");\n"
      "  C(T):T (streaming: \"client\");\n"
      "  D(T):T (streaming: \"bidi\");\n"
      "}\n",
      "mem.fbs", {});
  ASSERT_TRUE(one.ok()) << one.status();
  std::vector<StreamingKind> kinds;
  for (const MethodDef& m : one->services[0].methods) {
    kinds.push_back(m.streaming);
  }
  EXPECT_THAT(kinds, ::testing::ElementsAre(StreamingKind::kUnary,
                                            StreamingKind::kServerStreaming,
                                            StreamingKind::kClientStreaming,
                                            StreamingKind::kBidiStreaming));
  absl::StatusOr<GeneratedFiles> files = EmitCpp(*one);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(files->header,
              HasSubstr("#include \"natsrpc/impl/codegen.h\"\n"));
  EXPECT_THAT(files->source,
              HasSubstr("::natsrpc::internal::MakeBidiStreamHandler<::natsrpc::"
                        "FlatBuffersCodec>(\n          &S::Service::D));"));
}

TEST(FbsFrontEndTest, AttributesDocsAndNames) {
  absl::StatusOr<ServiceModel> model =
      BuildFbsModel(kFbs + "/example/calculator.fbs", {kFbs});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->idl_file, "example/calculator.fbs");
  EXPECT_THAT(model->includes,
              ::testing::ElementsAre("calculator_generated.h",
                                     "natsrpc/flatbuffers_codec.h"));
  EXPECT_THAT(model->namespaces, ::testing::ElementsAre("example", "v1"));
  ASSERT_EQ(model->services.size(), 1u);
  const ServiceDef& s = model->services[0];
  EXPECT_EQ(s.full_name, "example.v1.Calculator");
  EXPECT_EQ(s.app, "example_v1");
  EXPECT_THAT(s.doc, ::testing::ElementsAre(" Integer arithmetic over NATS."));
  ASSERT_EQ(s.methods.size(), 3u);
  EXPECT_EQ(s.methods[0].timeout_ms, 5000u);
  EXPECT_EQ(s.methods[1].timeout_ms, 1000u);
  EXPECT_EQ(s.methods[1].request_type,
            "::natsrpc::FlatMessage<::example::v1::DivideRequest>");
  EXPECT_EQ(s.methods[1].codec, "::natsrpc::FlatBuffersCodec");
}

TEST(FbsFrontEndTest, AppAttributeAndNoNamespace) {
  absl::StatusOr<ServiceModel> model = BuildFbsModelFromSource(
      "attribute \"natsrpc_app\";\n"
      "table T { x:int; }\n"
      "rpc_service S (natsrpc_app: \"calc-1\") { M(T):T; }\n"
      "rpc_service Plain { M(T):T; }\n",
      "mem.fbs", {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(model->namespaces.empty());
  EXPECT_EQ(model->services[0].app, "calc-1");
  EXPECT_EQ(model->services[1].app, "default");
  EXPECT_EQ(model->services[0].methods[0].request_type,
            "::natsrpc::FlatMessage<::T>");
}

TEST(FbsFrontEndTest, ServiceClassAvoidsFlatcNames) {
  absl::StatusOr<ServiceModel> model = BuildFbsModelFromSource(
      "namespace n;\n"
      "table T { x:int; }\n"
      "table TBuilder { x:int; }\n"
      "rpc_service CreateT { M(T):T; }\n",
      "mem.fbs", {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->services[0].cpp_name, "CreateT_");
  EXPECT_EQ(model->services[0].name, "CreateT");
}

TEST(FbsFrontEndTest, ServicesInTwoNamespacesAreRefused) {
  absl::StatusOr<ServiceModel> model = BuildFbsModelFromSource(
      "namespace a;\ntable T { x:int; }\nrpc_service S { M(T):T; }\n"
      "namespace b;\nrpc_service U { M(a.T):a.T; }\n",
      "two.fbs", {});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            "two.fbs:5: service b.U: all rpc_services of a schema must be in "
            "one namespace (the first is in \"a\")");
}

TEST(FbsFrontEndTest, DisplayName) {
  EXPECT_EQ(FbsDisplayName("fbs/example/calculator.fbs", {"fbs"}),
            "example/calculator.fbs");
  EXPECT_EQ(FbsDisplayName("/x/fbs/a.fbs", {"/y", "/x/fbs/"}), "a.fbs");
  EXPECT_EQ(FbsDisplayName("/tmp/x.fbs", {"fbs"}), "/tmp/x.fbs");
  EXPECT_EQ(FbsDisplayName("other/x.fbs", {"fbs"}), "other/x.fbs");
}

// item 2 of the FlatBuffers issue: file:line, service, method, value.
struct BadSchema {
  const char* file;
  const char* message;
};

class FbsErrorTest : public ::testing::TestWithParam<BadSchema> {};

TEST_P(FbsErrorTest, CommandExitsNonZeroWithClearMessageAndWritesNothing) {
  const std::string out = TempDir("errors");
  // An existing output must survive: bad input loses nothing.
  WriteFile(out + "/calculator.natsrpc.h", "previous content");
  std::string output;
  // A good schema first: nothing at all is written when any schema is bad.
  const std::string command =
      absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' -I '", kFbs, "' -o '", out,
                   "' '", kFbs, "/example/calculator.fbs' '", kFbs,
                   "/test/errors/", GetParam().file, "'");
  EXPECT_EQ(RunShell(command, &output), 1) << command << "\n" << output;
  EXPECT_EQ(output, absl::StrCat(GetParam().message, "\n"));
  EXPECT_EQ(ReadFile(out + "/calculator.natsrpc.h"), "previous content");
  EXPECT_EQ(RunShell(absl::StrCat("ls '", out, "'"), &output), 0);
  EXPECT_EQ(output, "calculator.natsrpc.h\n");
}

INSTANTIATE_TEST_SUITE_P(
    BadSchemas, FbsErrorTest,
    ::testing::Values(
        BadSchema{"bad_streaming.fbs",
                  "test/errors/bad_streaming.fbs:7: service "
                  "natsrpc_test.fbs.errors.Typo, method Watch: attribute "
                  "streaming: \"sever\" is not one of \"server\", \"client\", "
                  "\"bidi\""},
        BadSchema{
            "unknown_attribute.fbs",
            "test/errors/unknown_attribute.fbs:8: service "
            "natsrpc_test.fbs.errors.Unknown, method Call: unknown "
            "attribute \"retries\": natsrpc knows streaming, idempotent, "
            "natsrpc_timeout_ms, natsrpc_event, natsrpc_broadcast and "
            "natsrpc_durable on methods, natsrpc_timeout_ms, natsrpc_app, "
            "natsrpc_event, natsrpc_broadcast and natsrpc_durable on "
            "services"},
        BadSchema{"durable_stream.fbs",
                  "test/errors/durable_stream.fbs: service "
                  "natsrpc_test.fbs.errors.DurableStream, method Watch: only "
                  "unary methods can be durable"},
        // Events are unary (docs/protocol.md 13).
        BadSchema{"streaming_event.fbs",
                  "test/errors/streaming_event.fbs:8: service "
                  "natsrpc_test.fbs.errors.Events, method Feed: an event "
                  "method cannot stream"},
        BadSchema{"undeclared_attribute.fbs",
                  "test/errors/undeclared_attribute.fbs:7: service "
                  "natsrpc_test.fbs.errors.Undeclared, method Other: unknown "
                  "attribute \"natsrpc_timeout_ms\": declare it with "
                  "`attribute \"natsrpc_timeout_ms\";` before use"},
        BadSchema{"bad_app.fbs",
                  "test/errors/bad_app.fbs:7: service "
                  "natsrpc_test.fbs.errors.BadApp: attribute natsrpc_app: "
                  "\"a.b\" is not a valid subject token: character '.' at "
                  "offset 1 is not one of [A-Za-z0-9_-]"},
        BadSchema{"bad_timeout.fbs",
                  "test/errors/bad_timeout.fbs:8: service "
                  "natsrpc_test.fbs.errors.BadTimeout, method Call: attribute "
                  "natsrpc_timeout_ms: \"soon\" is not a number of "
                  "milliseconds (0 to 4294967295)"}),
    [](const ::testing::TestParamInfo<BadSchema>& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });

TEST(FbsErrorTest, ParserErrorsPassThroughWithFileAndLine) {
  std::string output;
  const std::string command =
      absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' -I '", kFbs, "' -o '",
                   TempDir("syntax"), "' '", kFbs, "/test/errors/syntax.fbs'");
  EXPECT_EQ(RunShell(command, &output), 1);
  EXPECT_THAT(output, HasSubstr("syntax.fbs:"));
  EXPECT_THAT(output, HasSubstr("type referenced but not defined"));
  EXPECT_THAT(output, HasSubstr("Missing"));
}

TEST(FbsErrorTest, MissingFile) {
  std::string output;
  EXPECT_EQ(RunShell(absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' -o '",
                                  TempDir("missing"), "' /nonexistent/x.fbs"),
                     &output),
            1);
  EXPECT_EQ(output, "/nonexistent/x.fbs: cannot read the file\n");
}

TEST(FbsCommandLineTest, FlatcLikeArguments) {
  absl::StatusOr<FbsCommandLine> line =
      ParseFbsCommandLine({"-I", "a", "-Ib", "-o", "out", "x.fbs", "y.fbs"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->include_dirs, ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(line->out_dir, "out");
  EXPECT_THAT(line->schemas, ::testing::ElementsAre("x.fbs", "y.fbs"));
  EXPECT_EQ(ParseFbsCommandLine({"--cpp", "x.fbs"}).status().message(),
            "unknown option --cpp");
  EXPECT_EQ(ParseFbsCommandLine({"-I"}).status().message(),
            "option -I needs a directory");
  EXPECT_EQ(ParseFbsCommandLine({}).status().message(),
            "no schema files given");
  std::string output;
  EXPECT_EQ(
      RunShell(absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' --bogus"), &output),
      2);
  EXPECT_THAT(output, HasSubstr("natsrpc-fbs: unknown option --bogus"));
  EXPECT_THAT(output, HasSubstr("usage: natsrpc-fbs"));
}

TEST(FbsCommandTest, SchemaWithoutServiceYieldsBothFiles) {
  const std::string out = TempDir("noservice");
  std::string output;
  ASSERT_EQ(RunShell(absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' -I '", kFbs,
                                  "' -o '", out, "' '", kFbs,
                                  "/test/compile/included.fbs'"),
                     &output),
            0)
      << output;
  const std::string h = ReadFile(out + "/included.natsrpc.h");
  EXPECT_THAT(h, HasSubstr("#include \"included_generated.h\"\n"));
  EXPECT_THAT(h, ::testing::Not(HasSubstr("natsrpc/impl/codegen.h")));
  EXPECT_THAT(ReadFile(out + "/included.natsrpc.cc"),
              HasSubstr("#include \"included.natsrpc.h\""));
}

// natsrpc-fbs spells tables as flatc 2.0.8 names them: run flatc on a table
// named after every candidate word and compare.
TEST(FlatcNamingTest, KeywordEscapingMatchesFlatc) {
  const std::vector<std::string> words = absl::StrSplit(
      "alignas alignof and and_eq asm atomic_cancel atomic_commit "
      "atomic_noexcept auto bitand bitor bool break case catch char char8_t "
      "char16_t char32_t class compl concept const consteval constexpr "
      "constinit const_cast continue co_await co_return co_yield decltype "
      "default delete do double dynamic_cast else enum explicit export "
      "extern false float for friend goto if import inline int long module "
      "mutable namespace new noexcept not not_eq nullptr operator or or_eq "
      "private protected public reflexpr register reinterpret_cast requires "
      "return short signed sizeof static static_assert static_cast struct "
      "switch synchronized template this thread_local throw true try typedef "
      "typeid typename union unsigned using virtual void volatile wchar_t "
      "while xor xor_eq NULL assert errno EOF major minor linux unix Add",
      ' ');
  std::string schema = "namespace k;\n";
  for (const std::string& w : words) {
    absl::StrAppend(&schema, "table ", w, " { x:int; }\n");
  }
  const std::string dir = TempDir("flatc_names");
  WriteFile(dir + "/names.fbs", schema);
  std::string output;
  ASSERT_EQ(RunShell(absl::StrCat("'", FLATC_EXECUTABLE, "' --cpp -o '", dir,
                                  "' '", dir, "/names.fbs'"),
                     &output),
            0)
      << output;
  const std::string generated = ReadFile(dir + "/names_generated.h");
  for (const std::string& w : words) {
    const std::string spelled = QualifiedFlatcType({}, w).substr(2);
    EXPECT_THAT(generated, HasSubstr(absl::StrCat("struct ", spelled,
                                                  " FLATBUFFERS_FINAL_CLASS")))
        << w;
  }
}

}  // namespace
}  // namespace natsrpc::gen
