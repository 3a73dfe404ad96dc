// Copyright 2026 The natsrpc Authors.
//
// Events and scatter-gather (natsrpc/fanout.h, docs/protocol.md section 13)
// through the generated code of proto/example/v1/fleet.proto, on a real
// nats-server with three server instances of one responder: one fast, one
// slow, one failing.

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "example/v1/fleet.natsrpc.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

namespace ev1 = ::example::v1;

constexpr absl::Duration kWait = absl::Seconds(20);

// One worker: answers Status after `delay` with `status`, and records the
// events it receives.
class FleetImpl final : public ev1::Fleet::Service {
 public:
  FleetImpl(std::string name, absl::Duration delay, absl::Status status)
      : name_(std::move(name)), delay_(delay), status_(std::move(status)) {}

  absl::Status Status(ServerContext& context, const ev1::StatusRequest&,
                      ev1::StatusReply& reply) override {
    // Slowness is what this worker simulates, not a synchronisation.
    if (delay_ > absl::ZeroDuration()) absl::SleepFor(delay_);
    if (!status_.ok()) return status_;
    if (end_gather_) context.EndGather();
    reply.set_worker(name_);
    absl::MutexLock lock(&mu_);
    reply.set_jobs_done(static_cast<int64_t>(jobs_.size()));
    return absl::OkStatus();
  }

  absl::Status Alarm(ServerContext& context,
                     const ev1::AlarmEvent& event) override {
    absl::MutexLock lock(&mu_);
    alarms_.push_back(absl::StrCat(event.text(), "|",
                                   context.metadata("x-origin").value_or("")));
    alarm_requester_ = std::string(context.requester());
    return absl::OkStatus();
  }

  absl::Status Job(ServerContext&, const ev1::JobEvent& event) override {
    if (job_gate_ != nullptr) job_gate_->WaitForNotification();
    absl::MutexLock lock(&mu_);
    jobs_.push_back(event.id());
    if (fail_jobs_) return absl::InternalError("job failed");
    return absl::OkStatus();
  }

  void set_end_gather(bool v) { end_gather_ = v; }
  void set_fail_jobs(bool v) { fail_jobs_ = v; }
  // Job handlers wait for `gate` (set before the first job arrives).
  void set_job_gate(absl::Notification* gate) { job_gate_ = gate; }

  // Waits until `n` alarms arrived; false after kWait.
  bool WaitAlarms(size_t n) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](std::pair<FleetImpl*, size_t>* a) {
                                      return a->first->alarms_.size() >=
                                             a->second;
                                    },
                                    new_pair(n)),
                                kWait);
  }
  std::vector<std::string> alarms() {
    absl::MutexLock lock(&mu_);
    return alarms_;
  }
  std::string alarm_requester() {
    absl::MutexLock lock(&mu_);
    return alarm_requester_;
  }
  std::vector<int64_t> jobs() {
    absl::MutexLock lock(&mu_);
    return jobs_;
  }
  size_t job_count() {
    absl::MutexLock lock(&mu_);
    return jobs_.size();
  }
  const std::string& name() const { return name_; }

 private:
  std::pair<FleetImpl*, size_t>* new_pair(size_t n) {
    wait_arg_ = {this, n};
    return &wait_arg_;
  }

  const std::string name_;
  const absl::Duration delay_;
  const absl::Status status_;
  bool end_gather_ = false;
  bool fail_jobs_ = false;
  absl::Notification* job_gate_ = nullptr;
  absl::Mutex mu_;
  std::vector<std::string> alarms_ ABSL_GUARDED_BY(mu_);
  std::string alarm_requester_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> jobs_ ABSL_GUARDED_BY(mu_);
  std::pair<FleetImpl*, size_t> wait_arg_;
};

class FanoutTest : public ::testing::Test {
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

  static std::unique_ptr<Connection> Connect() {
    absl::StatusOr<Connection> c =
        testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::make_unique<Connection>(*c) : nullptr;
  }

