// Copyright 2026 The natsrpc Authors.
//
// Events and scatter-gather (docs/protocol.md section 13) through the code
// natsrpc-fbs generates for fbs/example/fleet.fbs, on a real nats-server with
// three instances of one responder: fast, slow and failing.

#include <algorithm>
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
#include "fleet.natsrpc.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/natsrpc.h"

namespace natsrpc {
namespace {

namespace ev1 = ::example::v1;

constexpr absl::Duration kWait = absl::Seconds(20);

class FleetImpl final : public ev1::Fleet::Service {
 public:
  FleetImpl(std::string name, absl::Duration delay, absl::Status status)
      : name_(std::move(name)), delay_(delay), status_(std::move(status)) {}

  absl::Status Status(ServerContext&,
                      const FlatMessage<ev1::StatusRequest>& request,
                      FlatMessage<ev1::StatusReply>& reply) override {
    // Slowness is what this worker simulates, not a synchronisation.
    if (delay_ > absl::ZeroDuration()) absl::SleepFor(delay_);
    if (!status_.ok()) return status_;
    const std::string worker = absl::StrCat(
        name_, ":", request->note() == nullptr ? "" : request->note()->str());
    absl::MutexLock lock(&mu_);
    reply.Finish(ev1::CreateStatusReplyDirect(
        reply.builder(), worker.c_str(), static_cast<int64_t>(jobs_.size())));
    return absl::OkStatus();
  }
  absl::Status Alarm(ServerContext&,
                     const FlatMessage<ev1::AlarmEvent>& event) override {
    absl::MutexLock lock(&mu_);
    alarms_.push_back(event->text() == nullptr ? "" : event->text()->str());
    return absl::OkStatus();
  }
  absl::Status Job(ServerContext&,
                   const FlatMessage<ev1::JobEvent>& event) override {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(event->id());
    return absl::OkStatus();
  }

  size_t alarm_count() {
    absl::MutexLock lock(&mu_);
    return alarms_.size();
  }
  std::vector<std::string> alarms() {
    absl::MutexLock lock(&mu_);
    return alarms_;
  }
  std::vector<int64_t> jobs() {
    absl::MutexLock lock(&mu_);
    return jobs_;
  }

 private:
  const std::string name_;
  const absl::Duration delay_;
  const absl::Status status_;
  absl::Mutex mu_;
  std::vector<std::string> alarms_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> jobs_ ABSL_GUARDED_BY(mu_);
};

class FbsFanoutTest : public ::testing::Test {
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

  static Connection Connect() {
    absl::StatusOr<Connection> c = natsrpc::Connect({.url = nats_->url()});
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }

  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    Add("fast", absl::ZeroDuration(), absl::OkStatus());
    Add("slow", absl::Milliseconds(300), absl::OkStatus());
    Add("failing", absl::ZeroDuration(),
        absl::FailedPreconditionError("out of order"));
  }
  void TearDown() override {
    for (auto& s : servers_) s->Shutdown();
  }

  void Add(std::string name, absl::Duration delay, absl::Status status) {
    conns_.push_back(std::make_unique<Connection>(Connect()));
    impls_.push_back(
        std::make_unique<FleetImpl>(std::move(name), delay, std::move(status)));
    servers_.push_back(std::make_unique<Server>(
        *conns_.back(),
        ServerOptions{.responder = "fleet", .discovery = false}));
    absl::Status s = servers_.back()->AddService(*impls_.back());
    ASSERT_TRUE(s.ok()) << s;
  }

  static testing::NatsServer* nats_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<std::unique_ptr<FleetImpl>> impls_;
  std::vector<std::unique_ptr<Server>> servers_;
};

testing::NatsServer* FbsFanoutTest::nats_ = nullptr;

FlatMessage<ev1::StatusRequest> StatusRequest(const std::string& note) {
  FlatMessage<ev1::StatusRequest> m;
  m.Finish(ev1::CreateStatusRequestDirect(m.builder(), note.c_str()));
  return m;
}

TEST_F(FbsFanoutTest, GatherFromThreeInstances) {
  Connection conn = Connect();
  ev1::Fleet::Client client(conn, {.requester = "boss", .responder = "fleet"});
  auto replies = client.StatusAll(
      StatusRequest("hi"), {.timeout = absl::Seconds(10), .max_replies = 3});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 3u);
  std::map<std::string, const GatherReply<FlatMessage<ev1::StatusReply>>*>
      by_id;
  for (const auto& r : *replies) by_id[r.instance_id] = &r;
  ASSERT_EQ(by_id.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(by_id.contains(servers_[i]->instance_id())) << i;
  }
  const auto& fast = *by_id[servers_[0]->instance_id()];
  ASSERT_TRUE(fast.reply.ok()) << fast.reply.status();
  EXPECT_EQ((*fast.reply)->worker()->str(), "fast:hi");
  const auto& slow = *by_id[servers_[1]->instance_id()];
  ASSERT_TRUE(slow.reply.ok()) << slow.reply.status();
  EXPECT_EQ((*slow.reply)->worker()->str(), "slow:hi");
  EXPECT_EQ(by_id[servers_[2]->instance_id()]->reply.status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(FbsFanoutTest, GatherCallbackFormEndsAtTheStallInterval) {
  Connection conn = Connect();
  ev1::Fleet::Client client(conn, {.requester = "boss", .responder = "fleet"});
  absl::Notification done;
  absl::StatusOr<std::vector<GatherReply<FlatMessage<ev1::StatusReply>>>>
      result;
  client.StatusAllAsync(
      StatusRequest("x"),
      [&](absl::StatusOr<
          std::vector<GatherReply<FlatMessage<ev1::StatusReply>>>>
              r) {
        result = std::move(r);
        done.Notify();
      },
      {.timeout = absl::Seconds(10), .stall = absl::Seconds(2)});
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->size(), 3u);
}

TEST_F(FbsFanoutTest, BroadcastAndQueuedEvents) {
  Connection conn = Connect();
  ev1::Fleet::Client client(conn, {.requester = "boss", .responder = "fleet"});
  FlatMessage<ev1::AlarmEvent> alarm;
  alarm.Finish(ev1::CreateAlarmEventDirect(alarm.builder(), "fire"));
  ASSERT_TRUE(client.AlarmConfirmed(alarm).ok());
  constexpr int kJobs = 30;
  for (int i = 0; i < kJobs; ++i) {
    FlatMessage<ev1::JobEvent> job;
    job.Finish(ev1::CreateJobEvent(job.builder(), i));
    ASSERT_TRUE(i + 1 == kJobs ? client.JobConfirmed(job).ok()
                               : client.Job(job).ok());
  }
  const absl::Time end = absl::Now() + kWait;
  auto settled = [&] {
    size_t jobs = 0;
    for (auto& impl : impls_) {
      if (impl->alarm_count() < 1) return false;
      jobs += impl->jobs().size();
    }
    return jobs >= kJobs;
  };
  while (!settled() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
  std::multiset<int64_t> ids;
  for (auto& impl : impls_) {
    EXPECT_EQ(impl->alarms(), std::vector<std::string>{"fire"});
    for (int64_t id : impl->jobs()) ids.insert(id);
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(ids.count(i), 1u) << "job " << i;
}

}  // namespace
}  // namespace natsrpc
