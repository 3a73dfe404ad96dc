// Copyright 2026 The natsrpc Authors.
//
// Durable requests on JetStream (docs/protocol.md section 14) through the
// generated code of proto/test/compile/durable.proto, against a nats-server
// started with -js and a store of its own: 1,000 requests stored while no
// responder runs, the responder (this binary again, a process of its own)
// killed with SIGKILL twice while working and started again, and every
// request's side effect made exactly once; redeliveries counted, a request
// that always fails dead-lettered with its error, and results fetched later
// by request id. Also: the responder's interceptors (DurableOptions::
// interceptors) and per-method stats for every handler run, trace context
// from the submitter to the handler, and a throwing handler.
//
//   natsrpc_durable_test --durable_responder=nats://127.0.0.1:PORT --dir=D
//
// runs the responder: it serves Jobs as responder "worker" and appends to
// D/runs.log ("start <id>" when a handler starts, "end <id>" when it
// returns) and D/effects.log (the side effect: "<id>", once per request id,
// deduplicated by the handler with DurableRequestId as natsrpc/durable.h
// recommends). Each line is written with O_APPEND and fsync. When its stdin
// closes it stops and prints its DurableStats.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/durable_metrics.h"
#include "natsrpc/natsrpc.h"
#include "test/compile/durable.natsrpc.h"
#include "test/compile/durable.pb.h"
#include "test_connect.h"

extern char** environ;

namespace natsrpc {
namespace {

namespace dv1 = ::natsrpc_test::durable;

constexpr int kRequests = 1000;
constexpr char kResponder[] = "worker";
constexpr char kRequester[] = "tester";

// The options both sides use: short enough for a test.
DurableOptions TestDurableOptions() {
  DurableOptions o;
  o.ack_wait = absl::Seconds(2);
  o.max_deliver = 3;
  o.retry_delay = absl::Milliseconds(100);
  o.fetch_batch = 8;
  return o;
}

// Appends `line` and a newline to `path` with O_APPEND, then fsync: a line
// the process wrote is there even if it is killed right after.
void AppendLine(const std::string& path, const std::string& line) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) std::abort();
  const std::string data = line + "\n";
  if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    std::abort();
  fsync(fd);
  close(fd);
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// ---- The responder process ----------------------------------------------

constexpr absl::Duration kSlowJob = absl::Milliseconds(300);
bool IsSlow(int64_t n) { return n > 0 && n % 100 == 0; }
// A job whose handler kills its process right after its side effect.
constexpr int64_t kCrashAfterEffect = -7;
// A job whose handler runs longer than the ack wait.
constexpr int64_t kLongJob = -9;

class JobsImpl final : public dv1::Jobs::Service {
 public:
  explicit JobsImpl(std::string dir) : dir_(std::move(dir)) {
    for (const std::string& id : ReadLines(dir_ + "/effects.log")) {
      done_.insert(id);
    }
  }

  absl::Status Ping(ServerContext&, const dv1::Job& request,
                    dv1::JobResult& response) override {
    response.set_n(request.n() + 1);
    return absl::OkStatus();
  }

  absl::Status Run(ServerContext& context, const dv1::Job& request,
                   dv1::JobResult& response) override {
    const std::string id(DurableRequestId(context));
    AppendLine(dir_ + "/runs.log", "start " + id);
    if (request.n() == kCrashAfterEffect) {
      // The side effect, then a crash before the result is stored.
      if (done_.insert(id).second) {
        AppendLine(dir_ + "/effects.log", id);
        raise(SIGKILL);
      }
      response.set_id(id);
      AppendLine(dir_ + "/runs.log", "end " + id);
      return absl::OkStatus();
    }
    if (request.n() == kLongJob) {
      // Longer than the ack wait (TestDurableOptions).
      absl::SleepFor(absl::Seconds(5));
      response.set_id(id);
      AppendLine(dir_ + "/runs.log", "end " + id);
      return absl::OkStatus();
    }
    if (request.n() < 0) {
      AppendLine(dir_ + "/runs.log", "end " + id);
      return absl::UnavailableError(
          absl::StrCat("job ", id, " needs a resource that is never there"));
    }
    // The work the process may be killed in: every 100th job is slow, so
    // that the test can kill the process while it surely runs a handler.
    absl::SleepFor(IsSlow(request.n()) ? kSlowJob : absl::Milliseconds(2));
    // The side effect, idempotent per request id: a crash after it but
    // before the result is stored runs the handler again.
    if (done_.insert(id).second) AppendLine(dir_ + "/effects.log", id);
    response.set_id(id);
    response.set_n(request.n() * 2);
    AppendLine(dir_ + "/runs.log", "end " + id);
    return absl::OkStatus();
  }