  // Starts one instance of responder "fleet" on a connection of its own.
  FleetImpl& AddInstance(
      std::string name, absl::Duration delay,
      absl::Status status = absl::OkStatus(),
      std::vector<std::shared_ptr<ServerInterceptor>> interceptors = {}) {
    Instance instance;
    instance.conn = Connect();
    instance.impl =
        std::make_unique<FleetImpl>(std::move(name), delay, std::move(status));
    ServerOptions options{.responder = "fleet", .discovery = false};
    options.interceptors = std::move(interceptors);
    instance.server = std::make_unique<Server>(*instance.conn, options);
    absl::Status s = instance.server->AddService(*instance.impl);
    EXPECT_TRUE(s.ok()) << s;
    instances_.push_back(std::move(instance));
    return *instances_.back().impl;
  }

  // The three instances of the issue: fast, slow (`slow` per call), and
  // failing with FAILED_PRECONDITION.
  void AddThree(absl::Duration slow) {
    AddInstance("fast", absl::ZeroDuration());
    AddInstance("slow", slow);
    AddInstance("failing", absl::ZeroDuration(),
                absl::FailedPreconditionError("out of order"));
  }

  std::string InstanceId(size_t i) const {
    return instances_[i].server->instance_id();
  }

  ev1::Fleet::Client MakeClient(std::string responder = "fleet") {
    if (client_conn_ == nullptr) client_conn_ = Connect();
    return ev1::Fleet::Client(
        *client_conn_,
        ClientOptions{.requester = "boss", .responder = std::move(responder)});
  }

  void TearDown() override {
    for (Instance& i : instances_) i.server->Shutdown();
    instances_.clear();
  }

  struct Instance {
    std::unique_ptr<Connection> conn;
    std::unique_ptr<FleetImpl> impl;
    std::unique_ptr<Server> server;
  };
  static testing::NatsServer* nats_;
  std::vector<Instance> instances_;
  std::unique_ptr<Connection> client_conn_;
};

testing::NatsServer* FanoutTest::nats_ = nullptr;

// The replies by instance id.
template <typename T>
std::map<std::string, const GatherReply<T>*> ById(
    const std::vector<GatherReply<T>>& replies) {
  std::map<std::string, const GatherReply<T>*> out;
  for (const GatherReply<T>& r : replies) out[r.instance_id] = &r;
  return out;
}

TEST_F(FanoutTest, GatherCollectsEveryInstanceSlowAndFailingIncluded) {
  AddThree(absl::Milliseconds(300));
  ev1::Fleet::Client client = MakeClient();
  const absl::Time start = absl::Now();
  auto replies = client.StatusAll(
      ev1::StatusRequest(), {.timeout = absl::Seconds(10), .max_replies = 3});
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 3u);
  // Ended by the third reply, long before the deadline.
  EXPECT_LT(took, absl::Seconds(5));
  auto by_id = ById(*replies);
  ASSERT_EQ(by_id.size(), 3u) << "every reply names a different instance";
  ASSERT_TRUE(by_id.contains(InstanceId(0)));
  ASSERT_TRUE(by_id.contains(InstanceId(1)));
  ASSERT_TRUE(by_id.contains(InstanceId(2)));
  ASSERT_TRUE(by_id[InstanceId(0)]->reply.ok());
  EXPECT_EQ(by_id[InstanceId(0)]->reply->worker(), "fast");
  ASSERT_TRUE(by_id[InstanceId(1)]->reply.ok());
  EXPECT_EQ(by_id[InstanceId(1)]->reply->worker(), "slow");
  EXPECT_EQ(by_id[InstanceId(2)]->reply.status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(by_id[InstanceId(2)]->reply.status().message(), "out of order");
  // The slow one answered last.
  EXPECT_EQ(replies->back().instance_id, InstanceId(1));
}

TEST_F(FanoutTest, GatherEndsAtTheDeadlineWithWhatArrived) {
  AddThree(absl::Seconds(3));
  ev1::Fleet::Client client = MakeClient();
  const absl::Time start = absl::Now();
  auto replies = client.StatusAll(ev1::StatusRequest(),
                                  {.timeout = absl::Milliseconds(700)});
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_GE(took, absl::Milliseconds(700));
  EXPECT_LT(took, absl::Seconds(2));
  auto by_id = ById(*replies);
  EXPECT_EQ(replies->size(), 2u);
  EXPECT_TRUE(by_id.contains(InstanceId(0)));
  EXPECT_TRUE(by_id.contains(InstanceId(2)));
  EXPECT_FALSE(by_id.contains(InstanceId(1))) << "the slow one is late";
}

