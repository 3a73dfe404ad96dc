// Copyright 2026 The natsrpc Authors.
//
// The .fbs front end and the natsrpc-fbs command:
//
//  - fbs/example/calculator.fbs generates tests/golden/fbs/calculator.natsrpc.*
//    in-process and through the binary. After an intended change, regenerate
//    with `cmake --build <build dir> --target regenerate_golden` and review
//    the diff.
//  - The same service from .proto (tests/golden/example/v1/) and .fbs differs
//    only in file names, includes, type spellings and codec.
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

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cpp_emitter.h"
#include "fbs_command.h"
#include "fbs_front_end.h"
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

TEST(FbsGoldenTest, InProcessMatchesGolden) {
  absl::StatusOr<ServiceModel> model =
      BuildFbsModel(kFbs + "/example/calculator.fbs", {kFbs});
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<GeneratedFiles> files = EmitCpp(*model);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->header_name, "calculator.natsrpc.h");
  EXPECT_EQ(files->source_name, "calculator.natsrpc.cc");
  ExpectSameText(files->header,
                 ReadFile(kSource + "/tests/golden/fbs/calculator.natsrpc.h"),
                 absl::StrCat("golden calculator.natsrpc.h. ", kRegenerate));
  ExpectSameText(files->source,
                 ReadFile(kSource + "/tests/golden/fbs/calculator.natsrpc.cc"),
                 absl::StrCat("golden calculator.natsrpc.cc. ", kRegenerate));
}

TEST(FbsGoldenTest, CommandMatchesGolden) {
  const std::string out = TempDir("golden");
  std::string output;
  const std::string command =
      absl::StrCat("'", NATSRPC_FBS_EXECUTABLE, "' -I '", kFbs, "' -o '", out,
                   "/gen' '", kFbs, "/example/calculator.fbs'");
  ASSERT_EQ(RunShell(command, &output), 0) << command << "\n" << output;
  EXPECT_EQ(output, "");
  for (const char* suffix : {".h", ".cc"}) {
    const std::string name = absl::StrCat("calculator.natsrpc", suffix);
    ExpectSameText(ReadFile(out + "/gen/" + name),
                   ReadFile(kSource + "/tests/golden/fbs/" + name),
                   absl::StrCat("golden ", name, ". ", kRegenerate));
  }
}

// The same service described in .proto and .fbs: rewriting the proto output
// where the codec differs (file names, includes, message type spellings and
// the codec) gives the fbs output exactly. So everything else (doc comments,
// namespaces, app, timeouts, the method table, the API shape) is the same.
TEST(FbsGoldenTest, ProtoAndFbsOutputsDifferOnlyWhereTheCodecDiffers) {
  for (const char* suffix : {".h", ".cc"}) {
    std::string proto = ReadFile(absl::StrCat(
        kSource, "/tests/golden/example/v1/calculator.natsrpc", suffix));
    const std::string fbs = ReadFile(
        absl::StrCat(kSource, "/tests/golden/fbs/calculator.natsrpc", suffix));
    ASSERT_FALSE(proto.empty());
    ASSERT_FALSE(fbs.empty());
    std::vector<std::pair<std::string, std::string>> rewrites = {
        // File names: flatc drops the directory.
        {"example/v1/calculator.proto", "example/calculator.fbs"},
        {"EXAMPLE_V1_CALCULATOR_NATSRPC_H_", "CALCULATOR_NATSRPC_H_"},
        {"example/v1/calculator.natsrpc.h", "calculator.natsrpc.h"},
        // Includes: flatc's header and the codec's.
        {"#include \"example/v1/calculator.pb.h\"\n",
         "#include \"calculator_generated.h\"\n"
         "#include \"natsrpc/flatbuffers_codec.h\"\n"},
        // The codec.
        {"::natsrpc::ProtobufCodec", "::natsrpc::FlatBuffersCodec"},
    };
    for (const char* type : {"AddRequest", "AddReply", "DivideRequest",
                             "DivideReply", "EchoMessage"}) {
      rewrites.push_back(
          {absl::StrCat("::example::v1::", type),
           absl::StrCat("::natsrpc::FlatMessage<::example::v1::", type, ">")});
    }
    proto = absl::StrReplaceAll(proto, rewrites);
    ExpectSameText(fbs, proto,
                   absl::StrCat("calculator.natsrpc", suffix,
                                " (fbs vs rewritten proto)"));
  }
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
        BadSchema{"unknown_attribute.fbs",
                  "test/errors/unknown_attribute.fbs:8: service "
                  "natsrpc_test.fbs.errors.Unknown, method Call: unknown "
                  "attribute \"retries\": natsrpc knows streaming, idempotent "
                  "and natsrpc_timeout_ms on methods, natsrpc_timeout_ms and "
                  "natsrpc_app on services"},
        BadSchema{"undeclared_attribute.fbs",
                  "test/errors/undeclared_attribute.fbs:7: service "
                  "natsrpc_test.fbs.errors.Undeclared, method Other: unknown "
                  "attribute \"natsrpc_timeout_ms\": declare it with "
                  "`attribute \"natsrpc_timeout_ms\";` before use"},
        BadSchema{"server_streaming.fbs",
                  "test/errors/server_streaming.fbs: service "
                  "natsrpc_test.fbs.errors.Ticker, method Watch: streaming "
                  "methods are not supported yet (server streaming)"},
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
  EXPECT_THAT(h, ::testing::Not(HasSubstr("natsrpc/natsrpc.h")));
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
