// Copyright 2026 The natsrpc Authors.

#include "nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace natsrpc::testing {
namespace {

std::string FindNatsServer() {
  if (const char* env = std::getenv("NATS_SERVER_BIN")) return env;
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                        "/usr/local/bin/nats-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "nats-server";
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// The port of the first URL listed under `key` in the ports file's JSON
// ({"nats":["nats://127.0.0.1:P"],...}; "tls://" with TLS), or 0.
int PortOf(const std::string& s, const std::string& key) {
  const std::string prefix = absl::StrCat("\"", key, "\":[\"");
  const size_t at = s.find(prefix);
  if (at == std::string::npos) return 0;
  const size_t start = at + prefix.size();
  const size_t end = s.find('"', start);
  if (end == std::string::npos) return 0;
  const std::string url = s.substr(start, end - start);
  const size_t colon = url.rfind(':');
  int p = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(url.substr(colon + 1), &p)) {
    return 0;
  }
  return p;
}

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<NatsServer>>>
NatsServer::StartCluster(int n, Options options) {
  std::vector<std::unique_ptr<NatsServer>> nodes;
  options.cluster = true;
  for (int i = 0; i < n; ++i) {
    Options o = options;
    if (i > 0) o.routes.push_back(nodes[0]->route_url());
    absl::StatusOr<std::unique_ptr<NatsServer>> node = Start(std::move(o));
    if (!node.ok()) return node.status();
    nodes.push_back(*std::move(node));
  }
  return nodes;
}

std::string NatsServer::log() const {
  std::ifstream in(dir_ + "/nats-server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string NatsServer::route_url() const {
  if (cluster_port_ == 0) return "";
  return absl::StrCat("nats-route://127.0.0.1:", cluster_port_);
}

absl::Status NatsServer::Pause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("server not running");
  if (kill(pid_, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat("SIGSTOP: ", strerror(errno)));
  }
  paused_ = true;
  return absl::OkStatus();
}

absl::Status NatsServer::Resume() {
  if (pid_ <= 0) return absl::FailedPreconditionError("server not running");
  if (kill(pid_, SIGCONT) != 0) {
    return absl::InternalError(absl::StrCat("SIGCONT: ", strerror(errno)));
  }
  paused_ = false;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start(Options options) {
  char tmpl[] = "/tmp/natsrpc-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", strerror(errno)));
  }
  std::unique_ptr<NatsServer> server(new NatsServer(std::move(options), tmpl));
  if (absl::Status s = server->Launch(-1); !s.ok()) return s;
  return server;
}

NatsServer::~NatsServer() {
  if (pid_ > 0) Stop().IgnoreError();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string NatsServer::url() const {
  return absl::StrCat("nats://127.0.0.1:", port_);
}

absl::Status NatsServer::Launch(int port) {
  std::vector<std::string> args = {
      FindNatsServer(),   "-a", "127.0.0.1", "-p", absl::StrCat(port),
      "--ports_file_dir", dir_};
  if (options_.cluster) {
    args.push_back("--cluster_name");
    args.push_back("natsrpc-test");
    args.push_back("--cluster");
    args.push_back(absl::StrCat("nats://127.0.0.1:",
                                cluster_port_ > 0 ? cluster_port_ : -1));
    if (!options_.routes.empty()) {
      args.push_back("--routes");
      args.push_back(absl::StrJoin(options_.routes, ","));
    }
  }
  if (!options_.config.empty()) {
    const std::string conf = dir_ + "/nats.conf";
    std::ofstream(conf) << options_.config;
    args.push_back("-c");
    args.push_back(conf);
  }
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = dir_ + "/nats-server.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc =
      posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", args[0], ": ", strerror(rc),
                     " (install Debian's nats-server)"));
  }
  pid_ = pid;

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  const std::string ports_file =
      absl::StrCat(dir_, "/nats-server_", pid, ".ports");
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      return absl::FailedPreconditionError(
          absl::StrCat("nats-server exited at start: ", text.str()));
    }
    // {"nats":["nats://127.0.0.1:PORT"],"cluster":["nats://127.0.0.1:P"]}
    std::ifstream in(ports_file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    const int client = PortOf(s, "nats");
    const int route = PortOf(s, "cluster");
    if (port < 0 && port_ == 0) port_ = client;
    if (port > 0) port_ = port;
    if (options_.cluster && route > 0) cluster_port_ = route;
    if (port_ > 0 && (!options_.cluster || cluster_port_ > 0) &&
        Accepts(port_)) {
      return absl::OkStatus();
    }
    // Polling for readiness of another process; bounded by the deadline.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill().IgnoreError();
  return absl::DeadlineExceededError(
      "nats-server did not accept connections within 15 s");
}

absl::Status NatsServer::WaitExit(int timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::DeadlineExceededError("nats-server did not exit");
}

absl::Status NatsServer::Kill() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGKILL);
  paused_ = false;
  return WaitExit(10000);
}

absl::Status NatsServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  if (paused_) kill(pid_, SIGCONT);  // a stopped process acts on SIGTERM only
  paused_ = false;
  if (WaitExit(10000).ok()) return absl::OkStatus();
  return Kill();
}

absl::Status NatsServer::Restart() {
  if (pid_ > 0) return absl::FailedPreconditionError("server is running");
  return Launch(port_);
}

}  // namespace natsrpc::testing