TEST_F(FanoutTest, GatherEndsAfterTheStallInterval) {
  AddThree(absl::Seconds(3));
  ev1::Fleet::Client client = MakeClient();
  const absl::Time start = absl::Now();
  auto replies = client.StatusAll(
      ev1::StatusRequest(),
      {.timeout = absl::Seconds(10), .stall = absl::Milliseconds(200)});
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(replies->size(), 2u);
  EXPECT_GE(took, absl::Milliseconds(200));
  EXPECT_LT(took, absl::Seconds(2)) << "not the slow instance's 3 s";
}

TEST_F(FanoutTest, GatherEndsAfterMaxReplies) {
  AddThree(absl::Seconds(3));
  ev1::Fleet::Client client = MakeClient();
  const absl::Time start = absl::Now();
  auto replies = client.StatusAll(
      ev1::StatusRequest(), {.timeout = absl::Seconds(10), .max_replies = 1});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(replies->size(), 1u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(FanoutTest, GatherEndsOnTheSentinel) {
  FleetImpl& fast = AddInstance("fast", absl::ZeroDuration());
  fast.set_end_gather(true);
  AddInstance("slow", absl::Seconds(3));
  AddInstance("slower", absl::Seconds(4));
  ev1::Fleet::Client client = MakeClient();
  const absl::Time start = absl::Now();
  auto replies =
      client.StatusAll(ev1::StatusRequest(), {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ(replies->front().instance_id, InstanceId(0));
  ASSERT_TRUE(replies->front().reply.ok());
  EXPECT_EQ(replies->front().reply->worker(), "fast");
}

TEST_F(FanoutTest, GatherCallbackForm) {
  AddThree(absl::Milliseconds(100));
  ev1::Fleet::Client client = MakeClient();
  absl::Notification done;
  absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> result;
  client.StatusAllAsync(
      ev1::StatusRequest(),
      [&](absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> r) {
        result = std::move(r);
        done.Notify();
      },
      {.timeout = absl::Seconds(10), .max_replies = 3});
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait))
      << "the callback never ran";
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->size(), 3u);
  EXPECT_EQ(ById(*result).size(), 3u);
}

TEST_F(FanoutTest, ManyGathersInFlightEachGetTheirOwnReplies) {
  AddInstance("a", absl::ZeroDuration());
  AddInstance("b", absl::ZeroDuration());
  AddInstance("c", absl::ZeroDuration());
  ev1::Fleet::Client client = MakeClient();
  // The calls share one reply subscription: each must get exactly the three
  // replies to its own request (the note is echoed back in none of them, so
  // count per call and check the instances).
  constexpr int kCalls = 64;
  absl::Mutex mu;
  int ended = 0;
  std::vector<std::string> problems;
  for (int i = 0; i < kCalls; ++i) {
    client.StatusAllAsync(
        ev1::StatusRequest(),
        [&, i](absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> r) {
          absl::MutexLock lock(&mu);
          ++ended;
          if (!r.ok()) {
            problems.push_back(absl::StrCat(i, ": ", r.status().ToString()));
          } else if (r->size() != 3 || ById(*r).size() != 3) {
            problems.push_back(absl::StrCat(i, ": ", r->size(), " replies"));
          }
        },
        {.timeout = absl::Seconds(15), .max_replies = 3});
  }
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(
      mu.AwaitWithTimeout(absl::Condition(
                              +[](int* n) { return *n == kCalls; }, &ended),
                          kWait))
      << ended << " of " << kCalls << " calls ended";
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST_F(FanoutTest, GatherCallbackOutlivesItsClient) {
  AddInstance("fast", absl::ZeroDuration());
  AddInstance("slow", absl::Milliseconds(300));
  absl::Notification done;
  absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> result;
  {
    ev1::Fleet::Client client = MakeClient();
    client.StatusAllAsync(
        ev1::StatusRequest(),
        [&](absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> r) {
          result = std::move(r);
          done.Notify();
        },
        {.timeout = absl::Seconds(10), .max_replies = 2});
  }  // the client is gone before the slow instance answers
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait))
      << "the callback never ran";
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->size(), 2u);
}