 private:
  const std::string dir_;
  std::set<std::string> done_;  // one service thread: no lock needed
};

int ServeDurable(const std::string& url, const std::string& dir) {
  ConnectOptions co;
  co.url = url;
  absl::StatusOr<Connection> conn = Connect(co);
  if (!conn.ok()) {
    std::cerr << conn.status() << "\n";
    return 1;
  }
  JobsImpl impl(dir);
  DurableServer server(*conn, kResponder, TestDurableOptions());
  if (absl::Status s = server.AddService(impl); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  // Until the test kills us, or closes our stdin.
  char c;
  while (read(STDIN_FILENO, &c, 1) > 0) {
  }
  server.Stop();
  const DurableStats st = server.stats();
  std::cout << absl::StrFormat(
                   "stats delivered=%d redelivered=%d handled=%d "
                   "completed=%d already_done=%d retried=%d "
                   "dead_lettered=%d errors=%d",
                   st.delivered, st.redelivered, st.handled, st.completed,
                   st.already_done, st.retried, st.dead_lettered, st.errors)
            << std::endl;
  return 0;
}

// ---- The test -------------------------------------------------------------
//
// Run's submit call is SubmitRun_: the IDL also has a durable method named
// SubmitRun (plugin/durable_names.h).

// Waits until `done` holds, checking every 20 ms, for at most `timeout`.
template <typename F>
absl::Status WaitFor(F done, absl::Duration timeout, absl::string_view what) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out after ", absl::FormatDuration(timeout),
                       " waiting for ", what));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadLine(int fd, absl::Duration timeout) {
  std::string line;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const int left =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left <= 0) return absl::DeadlineExceededError("no line from child");
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) {
      return absl::DeadlineExceededError("no line from the child process");
    }
    char c;
    if (read(fd, &c, 1) != 1) {
      return absl::UnavailableError("the child process closed its output");
    }
    if (c == '\n') return line;
    line += c;
  }
}

// A responder process: this binary with --durable_responder.
class Responder {
 public:
  static absl::StatusOr<std::unique_ptr<Responder>> Start(
      const std::string& url, const std::string& dir) {
    auto r = std::unique_ptr<Responder>(new Responder());
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return absl::InternalError("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string self = "/proc/self/exe";
    const std::string f1 = absl::StrCat("--durable_responder=", url);
    const std::string f2 = absl::StrCat("--dir=", dir);
    char* argv[] = {const_cast<char*>(self.c_str()),
                    const_cast<char*>(f1.c_str()),
                    const_cast<char*>(f2.c_str()), nullptr};
    int rc =
        posix_spawn(&r->pid_, self.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    r->in_ = in[1];
    r->out_ = out[0];
    if (rc != 0) return absl::InternalError("posix_spawn");
    absl::StatusOr<std::string> ready = ReadLine(r->out_, absl::Seconds(30));
    if (!ready.ok()) return ready.status();
    if (*ready != "ready") {
      return absl::InternalError(absl::StrCat("child said ", *ready));
    }
    return r;
  }

  ~Responder() {
    if (pid_ > 0) Kill();
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
  }

  void Kill() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Waits, bounded, for the process to end on its own.
  absl::Status WaitExit(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::OkStatus();
      }
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError("the responder did not end");
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  // Closes its stdin; returns its stats line.
  absl::StatusOr<std::string> Finish() {
    close(in_);
    in_ = -1;
    absl::StatusOr<std::string> line = ReadLine(out_, absl::Seconds(30));
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return line;
  }

 private:
  Responder() = default;
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
};

std::map<std::string, uint64_t> ParseStats(const std::string& line) {
  std::map<std::string, uint64_t> out;
  for (absl::string_view field : absl::StrSplit(line, ' ')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(field, '=');
    uint64_t v = 0;
    if (absl::SimpleAtoi(kv.second, &v)) out[kv.first] = v;
  }
  return out;
}

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/natsrpc_durable_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

class DurableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = TempDir();
    dir_ = TempDir();
    testing::NatsServer::Options o;
    o.args = {"-js", "-sd", store_};
    auto server = testing::NatsServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    nats_ = *std::move(server);
    ConnectOptions co;
    co.url = nats_->url();
    auto conn = testing::ConnectForTest(co);
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::make_unique<Connection>(*std::move(conn));
  }

  void TearDown() override {
    conn_.reset();
    nats_.reset();
    std::string cmd = absl::StrCat("rm -rf '", store_, "' '", dir_, "'");
    if (std::system(cmd.c_str()) != 0) std::cerr << "cannot remove dirs\n";
  }

  size_t CountLines(const std::string& name) {
    return ReadLines(dir_ + "/" + name).size();
  }

