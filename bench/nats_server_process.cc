// Copyright 2026 The natsrpc Authors.

#include "nats_server_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace natsrpc_bench {
namespace {

bool IsExecutable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (IsExecutable(candidate)) return candidate;
  }
  return "";
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (ok) {
    // A NATS server greets with INFO.
    char buf[4] = {};
    timeval tv{.tv_sec = 1, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ok = recv(fd, buf, sizeof(buf), MSG_WAITALL) == 4 &&
         std::memcmp(buf, "INFO", 4) == 0;
  }
  close(fd);
  return ok;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

int64_t SelfCpuMicros() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (static_cast<int64_t>(ru.ru_utime.tv_sec) + ru.ru_stime.tv_sec) *
             1000000 +
         ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int64_t MachineBusyCpuMicros() {
  // /proc/stat is tick-sampled and misses short bursts (a thread that runs
  // for less than a tick at a time looks idle), so add up the per-process
  // accounting instead: utime + stime + cutime + cstime of every process.
  // A process that ends is reaped by a living ancestor (at worst init), whose
  // cutime/cstime then holds its time, so differences stay right.
  static const int64_t ticks = sysconf(_SC_CLK_TCK);
  int64_t total = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300];
    std::snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[1024];
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) continue;
    // After ") ": field 3 (state) ... field 14 utime, 15 stime, 16 cutime,
    // 17 cstime.
    int field = 2;
    int64_t sum = 0;
    for (const char* q = p + 1; *q != '\0' && field < 17;) {
      while (*q == ' ') ++q;
      ++field;
      char* next = nullptr;
      const long long v = std::strtoll(q, &next, 10);
      if (field >= 14) sum += v;
      q = next != q ? next : q + 1;
      while (*q != ' ' && *q != '\0') ++q;
    }
    total += sum;
  }
  closedir(proc);
  return total * 1000000 / ticks;
}

NatsServerProcess::~NatsServerProcess() { Stop(); }

absl::Status NatsServerProcess::Start(const std::string& binary) {
  if (pid_ > 0) return absl::FailedPreconditionError("already started");
  if (IsExecutable(binary)) {
    binary_ = binary;
  } else if (!binary.empty()) {
    return absl::NotFoundError(absl::StrCat(binary, " is not executable"));
  } else if (const char* env = std::getenv("NATS_SERVER"); env && *env) {
    binary_ = env;
  } else if (IsExecutable("/usr/sbin/nats-server")) {
    binary_ = "/usr/sbin/nats-server";
  } else {
    binary_ = FindOnPath("nats-server");
  }
  if (!IsExecutable(binary_)) {
    return absl::NotFoundError(
        "nats-server not found (Debian: apt-get install nats-server; or set "
        "NATS_SERVER / --nats-server)");
  }

  char tmpl[] = "/tmp/natsrpc-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", strerror(errno)));
  }
  dir_ = tmpl;
  // max_pending: 1024 calls of 64 KB in flight are 64 MB queued towards one
  // client at times, the default per-client limit; raise it so that the
  // server does not cut the benchmark's connections as slow consumers.
  const std::string conf = dir_ + "/nats-server.conf";
  {
    std::ofstream out(conf);
    out << "max_pending: 536870912\n"
        << "write_deadline: \"30s\"\n";
  }

  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreeLoopbackPort();
    if (port_ == 0) return absl::InternalError("no free loopback port");
    const std::string port = std::to_string(port_);
    const std::string log = dir_ + "/nats-server.log";
    std::vector<std::string> args = {binary_,     "-c", conf, "-a",
                                     "127.0.0.1", "-p", port};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
      return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
    }
    if (pid == 0) {
      // Do not outlive the benchmark if it crashes.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
      execv(binary_.c_str(), argv.data());
      _exit(127);
    }
    pid_ = pid;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int wstatus = 0;
      if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
        pid_ = -1;  // exited (port taken?): try another port
        break;
      }
      if (Accepts(port_)) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      Stop();
      return absl::DeadlineExceededError(
          absl::StrCat("nats-server on port ", port_,
                       " did not accept connections in 10 s; see ", log));
    }
  }
  return absl::InternalError(
      absl::StrCat("nats-server exited at start five times; see ", dir_,
                   "/nats-server.log"));
}

void NatsServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (!dir_.empty()) {
    std::remove((dir_ + "/nats-server.conf").c_str());
    std::remove((dir_ + "/nats-server.log").c_str());
    rmdir(dir_.c_str());
    dir_.clear();
  }
}

std::string NatsServerProcess::url() const {
  return absl::StrCat("nats://127.0.0.1:", port_);
}

std::string NatsServerProcess::version() const {
  std::string cmd = "'" + binary_ + "' --version 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[256] = {};
  std::string out;
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

int64_t NatsServerProcess::CpuMicros() const {
  if (pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name; utime and stime are fields
  // 14 and 15 of the whole line.
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close_paren + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  static const int64_t ticks = sysconf(_SC_CLK_TCK);
  return (utime + stime) * 1000000 / ticks;
}

}  // namespace natsrpc_bench