TEST_F(FanoutTest, GatherWithoutRevision5ServersIsUnavailable) {
  // A revision-4 server subscribes to the 6-token service wildcard only: the
  // every-instance subject has no subscriber, NATS answers "no responders".
  std::unique_ptr<Connection> old_server = Connect();
  std::atomic<int> seen{0};
  absl::StatusOr<std::unique_ptr<Subscription>> sub =
      old_server->transport().Subscribe(
          "requests.*.fleet.example_v1.Fleet.*", "natsrpc.fleet.example_v1",
          [&seen](MessagePtr) { seen.fetch_add(1); });
  ASSERT_TRUE(sub.ok()) << sub.status();
  ev1::Fleet::Client client = MakeClient();
  const absl::Time start = absl::Now();
  auto replies =
      client.StatusAll(ev1::StatusRequest(), {.timeout = absl::Seconds(10)});
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kUnavailable)
      << replies.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "failed fast";
  EXPECT_EQ(seen.load(), 0);
}

TEST_F(FanoutTest, BroadcastEventReachesEveryInstanceWithMetadata) {
  AddThree(absl::ZeroDuration());
  ev1::Fleet::Client client = MakeClient();
  ev1::AlarmEvent alarm;
  alarm.set_text("fire");
  EventOptions options;
  options.metadata = {{"x-origin", "sensor-7"}};
  ASSERT_TRUE(client.AlarmConfirmed(alarm, options).ok());
  alarm.set_text("smoke");
  ASSERT_TRUE(client.Alarm(alarm).ok());
  for (Instance& i : instances_) {
    ASSERT_TRUE(i.impl->WaitAlarms(2)) << i.impl->name() << " missed an alarm";
    // Each with its metadata (the second had none). Events run on the
    // worker pool like calls: in any order.
    std::vector<std::string> alarms = i.impl->alarms();
    std::sort(alarms.begin(), alarms.end());
    EXPECT_EQ(alarms, (std::vector<std::string>{"fire|sensor-7", "smoke|"}));
    EXPECT_EQ(i.impl->alarm_requester(), "boss");
  }
}

TEST_F(FanoutTest, QueuedEventReachesOneInstanceEach) {
  AddThree(absl::ZeroDuration());
  ev1::Fleet::Client client = MakeClient();
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) {
    ev1::JobEvent job;
    job.set_id(i);
    ASSERT_TRUE(client.Job(job).ok());
  }
  ev1::JobEvent last;
  last.set_id(kJobs);
  ASSERT_TRUE(client.JobConfirmed(last).ok());
  const absl::Time end = absl::Now() + kWait;
  auto total = [&] {
    size_t n = 0;
    for (Instance& i : instances_) n += i.impl->job_count();
    return n;
  };
  while (total() < kJobs + 1 && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  std::multiset<int64_t> ids;
  for (Instance& i : instances_) {
    for (int64_t id : i.impl->jobs()) ids.insert(id);
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kJobs + 1)) << "each job once";
  for (int i = 0; i <= kJobs; ++i) EXPECT_EQ(ids.count(i), 1u) << "job " << i;
}

