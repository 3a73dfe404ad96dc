// Copyright 2026 The natsrpc Authors.
//
// The JetStream grants of durable requests (docs/protocol.md 14.4), against
// a nats-server with JetStream and users whose permissions are exactly the
// documented ones (the subjects nats.c 3.x uses):
//  - alice, a requester with the full requester grants, and bob, the
//    responder: a durable request submitted (alice creating the request
//    stream and the result bucket), handled, dead-lettered, and its result
//    fetched with and without waiting, with no permission violation
//    reported by nats-server on either connection;
//  - mallory, with section 2's grants only: every durable call fails with
//    PERMISSION_DENIED naming the refused subject, within the JetStream
//    timeout (not a hang);
//  - carol, the restricted requester of 14.4 (only keys `carol.>` of the
//    result bucket): her own results are readable, alice's are not, nor
//    may she submit as alice.

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "test/compile/durable.natsrpc.h"
#include "test/compile/durable.pb.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

namespace dv1 = ::natsrpc_test::durable;
using ::natsrpc::testing::NatsServer;

// How long one JetStream API request may take here: a refused one fails
// after this.
constexpr absl::Duration kJetStreamTimeout = absl::Seconds(3);

DurableOptions TestOptions() {
  DurableOptions o;
  o.jetstream.timeout = kJetStreamTimeout;
  o.ack_wait = absl::Seconds(2);
  o.max_deliver = 2;
  o.retry_delay = absl::Milliseconds(100);
  return o;
}

// docs/protocol.md 14.4, with <P> = bob: no more than nats.c 3.4 uses with
// nats-server 2.9 (which serves the bucket's gets as direct gets). `R` is
// replaced by the requester.
constexpr char kRequesterPublish[] = R"(
  "durable.R.>",
  "$JS.API.STREAM.INFO.NATSRPC_DURABLE_bob",
  "$JS.API.STREAM.INFO.KV_natsrpc_results_bob",
  "$JS.API.STREAM.CREATE.NATSRPC_DURABLE_bob",
  "$JS.API.STREAM.CREATE.KV_natsrpc_results_bob",
  "$JS.API.DIRECT.GET.KV_natsrpc_results_bob.>",
  "$JS.API.CONSUMER.CREATE.KV_natsrpc_results_bob",
  "$JS.API.CONSUMER.DELETE.KV_natsrpc_results_bob.>",
  "$JS.API.STREAM.NAMES"
)";

// The restricted requester: only keys R.> of the bucket, no STREAM.MSG.GET,
// no CONSUMER.CREATE (the watch's consumer, whose filter its subject does
// not name) and (the streams exist) no STREAM.CREATE.
constexpr char kRestrictedPublish[] = R"(
  "durable.R.>",
  "$JS.API.STREAM.INFO.NATSRPC_DURABLE_bob",
  "$JS.API.STREAM.INFO.KV_natsrpc_results_bob",
  "$JS.API.DIRECT.GET.KV_natsrpc_results_bob.$KV.natsrpc_results_bob.R.>"
)";

constexpr char kResponderPublish[] = R"(
  "$JS.API.STREAM.INFO.NATSRPC_DURABLE_bob",
  "$JS.API.STREAM.INFO.NATSRPC_DEAD_bob",
  "$JS.API.STREAM.INFO.KV_natsrpc_results_bob",
  "$JS.API.STREAM.CREATE.NATSRPC_DURABLE_bob",
  "$JS.API.STREAM.CREATE.NATSRPC_DEAD_bob",
  "$JS.API.STREAM.CREATE.KV_natsrpc_results_bob",
  "$JS.API.CONSUMER.INFO.NATSRPC_DURABLE_bob.>",
  "$JS.API.CONSUMER.DURABLE.CREATE.NATSRPC_DURABLE_bob.>",
  "$JS.API.CONSUMER.MSG.NEXT.NATSRPC_DURABLE_bob.>",
  "$JS.ACK.NATSRPC_DURABLE_bob.>",
  "durable_dead.*.bob.>",
  "$KV.natsrpc_results_bob.>",
  "$JS.API.DIRECT.GET.KV_natsrpc_results_bob.>"
)";

std::string User(absl::string_view name, absl::string_view publish,
                 absl::string_view subscribe) {
  return absl::StrCat(
      "      { user: ", name, ", password: ", name,
      "-secret, permissions: {\n        publish: { allow: [",
      absl::StrReplaceAll(publish, {{".R.", absl::StrCat(".", name, ".")}}),
      "] }\n        subscribe: { allow: [", subscribe, "] } } }\n");
}