  std::string store_, dir_;
  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(DurableTest, OfflineResponderKilledTwiceProcessesEveryRequestOnce) {
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = kResponder},
      TestDurableOptions());
  ASSERT_TRUE(jobs.status().ok()) << jobs.status();

  // Dead letters, as any subscriber with the permission sees them.
  absl::Mutex mu;
  std::vector<MessagePtr> dead;
  auto sub = conn_->transport().Subscribe(
      absl::StrCat("durable_dead.", kRequester, ".", kResponder, ".>"), "",
      [&](MessagePtr m) {
        absl::MutexLock lock(&mu);
        dead.push_back(std::move(m));
      });
  ASSERT_TRUE(sub.ok()) << sub.status();

  // 1,000 requests while no responder runs.
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < kRequests; ++i) {
    dv1::Job job;
    job.set_n(i);
    auto t = jobs.SubmitRun_(
        job, DurableCallOptions{.request_id = absl::StrFormat("job-%04d", i)});
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_FALSE(t->duplicate) << i;
  }
  std::cout << kRequests << " requests stored in "
            << absl::FormatDuration(absl::Now() - t0) << "\n";
  // The same id again within the duplicate window: not stored again.
  {
    dv1::Job job;
    job.set_n(0);
    auto t = jobs.SubmitRun_(job, DurableCallOptions{.request_id = "job-0000"});
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(t->duplicate);
  }
  // One that always fails with a retryable code.
  {
    dv1::Job job;
    job.set_n(-1);
    ASSERT_TRUE(
        jobs.SubmitRun_(job, DurableCallOptions{.request_id = "poison"}).ok());
  }
  // Nothing processed yet.
  {
    auto r = jobs.FetchRun("job-0001");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->ready);
  }
  // A requester that waits for its reply while the responder is offline.
  absl::StatusOr<dv1::JobResult> waited = absl::UnknownError("not done");
  std::thread waiter([&] {
    dv1::Job job;
    job.set_n(21);
    waited = jobs.Run(job, DurableCallOptions{.request_id = "waiter",
                                              .timeout = absl::Seconds(120)});
  });

  auto runs = [&] {
    size_t n = 0;
    for (const std::string& l : ReadLines(dir_ + "/runs.log")) {
      if (absl::StartsWith(l, "start ")) ++n;
    }
    return n;
  };
  // The job whose handler runs now, if it is a slow one.
  auto running_slow_job = [&]() -> std::string {
    std::vector<std::string> lines = ReadLines(dir_ + "/runs.log");
    if (lines.empty() || !absl::StartsWith(lines.back(), "start job-")) {
      return "";
    }
    int n = 0;
    if (!absl::SimpleAtoi(lines.back().substr(10), &n) || !IsSlow(n)) {
      return "";
    }
    return lines.back().substr(6);
  };
  // Started, and killed -9 twice while a (slow) handler runs.
  std::vector<std::string> interrupted;
  for (size_t until : {size_t{200}, size_t{550}}) {
    auto child = Responder::Start(nats_->url(), dir_);
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_TRUE(
        WaitFor([&] { return runs() >= until && !running_slow_job().empty(); },
                absl::Seconds(120),
                absl::StrCat(until, " handler runs and a slow job"))
            .ok());
    (*child)->Kill();
    // Its handler never ended: the process died inside it.
    const std::string victim = running_slow_job();
    EXPECT_FALSE(victim.empty()) << "the kill came after the handler ended";
    interrupted.push_back(victim);
    std::cout << "responder killed -9 after " << runs()
              << " handler runs, inside the handler of " << victim << "\n";
  }
  // Started again: it finishes the work.
  auto child = Responder::Start(nats_->url(), dir_);
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(
      WaitFor([&] { return CountLines("effects.log") >= kRequests + 1; },
              absl::Seconds(180), "every side effect")
          .ok())
      << CountLines("effects.log") << " side effects";
  ASSERT_TRUE(WaitFor(
                  [&] {
                    absl::MutexLock lock(&mu);
                    return !dead.empty();
                  },
                  absl::Seconds(60), "the dead letter")
                  .ok());
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(waited->n(), 42);
  EXPECT_EQ(waited->id(), "waiter");

  // Every side effect exactly once.
  std::vector<std::string> effects = ReadLines(dir_ + "/effects.log");
  std::map<std::string, int> effect_count;
  for (const std::string& id : effects) ++effect_count[id];
  int duplicated = 0;
  for (const auto& [id, n] : effect_count) {
    if (n != 1) ++duplicated;
  }
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(effects.size(), static_cast<size_t>(kRequests + 1));
  int missing = 0;
  for (int i = 0; i < kRequests; ++i) {
    if (effect_count.count(absl::StrFormat("job-%04d", i)) == 0) ++missing;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(effect_count.count("poison"), 0u);

  // Handler runs: each request at least once; more only for a request a
  // kill interrupted (at most one per kill).
  std::map<std::string, int> run_count;
  for (const std::string& l : ReadLines(dir_ + "/runs.log")) {
    if (absl::StartsWith(l, "start ")) ++run_count[l.substr(6)];
  }
  int reruns = 0;
  for (const auto& [id, n] : run_count) {
    if (id != "poison") reruns += n - 1;
  }
  EXPECT_EQ(run_count.size(), static_cast<size_t>(kRequests + 2));
  // Exactly the two interrupted handlers ran again (redelivered).
  EXPECT_EQ(reruns, 2);
  for (const std::string& id : interrupted) EXPECT_EQ(run_count[id], 2) << id;
  EXPECT_EQ(run_count["poison"], 3);

  // The dead letter: the request, its last error and its deliveries.
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(dead.size(), 1u);
    const IncomingMessage& d = *dead[0];
    EXPECT_EQ(d.subject(),
              "durable_dead.tester.worker.natsrpc_test_durable."
              "Jobs.Run");
    EXPECT_EQ(d.header("Natsrpc-Request-Id").value_or(""), "poison");
    EXPECT_EQ(d.header("Natsrpc-Durable-Error").value_or(""),
              "UNAVAILABLE: job poison needs a resource that is never there");
    EXPECT_EQ(d.header("Natsrpc-Durable-Deliveries").value_or(""), "3");
    dv1::Job job;
    ASSERT_TRUE(
        job.ParseFromArray(d.data().data(), static_cast<int>(d.data().size())));
    EXPECT_EQ(job.n(), -1);
  }

  // Results fetched later by request id.
  int fetched = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto r = jobs.FetchRun(absl::StrFormat("job-%04d", i));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ready) << i;
    ASSERT_TRUE(r->result.ok()) << r->result.status();
    EXPECT_EQ(r->result->n(), 2 * i);
    ++fetched;
  }
  EXPECT_EQ(fetched, kRequests);
  {
    auto r = jobs.FetchRun("poison");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ready);
    EXPECT_EQ(r->result.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(r->result.status().message(),
              "job poison needs a resource that is never there");
  }

  // The last responder's counters: redeliveries of what the second kill
  // left unacknowledged.
  absl::StatusOr<std::string> stats = (*child)->Finish();
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::cout << "third responder: " << *stats << "\n";
  std::map<std::string, uint64_t> st = ParseStats(*stats);
  EXPECT_GE(st["redelivered"], 1u);
  EXPECT_EQ(st["dead_lettered"], 1u);
  std::cout << "side effects: " << effects.size() << " (" << duplicated
            << " duplicated, " << missing << " missing); handler re-runs "
            << "after kills: " << reruns << "; results fetched: " << fetched
            << "\n";
}