TEST_F(FanoutTest, EventHandlerErrorsAreCountedNeverReplied) {
  FleetImpl& only = AddInstance("only", absl::ZeroDuration());
  only.set_fail_jobs(true);
  ev1::Fleet::Client client = MakeClient();
  for (int i = 0; i < 3; ++i) {
    ev1::JobEvent job;
    job.set_id(i);
    // Fire-and-forget: the handler's error never comes back.
    ASSERT_TRUE(client.JobConfirmed(job).ok());
  }
  Server& server = *instances_[0].server;
  const absl::Time end = absl::Now() + kWait;
  while (server.stats().events_handled < 3 && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(server.stats().events_handled, 3u);
  EXPECT_EQ(server.stats().events_failed, 3u);
  bool found = false;
  for (const MethodStats& m : server.method_stats()) {
    if (m.method != "Job") continue;
    found = true;
    EXPECT_EQ(m.calls, 3u);
    EXPECT_EQ(m.errors.at(absl::StatusCode::kInternal), 3u);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(server.stats().dropped_bad_reply_to, 0u);
}

TEST_F(FanoutTest, EventsBeyondAFullWorkerQueueAreHandledNotDropped) {
  // One worker and a queue of one: the first job holds the worker, the
  // second waits in the queue, the third finds it full.
  Instance instance;
  instance.conn = Connect();
  instance.impl = std::make_unique<FleetImpl>("only", absl::ZeroDuration(),
                                              absl::OkStatus());
  absl::Notification gate;
  instance.impl->set_job_gate(&gate);
  ServerOptions options{.responder = "fleet", .discovery = false};
  options.num_workers = 1;
  options.max_queued_requests = 1;
  instance.server = std::make_unique<Server>(*instance.conn, options);
  ASSERT_TRUE(instance.server->AddService(*instance.impl).ok());
  instances_.push_back(std::move(instance));
  Server& server = *instances_[0].server;

  ev1::Fleet::Client client = MakeClient();
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    ev1::JobEvent job;
    job.set_id(i);
    ASSERT_TRUE(client.JobConfirmed(job).ok());
  }
  gate.Notify();
  const absl::Time end = absl::Now() + kWait;
  while (server.stats().events_handled < kJobs && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(server.stats().events_handled, static_cast<uint64_t>(kJobs));
  EXPECT_EQ(server.stats().rejected_overloaded, 0u);
  EXPECT_EQ(instances_[0].impl->job_count(), static_cast<size_t>(kJobs));
}

TEST_F(FanoutTest, EventsCountInTheClientsMetrics) {
  AddInstance("only", absl::ZeroDuration());
  ev1::Fleet::Client client = MakeClient();
  ev1::JobEvent job;
  ASSERT_TRUE(client.JobConfirmed(job).ok());
  ASSERT_TRUE(client.Job(job).ok());
  bool found = false;
  for (const ClientMethodStats& m : client_conn_->client_stats().methods) {
    if (m.service == "Fleet" && m.method == "Job") {
      found = true;
      EXPECT_EQ(m.calls, 2u);
      EXPECT_EQ(m.ok, 2u);
    }
  }
  EXPECT_TRUE(found);
}

// Raw NATS messages to the fleet, read back on a reply subject of the
// test's own.
// What interceptors saw: one line per call, "<method> <pattern> <status>",
// and the trace id of each call's span.
struct Seen {
  absl::Mutex mu;
  std::vector<std::string> lines ABSL_GUARDED_BY(mu);
  std::vector<std::string> trace_ids ABSL_GUARDED_BY(mu);

  void Add(std::string line, std::string trace_id) {
    absl::MutexLock lock(&mu);
    lines.push_back(std::move(line));
    trace_ids.push_back(std::move(trace_id));
  }
  std::vector<std::string> Lines() {
    absl::MutexLock lock(&mu);
    std::vector<std::string> out = lines;
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> TraceIds() {
    absl::MutexLock lock(&mu);
    return trace_ids;
  }
};

const char* PatternName(CallPattern p) {
  switch (p) {
    case CallPattern::kCall:
      return "call";
    case CallPattern::kEvent:
      return "event";
    case CallPattern::kGather:
      return "gather";
  }
  return "?";
}

// Adds x-origin: intercepted to every call, refuses calls whose metadata
// has x-refuse, and records each call's end.
class TaggingClientInterceptor final : public ClientInterceptor {
 public:
  explicit TaggingClientInterceptor(Seen& seen) : seen_(seen) {}
  std::unique_ptr<ClientCallInterceptor> Intercept(
      const CallInfo& call) override {
    return std::make_unique<Call>(seen_, call);
  }

 private:
  struct Call final : ClientCallInterceptor {
    Call(Seen& seen, const CallInfo& call)
        : seen(seen),
          name(absl::StrCat(call.method, " ", PatternName(call.pattern))),
          trace(call.trace) {}
    absl::Status OnStart(Metadata& metadata) override {
      for (const auto& [k, v] : metadata) {
        if (k == "x-refuse") return absl::PermissionDeniedError("refused");
      }
      metadata.emplace_back("x-origin", "intercepted");
      return absl::OkStatus();
    }
    void OnFinish(const absl::Status& status, const Metadata&) override {
      seen.Add(absl::StrCat(name, " ", absl::StatusCodeToString(status.code())),
               trace->trace_id);
    }
    Seen& seen;
    std::string name;
    TraceContext* trace;
  };
  Seen& seen_;
};

class RecordingServerInterceptor final : public ServerInterceptor {
 public:
  explicit RecordingServerInterceptor(Seen& seen) : seen_(seen) {}
  std::unique_ptr<ServerCallInterceptor> Intercept(
      const CallInfo& call) override {
    return std::make_unique<Call>(seen_, call);
  }

 private:
  struct Call final : ServerCallInterceptor {
    Call(Seen& seen, const CallInfo& call)
        : seen(seen),
          name(absl::StrCat(call.method, " ", PatternName(call.pattern))),
          trace(call.trace) {}
    void OnFinish(const absl::Status& status, Metadata&) override {
      seen.Add(absl::StrCat(name, " ", absl::StatusCodeToString(status.code())),
               trace->trace_id);
    }
    Seen& seen;
    std::string name;
    TraceContext* trace;
  };
  Seen& seen_;
};

TEST_F(FanoutTest, InterceptorsFollowEventsAndGathersOnBothSides) {
  Seen server_seen;
  FleetImpl& only =
      AddInstance("only", absl::ZeroDuration(), absl::OkStatus(),
                  {std::make_shared<RecordingServerInterceptor>(server_seen)});
  Seen client_seen;
  client_conn_ = Connect();
  ev1::Fleet::Client client(
      *client_conn_,
      ClientOptions{.requester = "boss",
                    .responder = "fleet",
                    .interceptors = {std::make_shared<TaggingClientInterceptor>(
                        client_seen)}});
  const TraceContext root = TraceContext::NewRoot();
  {
    ScopedTraceContext scope(root);
    ev1::AlarmEvent alarm;
    alarm.set_text("fire");
    ASSERT_TRUE(client.AlarmConfirmed(alarm).ok());
    ASSERT_TRUE(client.Alarm(alarm).ok());
    absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> all =
        client.StatusAll(ev1::StatusRequest(), GatherOptions{.max_replies = 1});
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(all->size(), 1u);
    EXPECT_TRUE((*all)[0].reply.ok()) << (*all)[0].reply.status();
    ASSERT_TRUE(client.Status(ev1::StatusRequest()).ok());
  }
  // The client's metadata reached the handler.
  ASSERT_TRUE(only.WaitAlarms(2));
  EXPECT_EQ(only.alarms(),
            (std::vector<std::string>{"fire|intercepted", "fire|intercepted"}));
  instances_[0].server->Shutdown();  // every event handled and finished
  EXPECT_EQ(client_seen.Lines(),
            (std::vector<std::string>{"Alarm event OK", "Alarm event OK",
                                      "Status call OK", "Status gather OK"}));
  EXPECT_EQ(server_seen.Lines(),
            (std::vector<std::string>{"Alarm event OK", "Alarm event OK",
                                      "Status call OK", "Status gather OK"}));
  // One trace: the caller's, on both sides of every call.
  for (const std::string& id : client_seen.TraceIds()) {
    EXPECT_EQ(id, root.trace_id) << "client";
  }
  for (const std::string& id : server_seen.TraceIds()) {
    EXPECT_EQ(id, root.trace_id) << "server";
  }
}

TEST_F(FanoutTest, ClientInterceptorRefusalSendsNoEventAndNoGather) {
  Seen server_seen;
  FleetImpl& only =
      AddInstance("only", absl::ZeroDuration(), absl::OkStatus(),
                  {std::make_shared<RecordingServerInterceptor>(server_seen)});
  Seen client_seen;
  client_conn_ = Connect();
  ev1::Fleet::Client client(
      *client_conn_,
      ClientOptions{.requester = "boss",
                    .responder = "fleet",
                    .interceptors = {std::make_shared<TaggingClientInterceptor>(
                        client_seen)}});
  EventOptions refused;
  refused.metadata = {{"x-refuse", "1"}};
  ev1::AlarmEvent alarm;
  alarm.set_text("refused");
  EXPECT_EQ(client.AlarmConfirmed(alarm, refused).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client.Alarm(alarm, refused).code(),
            absl::StatusCode::kPermissionDenied);
  GatherOptions refused_gather;
  refused_gather.metadata = {{"x-refuse", "1"}};
  EXPECT_EQ(
      client.StatusAll(ev1::StatusRequest(), refused_gather).status().code(),
      absl::StatusCode::kPermissionDenied);
  absl::Notification async_done;
  absl::Status async_status;
  client.StatusAllAsync(
      ev1::StatusRequest(),
      [&](absl::StatusOr<std::vector<GatherReply<ev1::StatusReply>>> r) {
        async_status = r.status();
        async_done.Notify();
      },
      refused_gather);
  ASSERT_TRUE(async_done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(async_status.code(), absl::StatusCode::kPermissionDenied);
  // Then one that goes: sent after the refused ones on the same connection.
  alarm.set_text("sent");
  ASSERT_TRUE(client.AlarmConfirmed(alarm).ok());
  ASSERT_TRUE(only.WaitAlarms(1));
  instances_[0].server->Shutdown();
  EXPECT_EQ(only.alarms(), (std::vector<std::string>{"sent|intercepted"}));
  EXPECT_EQ(server_seen.Lines(), (std::vector<std::string>{"Alarm event OK"}));
  EXPECT_EQ(
      client_seen.Lines(),
      (std::vector<std::string>{
          "Alarm event OK", "Alarm event PERMISSION_DENIED",
          "Alarm event PERMISSION_DENIED", "Status gather PERMISSION_DENIED",
          "Status gather PERMISSION_DENIED"}));
}

class RawReply {
 public:
  RawReply(Connection& conn, std::string inbox) : inbox_(std::move(inbox)) {
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        conn.transport().Subscribe(inbox_, "", [this](MessagePtr m) {
          absl::MutexLock lock(&mu_);
          if (message_ == nullptr) message_ = std::move(m);
        });
    EXPECT_TRUE(sub.ok()) << sub.status();
    if (sub.ok()) sub_ = *std::move(sub);
  }
  // The first message, or null after kWait.
  MessagePtr Wait() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](MessagePtr* m) { return *m != nullptr; }, &message_),
        kWait);
    return message_;
  }
  const std::string& inbox() const { return inbox_; }

 private:
  std::string inbox_;
  absl::Mutex mu_;
  MessagePtr message_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Subscription> sub_;
};