std::string Config(const std::string& store) {
  return absl::StrCat(
      "jetstream { store_dir: \"", store, "\" }\n", "accounts {\n  APP {\n",
      "    jetstream: enabled\n    users: [\n",
      User("alice", kRequesterPublish, "\"_INBOX.>\""),
      User("bob", kResponderPublish, "\"_INBOX.>\""),
      User("carol", kRestrictedPublish, "\"_INBOX.>\""),
      // Section 2's grants of a requester, nothing of section 14.
      User("mallory", "\"requests.mallory.>\"", "\"responses.mallory.>\""),
      "    ]\n  }\n}\n");
}

// Runs jobs; a negative one fails with a retryable code (dead-lettered).
class Jobs final : public dv1::Jobs::Service {
 public:
  absl::Status Run(ServerContext& context, const dv1::Job& request,
                   dv1::JobResult& response) override {
    if (request.n() < 0) return absl::UnavailableError("never possible");
    response.set_id(std::string(DurableRequestId(context)));
    response.set_n(request.n() * 2);
    return absl::OkStatus();
  }
};

class DurablePermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natsrpc-durable-perm-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    store_ = tmpl;
    NatsServer::Options o;
    o.config = Config(store_);
    auto nats = NatsServer::Start(o);
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    for (const char* who : {"alice", "bob", "carol", "mallory"}) {
      absl::StatusOr<Connection> c = ::natsrpc::testing::ConnectForTest(
          {.url = nats_->url(),
           .user = who,
           .password = absl::StrCat(who, "-secret")});
      ASSERT_TRUE(c.ok()) << who << ": " << c.status();
      conns_[who] = std::make_unique<Connection>(*c);
      conns_[who]->transport().AddEventListener(
          [this, who = std::string(who)](const TransportEvent& e) {
            if (e.kind != TransportEvent::Kind::kPermissionDenied) return;
            absl::MutexLock lock(&mu_);
            denied_.push_back(absl::StrCat(
                who, e.publish ? " publish " : " subscribe ", e.subject));
          });
    }
  }

  void TearDown() override {
    conns_.clear();
    nats_.reset();
    std::string cmd = absl::StrCat("rm -rf '", store_, "'");
    if (std::system(cmd.c_str()) != 0) std::cerr << "cannot remove store\n";
  }

  Connection& conn(const std::string& who) { return *conns_.at(who); }

  // The violations nats-server reported so far to the users `who`.
  std::vector<std::string> Denied(const std::vector<std::string>& who) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const std::string& d : denied_) {
      for (const std::string& w : who) {
        if (absl::StartsWith(d, w + " ")) out.push_back(d);
      }
    }
    return out;
  }

  // A client of bob's Jobs as requester `requester`, on the connection of
  // `user`.
  std::unique_ptr<dv1::Jobs::DurableClient> Client(
      const std::string& user, const std::string& requester) {
    return std::make_unique<dv1::Jobs::DurableClient>(
        conn(user), ClientOptions{.requester = requester, .responder = "bob"},
        TestOptions());
  }

  // Expects PERMISSION_DENIED naming nats-server's refusal, bounded by the
  // JetStream timeout.
  static void ExpectDenied(const absl::Status& s, absl::Time start,
                           absl::string_view what) {
    std::cout << what << ": " << s << "\n";
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied)
        << what << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "nats-server refused"))
        << what << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "docs/protocol.md 14.4"))
        << what << ": " << s;
    // One timed-out JetStream request or two (a fetch first checks the
    // streams), not a hang.
    EXPECT_LT(absl::Now() - start, 3 * kJetStreamTimeout) << what;
  }

  std::string store_;
  std::unique_ptr<NatsServer> nats_;
  std::map<std::string, std::unique_ptr<Connection>> conns_;
  absl::Mutex mu_;
  std::vector<std::string> denied_ ABSL_GUARDED_BY(mu_);
};