// A request sent again with the same id after it was processed is not
// processed again (its result is kept), even after the duplicate window.
TEST_F(DurableTest, SameIdAfterTheResultIsNotRunAgain) {
  DurableOptions o = TestDurableOptions();
  o.duplicate_window = absl::Seconds(1);
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = "solo"}, o);
  JobsImpl impl(dir_);
  DurableServer server(*conn_, "solo", o);
  ASSERT_TRUE(server.AddService(impl).ok());
  dv1::Job job;
  job.set_n(5);
  auto r = jobs.Run(job, DurableCallOptions{.request_id = "once",
                                            .timeout = absl::Seconds(30)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n(), 10);
  // Past the duplicate window, the stream stores it again; the responder
  // finds the result and does not run the handler.
  absl::SleepFor(absl::Milliseconds(1100));  // the window itself, not a sync
  auto t = jobs.SubmitRun_(job, DurableCallOptions{.request_id = "once"});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->duplicate);
  ASSERT_TRUE(WaitFor([&] { return server.stats().already_done >= 1; },
                      absl::Seconds(30), "the second delivery")
                  .ok());
  size_t starts = 0;
  for (const std::string& l : ReadLines(dir_ + "/runs.log")) {
    if (l == "start once") ++starts;
  }
  EXPECT_EQ(starts, 1u);
  EXPECT_EQ(server.stats().handled, 1u);
}