TEST_F(FanoutTest, EventMethodWithReplyToIsAnsweredAsACall) {
  FleetImpl& only = AddInstance("only", absl::ZeroDuration());
  std::unique_ptr<Connection> raw = Connect();
  RawReply reply(*raw, "responses.boss.fleet.example_v1.rawclient.1");
  ev1::JobEvent job;
  job.set_id(7);
  const std::string payload = job.SerializeAsString();
  const HeaderRef headers[] = {{"Content-Type", kProtobufContentType}};
  ASSERT_TRUE(
      raw->transport()
          .Publish(OutgoingMessage{"requests.boss.fleet.example_v1.Fleet.Job",
                                   reply.inbox(), headers, nullptr, payload})
          .ok());
  MessagePtr m = reply.Wait();
  ASSERT_NE(m, nullptr) << "no answer";
  EXPECT_FALSE(m->header("Nats-Service-Error-Code").has_value());
  EXPECT_TRUE(m->data().empty());
  EXPECT_EQ(only.jobs(), std::vector<int64_t>{7});
}

TEST_F(FanoutTest, StreamOpenOnEveryInstanceIsRefused) {
  AddInstance("only", absl::ZeroDuration());
  std::unique_ptr<Connection> raw = Connect();
  RawReply reply(*raw, "responses.boss.fleet.example_v1.rawclient.2");
  const HeaderRef headers[] = {{"Natsrpc-Stream", "open"}};
  ASSERT_TRUE(raw->transport()
                  .Publish(OutgoingMessage{
                      "requests.boss.fleet.example_v1.Fleet.Status.all",
                      reply.inbox(), headers, nullptr, ""})
                  .ok());
  MessagePtr m = reply.Wait();
  ASSERT_NE(m, nullptr) << "no answer";
  EXPECT_EQ(m->header("Natsrpc-Stream").value_or(""), "end");
  EXPECT_EQ(m->header("Nats-Service-Error-Code").value_or(""), "3");
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
