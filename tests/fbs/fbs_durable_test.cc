// Copyright 2026 The natsrpc Authors.
//
// Durable requests (docs/protocol.md section 14) through the code natsrpc-fbs
// generates for fbs/test/compile/durable.fbs (attribute natsrpc_durable),
// against a nats-server with -js: requests stored while no responder runs,
// then served by a DurableServer, results waited for and fetched later by
// request id, a duplicate id stored once and run once, and a failing
// request dead-lettered.

#include <stdlib.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "durable.natsrpc.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/natsrpc.h"

namespace natsrpc {
namespace {

namespace dv = ::natsrpc_test::durable;

FlatMessage<dv::Job> MakeJob(int64_t n) {
  FlatMessage<dv::Job> m;
  m.Finish(dv::CreateJob(m.builder(), 0, n));
  return m;
}

class JobsImpl final : public dv::Jobs::Service {
 public:
  absl::Status Run(ServerContext& context, const FlatMessage<dv::Job>& req,
                   FlatMessage<dv::JobResult>& reply) override {
    {
      absl::MutexLock lock(&mu);
      ran.emplace_back(DurableRequestId(context));
    }
    if (req->n() < 0) return absl::UnavailableError("never works");
    auto& b = reply.builder();
    reply.Finish(dv::CreateJobResult(
        b, b.CreateString(std::string(DurableRequestId(context))),
        req->n() * 2));
    return absl::OkStatus();
  }
  absl::Mutex mu;
  std::vector<std::string> ran ABSL_GUARDED_BY(mu);
};

TEST(FbsDurableTest, StoredWhileOfflineThenServedAndFetchedById) {
  std::string store = ::testing::TempDir() + "/natsrpc_fbs_durable_XXXXXX";
  ASSERT_NE(mkdtemp(store.data()), nullptr);
  testing::NatsServer::Options so;
  so.args = {"-js", "-sd", store};
  auto nats = testing::NatsServer::Start(so);
  ASSERT_TRUE(nats.ok()) << nats.status();
  ConnectOptions co;
  co.url = (*nats)->url();
  auto conn = Connect(co);
  ASSERT_TRUE(conn.ok()) << conn.status();

  DurableOptions o;
  o.ack_wait = absl::Seconds(2);
  o.max_deliver = 2;
  o.retry_delay = absl::Milliseconds(50);
  dv::Jobs::DurableClient jobs(
      *conn, ClientOptions{.requester = "fbs", .responder = "fbsworker"}, o);
  ASSERT_TRUE(jobs.status().ok()) << jobs.status();

  constexpr int kJobs = 20;
  for (int i = 0; i < kJobs; ++i) {
    auto t = jobs.SubmitRun_(
        MakeJob(i), DurableCallOptions{.request_id = absl::StrCat("f", i)});
    ASSERT_TRUE(t.ok()) << t.status();
  }
  auto dup =
      jobs.SubmitRun_(MakeJob(0), DurableCallOptions{.request_id = "f0"});
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate);
  ASSERT_TRUE(
      jobs.SubmitRun_(MakeJob(-1), DurableCallOptions{.request_id = "bad"})
          .ok());
  {
    auto r = jobs.FetchRun("f1");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->ready);
  }

  JobsImpl impl;
  DurableServer server(*conn, "fbsworker", o);
  ASSERT_TRUE(server.AddService(impl).ok());

  // Waiting for a reply: the last one stored is processed last.
  auto last = jobs.FetchRun("bad", absl::Seconds(60));
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(last->ready);
  EXPECT_EQ(last->result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(last->result.status().message(), "never works");

  for (int i = 0; i < kJobs; ++i) {
    auto r = jobs.FetchRun(absl::StrCat("f", i));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ready) << i;
    ASSERT_TRUE(r->result.ok()) << r->result.status();
    EXPECT_EQ((*r->result)->n(), 2 * i);
    EXPECT_EQ((*r->result)->id()->str(), absl::StrCat("f", i));
  }
  // A call that waits for its reply while the responder runs.
  auto direct =
      jobs.Run(MakeJob(50), DurableCallOptions{.timeout = absl::Seconds(60)});
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ((*direct)->n(), 100);

  server.Stop();
  {
    absl::MutexLock lock(&impl.mu);
    int f0 = 0;
    for (const std::string& id : impl.ran) f0 += id == "f0";
    EXPECT_EQ(f0, 1);
    EXPECT_EQ(impl.ran.size(), static_cast<size_t>(kJobs + 2 + 1));
  }
  const DurableStats st = server.stats();
  EXPECT_EQ(st.dead_lettered, 1u);
  EXPECT_EQ(st.redelivered, 1u);  // "bad", after its nak
  EXPECT_EQ(st.completed, static_cast<uint64_t>(kJobs + 1));
  std::string cmd = absl::StrCat("rm -rf '", store, "'");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace natsrpc