// The window exactly-once cannot close: the handler's side effect done,
// then the process dies before the result is stored. The request is
// delivered again and the handler runs again; its own dedupe by
// DurableRequestId keeps the side effect single.
TEST_F(DurableTest, CrashAfterSideEffectRunsHandlerAgainEffectOnce) {
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = kResponder},
      TestDurableOptions());
  dv1::Job job;
  job.set_n(kCrashAfterEffect);
  ASSERT_TRUE(
      jobs.SubmitRun_(job, DurableCallOptions{.request_id = "crashy"}).ok());
  {
    auto child = Responder::Start(nats_->url(), dir_);
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_TRUE((*child)->WaitExit(absl::Seconds(60)).ok());
  }
  auto child = Responder::Start(nats_->url(), dir_);
  ASSERT_TRUE(child.ok()) << child.status();
  auto r = jobs.FetchRun("crashy", absl::Seconds(60));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->ready);
  ASSERT_TRUE(r->result.ok()) << r->result.status();
  EXPECT_EQ(r->result->id(), "crashy");
  size_t starts = 0;
  for (const std::string& l : ReadLines(dir_ + "/runs.log")) {
    starts += l == "start crashy";
  }
  EXPECT_EQ(starts, 2u);
  EXPECT_EQ(ReadLines(dir_ + "/effects.log"),
            std::vector<std::string>{"crashy"});
  absl::StatusOr<std::string> stats = (*child)->Finish();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ParseStats(*stats)["redelivered"], 1u) << *stats;
}

// Per call: a method the IDL does not mark durable, called durably through
// the untyped client.
TEST_F(DurableTest, PerCallDurableRequestOfAMethodNotMarkedDurable) {
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = "percall"},
      TestDurableOptions());
  JobsImpl impl(dir_);
  DurableServer server(*conn_, "percall", TestDurableOptions());
  ASSERT_TRUE(server.AddService(impl).ok());
  dv1::Job job;
  job.set_n(4);
  auto r =
      jobs.raw().Call("Ping", job.SerializeAsString(), kProtobufContentType,
                      DurableCallOptions{.timeout = absl::Seconds(30)});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->ready);
  ASSERT_TRUE(r->status.ok()) << r->status;
  dv1::JobResult reply;
  ASSERT_TRUE(reply.ParseFromString(r->payload));
  EXPECT_EQ(reply.n(), 5);
  // A method the service does not have: a final UNIMPLEMENTED result.
  auto u = jobs.raw().Call("Nope", "", kProtobufContentType,
                           DurableCallOptions{.timeout = absl::Seconds(30)});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->status.code(), absl::StatusCode::kUnimplemented) << u->status;
}

// Stored requests survive a nats-server crash (SIGKILL) and restart on the
// same store; the requester's connection reconnects and reads the results.
TEST_F(DurableTest, StoredRequestsSurviveNatsServerRestart) {
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = "restart"},
      TestDurableOptions());
  constexpr int kStored = 50;
  for (int i = 0; i < kStored; ++i) {
    dv1::Job job;
    job.set_n(i);
    ASSERT_TRUE(
        jobs.SubmitRun_(job,
                        DurableCallOptions{.request_id = absl::StrCat("r", i)})
            .ok());
  }
  ASSERT_TRUE(nats_->Kill().ok());
  ASSERT_TRUE(nats_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return conn_->connected(); }, absl::Seconds(30),
                      "the reconnect")
                  .ok());
  JobsImpl impl(dir_);
  DurableServer server(*conn_, "restart", TestDurableOptions());
  absl::Status added;
  // JetStream may still be recovering its streams right after the restart.
  ASSERT_TRUE(WaitFor([&] { return (added = server.AddService(impl)).ok(); },
                      absl::Seconds(30), "JetStream after the restart")
                  .ok())
      << added;
  auto last = jobs.FetchRun(absl::StrCat("r", kStored - 1), absl::Seconds(60));
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(last->ready);
  for (int i = 0; i < kStored; ++i) {
    auto r = jobs.FetchRun(absl::StrCat("r", i));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ready) << i;
    EXPECT_EQ(r->result->n(), 2 * i);
  }
  EXPECT_EQ(ReadLines(dir_ + "/effects.log").size(),
            static_cast<size_t>(kStored));
}

// A handler running longer than the ack wait is not delivered again, to
// another instance of the responder either: the responder reports it in
// progress.
TEST_F(DurableTest, HandlerLongerThanAckWaitIsNotDeliveredAgain) {
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = "long"},
      TestDurableOptions());
  // Two instances pulling from the same consumer.
  JobsImpl impl1(dir_), impl2(dir_);
  DurableServer server1(*conn_, "long", TestDurableOptions());
  DurableServer server2(*conn_, "long", TestDurableOptions());
  ASSERT_TRUE(server1.AddService(impl1).ok());
  ASSERT_TRUE(server2.AddService(impl2).ok());
  dv1::Job job;
  job.set_n(kLongJob);
  auto r = jobs.Run(job, DurableCallOptions{.request_id = "long",
                                            .timeout = absl::Seconds(60)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), "long");
  server1.Stop();
  server2.Stop();
  const DurableStats s1 = server1.stats(), s2 = server2.stats();
  EXPECT_EQ(s1.redelivered + s2.redelivered, 0u);
  EXPECT_EQ(s1.handled + s2.handled, 1u);
  size_t starts = 0;
  for (const std::string& l : ReadLines(dir_ + "/runs.log")) {
    starts += l == "start long";
  }
  EXPECT_EQ(starts, 1u);
}