TEST_F(DurablePermissionsTest, DocumentedGrantsAreEnough) {
  auto alice = Client("alice", "alice");
  ASSERT_TRUE(alice->status().ok()) << alice->status();
  // Submitted before the responder ever ran: alice creates the request
  // stream and the result bucket.
  dv1::Job job;
  job.set_n(21);
  auto t = alice->SubmitRun_(job, DurableCallOptions{.request_id = "first"});
  ASSERT_TRUE(t.ok()) << t.status();
  // The responder creates the dead-letter stream and its consumer.
  Jobs impl;
  DurableServer bob(conn("bob"), "bob", TestOptions());
  absl::Status added = bob.AddService(impl);
  ASSERT_TRUE(added.ok()) << added;
  // Fetched waiting (a watch), then with a get.
  auto waited = alice->FetchRun("first", absl::Seconds(30));
  ASSERT_TRUE(waited.ok()) << waited.status();
  ASSERT_TRUE(waited->ready);
  ASSERT_TRUE(waited->result.ok()) << waited->result.status();
  EXPECT_EQ(waited->result->n(), 42);
  auto got = alice->FetchRun("first");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->ready);
  EXPECT_EQ(got->result->id(), "first");
  // Submit and wait in one call.
  job.set_n(5);
  auto r = alice->Run(job, DurableCallOptions{.request_id = "second",
                                              .timeout = absl::Seconds(30)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n(), 10);
  // Dead-lettered on its second delivery: bob publishes the dead letter.
  job.set_n(-1);
  auto dead = alice->Run(job, DurableCallOptions{.request_id = "dead",
                                                 .timeout = absl::Seconds(30)});
  EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnavailable)
      << dead.status();
  EXPECT_EQ(dead.status().message(), "never possible");
  // One more round trip on each connection (bob's: his last acknowledgement
  // and pull), after which nats-server's refusals of anything before have
  // arrived.
  ASSERT_TRUE(alice->FetchRun("second").ok());
  bob.Stop();
  const DurableStats st = bob.stats();
  EXPECT_EQ(st.dead_lettered, 1u);
  EXPECT_EQ(st.errors, 0u);
  EXPECT_EQ(st.completed, 2u);
  // Nothing was refused.
  EXPECT_EQ(Denied({"alice", "bob"}), std::vector<std::string>{});
}

TEST_F(DurablePermissionsTest, RequesterWithoutGrantsGetsPermissionDenied) {
  auto mallory = Client("mallory", "mallory");
  ASSERT_TRUE(mallory->status().ok()) << mallory->status();
  dv1::Job job;
  absl::Time start = absl::Now();
  auto t = mallory->SubmitRun_(job);
  ExpectDenied(t.status(), start, "mallory's submit");
  start = absl::Now();
  auto f = mallory->FetchRun("anything");
  ExpectDenied(f.status(), start, "mallory's fetch");
  start = absl::Now();
  auto c = mallory->Run(job, DurableCallOptions{.timeout = absl::Seconds(30)});
  ExpectDenied(c.status(), start, "mallory's call");
  EXPECT_FALSE(Denied({"mallory"}).empty());
}

TEST_F(DurablePermissionsTest, RestrictedRequesterReadsOnlyItsOwnResults) {
  // bob and alice set everything up; alice has a result.
  Jobs impl;
  DurableServer bob(conn("bob"), "bob", TestOptions());
  ASSERT_TRUE(bob.AddService(impl).ok());
  auto alice = Client("alice", "alice");
  dv1::Job job;
  job.set_n(1);
  auto secret = alice->Run(
      job,
      DurableCallOptions{.request_id = "secret", .timeout = absl::Seconds(30)});
  ASSERT_TRUE(secret.ok()) << secret.status();

  // carol's own requests work, their results fetched with gets (she may
  // not watch: polled, bounded).
  auto carol = Client("carol", "carol");
  job.set_n(4);
  auto t = carol->SubmitRun_(job, DurableCallOptions{.request_id = "mine"});
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<DurableResult<dv1::JobResult>> got =
      absl::UnknownError("not fetched");
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  do {
    got = carol->FetchRun("mine");
    ASSERT_TRUE(got.ok()) << got.status();
    if (got->ready) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling, bounded above
  } while (absl::Now() < give_up);
  ASSERT_TRUE(got->ready) << "no result for carol's request after 30 s";
  ASSERT_TRUE(got->result.ok()) << got->result.status();
  EXPECT_EQ(got->result->n(), 8);
  EXPECT_EQ(Denied({"carol"}), std::vector<std::string>{});

  // alice's result is out of her reach: a get, a watch...
  auto as_alice = Client("carol", "alice");
  absl::Time start = absl::Now();
  auto stolen = as_alice->FetchRun("secret");
  ExpectDenied(stolen.status(), start, "carol fetching alice's result");
  start = absl::Now();
  stolen = as_alice->FetchRun("secret", absl::Seconds(30));
  ExpectDenied(stolen.status(), start, "carol watching alice's result");
  // ...and submitting in her name.
  start = absl::Now();
  auto forged = as_alice->SubmitRun_(job);
  ExpectDenied(forged.status(), start, "carol submitting as alice");
  for (const std::string& d : Denied({"carol"})) std::cout << d << "\n";
}

}  // namespace
}  // namespace natsrpc
