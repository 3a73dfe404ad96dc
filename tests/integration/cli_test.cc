// Copyright 2026 The natsrpc Authors.
//
// The `natsrpc` command-line tool (tools/natsrpc, docs/cli.md) run as a
// subprocess against a real nats-server serving the example services
// in-process (generic_services.h): ls, describe (from the service's schema
// and from --proto files), call (unary, server stream, client stream and
// bidi from stdin), and the errors: their exit status and the message
// naming the cause.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "generic_services.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the tool with `args`, `input` on its stdin, and waits for it to exit
// (at most 60 s: then it is killed and the run fails). With `hold_stdin`,
// stdin is a pipe this side keeps open (an idle terminal) instead of a file.
ToolRun Natsrpc(const std::vector<std::string>& args,
                const std::string& input = "", bool hold_stdin = false) {
  const std::string dir = ::testing::TempDir();
  const std::string base = absl::StrCat(dir, "/natsrpc_cli_test_", getpid());
  const std::string in_path = base + ".in";
  const std::string out_path = base + ".out";
  const std::string err_path = base + ".err";
  {
    std::ofstream in(in_path, std::ios::trunc);
    in << input;
  }
  int held[2] = {-1, -1};
  if (hold_stdin && pipe(held) != 0) return ToolRun{};
  std::vector<std::string> argv_strings = {NATSRPC_CLI};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = hold_stdin ? held[0] : open(in_path.c_str(), O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (hold_stdin) close(held[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (hold_stdin) close(held[0]);
  ToolRun run;
  // Bounded wait for the exit: poll the process's pidfd.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    if (poll(&p, 1, 60'000) != 1) {
      ADD_FAILURE() << "natsrpc " << absl::StrJoin(args, " ")
                    << " still runs after 60 s; killed";
      kill(pid, SIGKILL);
    }
    close(pidfd);
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  }
  if (hold_stdin) close(held[1]);
  run.out = ReadAll(out_path);
  run.err = ReadAll(err_path);
  return run;
}

// The lines of `text`, each with its runs of blanks made one space.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    out.push_back(
        absl::StrJoin(absl::StrSplit(line, ' ', absl::SkipEmpty()), " "));
  }
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::NatsServer>> s =
        testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = s->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    absl::StatusOr<Connection> c =
        testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::make_unique<Connection>(*c);
    server_ =
        std::make_unique<Server>(*conn_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(calculator_).ok());
    ASSERT_TRUE(server_->AddService(files_).ok());
    ASSERT_TRUE(server_->AddService(chat_).ok());
  }
  void TearDown() override {
    calculator_.Release();
    server_.reset();
  }

  // The tool with --url of this test's nats-server first.
  ToolRun Tool(std::vector<std::string> args, const std::string& input = "",
               bool hold_stdin = false) {
    args.insert(args.begin(), absl::StrCat("--url=", nats_->url()));
    return Natsrpc(args, input, hold_stdin);
  }

  static testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  generic_testing::Calculator calculator_;
  generic_testing::FileStore files_;
  generic_testing::ChatRoom chat_;
  std::unique_ptr<Server> server_;
};

testing::NatsServer* CliTest::nats_ = nullptr;