// ---- Interceptors, per-method stats and trace context (issue 13) ---------

// A job whose handler throws.
constexpr int64_t kThrows = -13;

// A service that records what each run of its handler saw.
class ObservedJobs final : public dv1::Jobs::Service {
 public:
  struct Seen {
    std::string id;
    TraceContext trace;    // ServerContext::trace_context()
    TraceContext current;  // CurrentTraceContext() while it ran
    absl::Time deadline;
  };

  absl::Status Run(ServerContext& context, const dv1::Job& request,
                   dv1::JobResult& response) override {
    absl::MutexLock lock(&mu);
    seen.push_back({std::string(DurableRequestId(context)),
                    context.trace_context(), CurrentTraceContext(),
                    context.deadline()});
    if (request.n() == kThrows) throw std::runtime_error("out of paper");
    response.set_n(request.n() * 2);
    return absl::OkStatus();
  }

  absl::Mutex mu;
  std::vector<Seen> seen ABSL_GUARDED_BY(mu);
};

// Records every call it is asked about, and refuses those whose `x-user`
// header is "mallory" (PERMISSION_DENIED, final) or "later" (UNAVAILABLE,
// retryable).
class RecordingInterceptor final : public ServerInterceptor {
 public:
  struct Call {
    std::string requester, responder, app, service, method, id;
    CallKind kind = CallKind::kClientStreaming;
    absl::Time deadline;
    TraceContext trace;  // CallInfo::trace at Intercept()
    bool finished = false;
    absl::Status status;
  };

  std::unique_ptr<ServerCallInterceptor> Intercept(
      const CallInfo& call) override {
    absl::MutexLock lock(&mu);
    Call c;
    c.requester = std::string(call.requester);
    c.responder = std::string(call.responder);
    c.app = std::string(call.app);
    c.service = std::string(call.service);
    c.method = std::string(call.method);
    c.kind = call.kind;
    c.deadline = call.deadline;
    if (call.trace != nullptr) c.trace = *call.trace;
    calls.push_back(std::move(c));
    return std::make_unique<PerCall>(*this, calls.size() - 1);
  }

  std::vector<Call> Calls() {
    absl::MutexLock lock(&mu);
    return calls;
  }

 private:
  class PerCall final : public ServerCallInterceptor {
   public:
    PerCall(RecordingInterceptor& owner, size_t index)
        : owner_(owner), index_(index) {}
    absl::Status OnStart(const Metadata& metadata) override {
      std::string user, id;
      for (const auto& [k, v] : metadata) {
        if (k == "x-user") user = v;
        if (k == "Natsrpc-Request-Id") id = v;
      }
      {
        absl::MutexLock lock(&owner_.mu);
        owner_.calls[index_].id = id;
      }
      if (user == "mallory") {
        return absl::PermissionDeniedError("mallory may not run jobs");
      }
      if (user == "later") return absl::UnavailableError("come back later");
      return absl::OkStatus();
    }
    void OnFinish(const absl::Status& status, Metadata&) override {
      absl::MutexLock lock(&owner_.mu);
      owner_.calls[index_].finished = true;
      owner_.calls[index_].status = status;
    }

   private:
    RecordingInterceptor& owner_;
    const size_t index_;
  };

  absl::Mutex mu;
  std::vector<Call> calls ABSL_GUARDED_BY(mu);
};

TEST_F(DurableTest, InterceptorsSeeEveryRunWithTraceAndMethodStats) {
  auto recorder = std::make_shared<RecordingInterceptor>();
  DurableOptions o = TestDurableOptions();
  o.interceptors = {recorder};
  ObservedJobs impl;
  DurableServer server(*conn_, "icpt", o);
  ASSERT_TRUE(server.AddService(impl).ok());
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = "icpt"}, o);
  auto call = [&](const std::string& id, const std::string& user,
                  Metadata extra = {}) -> absl::StatusOr<dv1::JobResult> {
    dv1::Job job;
    job.set_n(21);
    Metadata md = {{"x-user", user}};
    for (auto& kv : extra) md.push_back(std::move(kv));
    auto t = jobs.SubmitRun_(
        job, DurableCallOptions{.request_id = id, .metadata = md});
    EXPECT_TRUE(t.ok()) << id << ": " << t.status();
    auto r = jobs.FetchRun(id, absl::Seconds(30));
    if (!r.ok()) return r.status();
    EXPECT_TRUE(r->ready) << id;
    return r->result;
  };

  // 1. Allowed, with the caller's traceparent in its metadata.
  constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
  constexpr char kCallerSpan[] = "00f067aa0ba902b7";
  absl::StatusOr<dv1::JobResult> ok =
      call("traced", "alice",
           {{"traceparent",
             absl::StrCat("00-", kTraceId, "-", kCallerSpan, "-01")}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->n(), 42);
  // 2. Refused for good: the refusal is the stored result.
  absl::StatusOr<dv1::JobResult> denied = call("refused", "mallory");
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied)
      << denied.status();
  EXPECT_EQ(denied.status().message(), "mallory may not run jobs");
  // 3. Refused with a retryable code: delivered again, then dead-lettered
  //    with the refusal on the max_deliver-th (3rd) delivery.
  absl::StatusOr<dv1::JobResult> later = call("later", "later");
  EXPECT_EQ(later.status().code(), absl::StatusCode::kUnavailable)
      << later.status();
  EXPECT_EQ(later.status().message(), "come back later");
  // 4. Submitted inside a span: the request carries a child of it.
  const TraceContext root = TraceContext::NewRoot();
  {
    ScopedTraceContext scope(root);
    dv1::Job job;
    job.set_n(1);
    auto t = jobs.SubmitRun_(
        job, DurableCallOptions{.request_id = "in-span",
                                .metadata = {{"x-user", "alice"}}});
    ASSERT_TRUE(t.ok()) << t.status();
  }
  auto in_span = jobs.FetchRun("in-span", absl::Seconds(30));
  ASSERT_TRUE(in_span.ok() && in_span->ready && in_span->result.ok());

  // The handler ran for the allowed requests only.
  {
    absl::MutexLock lock(&impl.mu);
    ASSERT_EQ(impl.seen.size(), 2u);
    const ObservedJobs::Seen& traced = impl.seen[0];
    EXPECT_EQ(traced.id, "traced");
    EXPECT_EQ(traced.deadline, absl::InfiniteFuture());
    EXPECT_EQ(traced.trace.trace_id, kTraceId);
    EXPECT_EQ(traced.trace.parent_span_id, kCallerSpan);
    EXPECT_TRUE(traced.trace.valid());
    EXPECT_NE(traced.trace.span_id, kCallerSpan);
    // The run's span is the handler thread's current one.
    EXPECT_EQ(traced.current.span_id, traced.trace.span_id);
    const ObservedJobs::Seen& spanned = impl.seen[1];
    EXPECT_EQ(spanned.id, "in-span");
    EXPECT_EQ(spanned.trace.trace_id, root.trace_id);
    // A child of the submit's span, itself a child of `root`.
    EXPECT_NE(spanned.trace.parent_span_id, root.span_id);
    EXPECT_NE(spanned.trace.span_id, root.span_id);
  }

  // The interceptor saw each run: 1 + 1 + 3 + 1, in order.
  std::vector<RecordingInterceptor::Call> calls = recorder->Calls();
  ASSERT_EQ(calls.size(), 6u);
  const std::vector<std::pair<std::string, absl::StatusCode>> expected = {
      {"traced", absl::StatusCode::kOk},
      {"refused", absl::StatusCode::kPermissionDenied},
      {"later", absl::StatusCode::kUnavailable},
      {"later", absl::StatusCode::kUnavailable},
      {"later", absl::StatusCode::kUnavailable},
      {"in-span", absl::StatusCode::kOk}};
  for (size_t i = 0; i < calls.size(); ++i) {
    const RecordingInterceptor::Call& c = calls[i];
    EXPECT_EQ(c.id, expected[i].first) << i;
    EXPECT_TRUE(c.finished) << i;
    EXPECT_EQ(c.status.code(), expected[i].second) << i << ": " << c.status;
    EXPECT_EQ(c.requester, kRequester);
    EXPECT_EQ(c.responder, "icpt");
    EXPECT_EQ(c.app, "natsrpc_test_durable");
    EXPECT_EQ(c.service, "Jobs");
    EXPECT_EQ(c.method, "Run");
    EXPECT_EQ(c.kind, CallKind::kUnary);
    EXPECT_EQ(c.deadline, absl::InfiniteFuture());
  }
  EXPECT_EQ(calls[0].trace.trace_id, kTraceId);
  EXPECT_EQ(calls[0].trace.parent_span_id, kCallerSpan);
  EXPECT_FALSE(calls[1].trace.valid());  // no traceparent, no span

  // Per-method stats count every run by code.
  std::vector<MethodStats> stats = server.method_stats();
  ASSERT_EQ(stats.size(), 1u);
  const MethodStats& run = stats[0];
  EXPECT_EQ(run.app, "natsrpc_test_durable");
  EXPECT_EQ(run.service, "Jobs");
  EXPECT_EQ(run.method, "Run");
  EXPECT_EQ(run.calls, 6u);
  EXPECT_EQ(run.finished, 6u);
  EXPECT_EQ(run.in_flight, 0u);
  EXPECT_EQ(run.ok, 2u);
  EXPECT_EQ(run.errors.size(), 2u);
  EXPECT_EQ(run.errors.at(absl::StatusCode::kPermissionDenied), 1u);
  EXPECT_EQ(run.errors.at(absl::StatusCode::kUnavailable), 3u);
  EXPECT_EQ(run.last_error, "UNAVAILABLE: come back later");
  const DurableStats ds = server.stats();
  EXPECT_EQ(ds.handled, 2u);
  EXPECT_EQ(ds.retried, 2u);
  EXPECT_EQ(ds.dead_lettered, 1u);

  // Their Prometheus text, in families of their own.
  const std::string text = PrometheusText(stats, "icpt");
  std::cout << text;
  const std::string labels =
      "responder=\"icpt\",app=\"natsrpc_test_durable\",service=\"Jobs\","
      "method=\"Run\"";
  for (const std::string& line :
       {absl::StrCat("natsrpc_durable_requests_total{", labels,
                     ",code=\"OK\"} 2"),
        absl::StrCat("natsrpc_durable_requests_total{", labels,
                     ",code=\"PERMISSION_DENIED\"} 1"),
        absl::StrCat("natsrpc_durable_requests_total{", labels,
                     ",code=\"UNAVAILABLE\"} 3"),
        absl::StrCat("natsrpc_durable_requests_started_total{", labels, "} 6"),
        absl::StrCat("natsrpc_durable_requests_in_flight{", labels, "} 0"),
        absl::StrCat("natsrpc_durable_handling_seconds_bucket{", labels,
                     ",le=\"+Inf\"} 6"),
        absl::StrCat("natsrpc_durable_handling_seconds_count{", labels, "} 6"),
        std::string("# TYPE natsrpc_durable_handling_seconds histogram")}) {
    EXPECT_TRUE(absl::StrContains(text, line + "\n")) << line;
  }
}