TEST_F(CliTest, Ls) {
  ToolRun r = Tool({"ls"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string id = server_->instance_id();
  EXPECT_EQ(Lines(r.out),
            (std::vector<std::string>{
                "SERVICE APP RESPONDER INSTANCE VERSION METHODS",
                absl::StrCat("example.v1.Calculator example_v1 bob ", id,
                             " 0.0.0 Add,Divide,Echo"),
                absl::StrCat("example.v1.ChatRoom example_v1 bob ", id,
                             " 0.0.0 Chat"),
                absl::StrCat("example.v1.FileStore example_v1 bob ", id,
                             " 0.0.0 Download,Upload")}))
      << r.out;
}

TEST_F(CliTest, LsOneService) {
  ToolRun r = Tool({"ls", "FileStore"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), (std::vector<std::string>{
                              "example.v1.FileStore/Download server-streaming "
                              "example.v1.DownloadRequest -> example.v1.Chunk",
                              "example.v1.FileStore/Upload client-streaming "
                              "example.v1.Chunk -> example.v1.UploadReply"}));
  ToolRun none = Tool({"ls", "Nope", "--wait=300ms"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("unknown service \"Nope\""), std::string::npos)
      << none.err;
}

TEST_F(CliTest, DescribeFromTheServicesSchema) {
  ToolRun r = Tool({"describe", "Calculator"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("// example.v1.Calculator (app example_v1, responder "
                       "bob), from the service's schema"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rpc Add(.example.v1.AddRequest) returns "
                       "(.example.v1.AddReply) {\n"
                       "    option idempotency_level = NO_SIDE_EFFECTS;"),
            std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find("message AddRequest {\n  int64 a = 1;\n  int64 b = 2;\n}"),
      std::string::npos)
      << r.out;

  ToolRun m = Tool({"describe", "example.v1.FileStore/Upload"});
  EXPECT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.out.find("rpc Upload(stream .example.v1.Chunk) returns "
                       "(.example.v1.UploadReply);"),
            std::string::npos)
      << m.out;
  EXPECT_EQ(m.out.find("Download"), std::string::npos) << m.out;
}

TEST_F(CliTest, DescribeFromProtoFilesNeedsNoServer) {
  // No --url: the default one has no server, and none is needed.
  ToolRun r =
      Natsrpc({"describe", "ChatRoom", "--proto=example/v1/streaming.proto",
               absl::StrCat("-I", NATSRPC_TEST_PROTO_DIR)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rpc Chat(stream .example.v1.ChatMessage) returns "
                       "(stream .example.v1.ChatMessage);"),
            std::string::npos)
      << r.out;
  ToolRun bad =
      Natsrpc({"describe", "ChatRoom", "--proto=example/v1/nope.proto",
               absl::StrCat("-I", NATSRPC_TEST_PROTO_DIR)});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("cannot load example/v1/nope.proto"),
            std::string::npos)
      << bad.err;
}

TEST_F(CliTest, CallUnary) {
  ToolRun r = Tool({"call", "Calculator/Add", R"({"a": 2, "b": 3})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"sum\":\"5\"}\n");
  EXPECT_EQ(r.err, "");

  ToolRun d = Tool({"call", "example.v1.Calculator/Divide",
                    R"({"dividend": 17, "divisor": 5})", "--emit_defaults"});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "{\"quotient\":\"3\",\"remainder\":\"2\"}\n");
}

TEST_F(CliTest, CallWithProtoFilesAndExplicitTarget) {
  ToolRun r =
      Tool({"call", "Calculator/Add", R"({"a": 40, "b": 2})",
            "--proto=example/v1/calculator.proto",
            absl::StrCat("-I", NATSRPC_TEST_PROTO_DIR), "--app=example_v1",
            "--responder=bob", "--requester=carol"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"sum\":\"42\"}\n");
}

TEST_F(CliTest, CallServerStream) {
  ToolRun r = Tool({"call", "FileStore/Download",
                    R"({"name": "abc.txt", "chunk_size": 4})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // "abcd", "efgh", "ij" in base64 (bytes in the JSON mapping).
  EXPECT_EQ(r.out,
            "{\"data\":\"YWJjZA==\"}\n"
            "{\"offset\":\"4\",\"data\":\"ZWZnaA==\"}\n"
            "{\"offset\":\"8\",\"data\":\"aWo=\"}\n");
}

TEST_F(CliTest, CallClientStreamFromStdin) {
  ToolRun r =
      Tool({"call", "FileStore/Upload", "--metadata", "x-file-name=up.txt"},
           "{\"data\": \"aGVsbG8g\"}\n\n{\"data\": \"d29ybGQ=\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"size\":\"11\",\"checksum\":\"chunks-of-up.txt\"}\n");
  EXPECT_EQ(files_.File("up.txt"), "hello world");
}

TEST_F(CliTest, CallBidiFromStdin) {
  ToolRun r = Tool({"call", "ChatRoom/Chat"},
                   "{\"from\": \"alice\", \"text\": \"hi there\"}\n"
                   "{\"from\": \"alice\", \"text\": \"one two three\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"from\":\"bot\",\"text\":\"heard alice say 2 words\"}\n"
            "{\"from\":\"bot\",\"text\":\"heard alice say 3 words\"}\n");
}

// A stream the server ends while stdin stays open and idle (a terminal):
// the tool exits with the stream's status instead of waiting for input.
TEST_F(CliTest, StreamEndedByTheServerDoesNotWaitForStdin) {
  // No x-file-name: Upload fails at once, without reading.
  ToolRun r = Tool({"call", "FileStore/Upload"}, "", /*hold_stdin=*/true);
  EXPECT_EQ(r.exit_code, 64 + 3) << r.err;  // INVALID_ARGUMENT
  EXPECT_EQ(r.err,
            "natsrpc: call example.v1.FileStore/Upload: INVALID_ARGUMENT: no "
            "x-file-name\n");
}

TEST_F(CliTest, ServerErrorExitsWith64PlusTheCode) {
  ToolRun r = Tool({"call", "Calculator/Divide", R"({"dividend": 1})"});
  EXPECT_EQ(r.exit_code, 64 + 3);  // INVALID_ARGUMENT
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "natsrpc: call example.v1.Calculator/Divide: INVALID_ARGUMENT: "
            "division by zero\n");
  ToolRun nf = Tool({"call", "FileStore/Download", R"({"name": "missing"})"});
  EXPECT_EQ(nf.exit_code, 64 + 5);  // NOT_FOUND
}

TEST_F(CliTest, TimeoutExitsWithDeadlineExceeded) {
  ToolRun r = Tool({"call", "Calculator/Echo", "{}", "--timeout=300ms"});
  EXPECT_EQ(r.exit_code, 64 + 4) << r.err;  // DEADLINE_EXCEEDED
  EXPECT_NE(r.err.find("call example.v1.Calculator/Echo: DEADLINE_EXCEEDED"),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, UnknownMethodNamesTheMethods) {
  ToolRun r = Tool({"call", "Calculator/Sub", "{}"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "natsrpc: unknown method \"Sub\" of example.v1.Calculator; it has "
            "Add, Divide, Echo\n");
}

TEST_F(CliTest, UnknownServiceNamesTheServices) {
  ToolRun r = Tool({"call", "Nope/Add", "{}", "--wait=300ms"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown service \"Nope\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("example.v1.Calculator, example.v1.ChatRoom, "
                       "example.v1.FileStore"),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, BadJsonNamesTheField) {
  ToolRun r = Tool({"call", "Calculator/Add", R"({"a": 1, "c": 2})"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad JSON for example.v1.AddRequest: c: Cannot find "
                       "field"),
            std::string::npos)
      << r.err;
  ToolRun s =
      Tool({"call", "FileStore/Upload", "--metadata=x-file-name=bad.txt"},
           "{\"data\": \"aGk=\"}\n{\"dta\": 1}\n");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("stdin line 2: bad JSON for example.v1.Chunk: dta"),
            std::string::npos)
      << s.err;
}

TEST_F(CliTest, UsageErrorsExitWithOne) {
  EXPECT_EQ(Tool({}).exit_code, 1);
  EXPECT_EQ(Tool({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(Tool({"call", "Calculator"}).exit_code, 1);
  EXPECT_EQ(Tool({"call", "ChatRoom/Chat", "{}"}).exit_code, 1);
  EXPECT_EQ(Tool({"call", "Calculator/Add", "--metadata=novalue"}).exit_code,
            1);
}

TEST_F(CliTest, NoServerIsUnavailable) {
  ToolRun r = Natsrpc({"--url=nats://127.0.0.1:1", "ls"});
  EXPECT_EQ(r.exit_code, 64 + 14);  // UNAVAILABLE
  EXPECT_NE(r.err.find("natsrpc: connect: UNAVAILABLE"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