// A handler that throws fails the run with UNKNOWN (retryable), as on a
// natsrpc::Server: delivered again, then dead-lettered; the responder lives.
TEST_F(DurableTest, HandlerThatThrowsIsRetriedThenDeadLettered) {
  ObservedJobs impl;
  DurableServer server(*conn_, "thrower", TestDurableOptions());
  ASSERT_TRUE(server.AddService(impl).ok());
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = "thrower"},
      TestDurableOptions());
  dv1::Job job;
  job.set_n(kThrows);
  auto r = jobs.Run(job, DurableCallOptions{.request_id = "throws",
                                            .timeout = absl::Seconds(30)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnknown) << r.status();
  EXPECT_EQ(r.status().message(), "handler of Jobs.Run threw: out of paper");
  // Still serving.
  job.set_n(2);
  r = jobs.Run(job, DurableCallOptions{.timeout = absl::Seconds(30)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n(), 4);
  const DurableStats st = server.stats();
  EXPECT_EQ(st.handled, 4u);  // 3 deliveries of "throws", then one more
  EXPECT_EQ(st.dead_lettered, 1u);
  std::vector<MethodStats> ms = server.method_stats();
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].errors[absl::StatusCode::kUnknown], 3u);
  EXPECT_EQ(ms[0].ok, 1u);
}

TEST_F(DurableTest, BadRequestIdIsInvalidArgument) {
  dv1::Jobs::DurableClient jobs(
      *conn_, ClientOptions{.requester = kRequester, .responder = kResponder});
  dv1::Job job;
  auto t = jobs.SubmitRun_(job, DurableCallOptions{.request_id = "a.b"});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("request id"), absl::string_view::npos)
      << t.status();
}

TEST(DurableNoJetStreamTest, ServerWithoutJetStreamIsUnavailable) {
  auto server = testing::NatsServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ConnectOptions co;
  co.url = (*server)->url();
  auto conn = testing::ConnectForTest(co);
  ASSERT_TRUE(conn.ok());
  DurableOptions o;
  o.jetstream.timeout = absl::Seconds(2);
  dv1::Jobs::DurableClient jobs(
      *conn, ClientOptions{.requester = kRequester, .responder = kResponder},
      o);
  dv1::Job job;
  auto t = jobs.SubmitRun_(job);
  EXPECT_FALSE(t.ok());
  std::cout << "without JetStream: " << t.status() << "\n";
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  constexpr char kServe[] = "--durable_responder=";
  constexpr char kDir[] = "--dir=";
  std::string url, dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kServe, sizeof(kServe) - 1) == 0) {
      url = argv[i] + sizeof(kServe) - 1;
    } else if (std::strncmp(argv[i], kDir, sizeof(kDir) - 1) == 0) {
      dir = argv[i] + sizeof(kDir) - 1;
    }
  }
  if (!url.empty()) return natsrpc::ServeDurable(url, dir);
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
