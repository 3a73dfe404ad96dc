// Copyright 2026 The natsrpc Authors.
//
// The scheduling contract of natsrpc/transport.h (Delivery, FlushPolicy), as
// the in-memory transport emulates it for the core's unit tests.

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/transport.h"

namespace natsrpc {
namespace {

using ::testing::ElementsAre;
using testing::InMemoryTransport;

std::vector<std::string> Subjects(const InMemoryTransport& t) {
  std::vector<std::string> out;
  for (const auto& m : t.sent()) out.push_back(m.subject);
  return out;
}

absl::Status Publish(InMemoryTransport& t, absl::string_view subject,
                     FlushPolicy flush = FlushPolicy::kBatch) {
  OutgoingMessage m;
  m.subject = subject;
  m.flush = flush;
  return t.Publish(m);
}

TEST(TransportContractTest, BatchedPublishesAreWrittenAtTheEndOfTheBurst) {
  InMemoryTransport t;
  std::vector<std::string> seen_in_handler;
  auto sub = t.Subscribe("in", "", [&](MessagePtr, Delivery&) {
    ASSERT_TRUE(Publish(t, "out.1").ok());
    ASSERT_TRUE(Publish(t, "out.2").ok());
    seen_in_handler = Subjects(t);
  });
  ASSERT_TRUE(sub.ok());
  t.Inject({"in", "", {}, ""});
  EXPECT_TRUE(seen_in_handler.empty());  // held while the handler ran
  EXPECT_THAT(Subjects(t), ElementsAre("out.1", "out.2"));
}

TEST(TransportContractTest, FlushNowIsWrittenAtOnce) {
  InMemoryTransport t;
  std::vector<std::string> seen_in_handler;
  auto sub = t.Subscribe("in", "", [&](MessagePtr, Delivery&) {
    ASSERT_TRUE(Publish(t, "batched").ok());
    ASSERT_TRUE(Publish(t, "now", FlushPolicy::kNow).ok());
    seen_in_handler = Subjects(t);
  });
  ASSERT_TRUE(sub.ok());
  t.Inject({"in", "", {}, ""});
  // Publish order is kept: writing "now" writes what waited before it.
  EXPECT_THAT(seen_in_handler, ElementsAre("batched", "now"));
  EXPECT_THAT(Subjects(t), ElementsAre("batched", "now"));
}

TEST(TransportContractTest, AnotherThreadsPublishWritesTheBufferInOrder) {
  InMemoryTransport t;
  std::vector<std::string> seen_in_handler;
  auto sub = t.Subscribe("in", "", [&](MessagePtr, Delivery&) {
    ASSERT_TRUE(Publish(t, "held").ok());
    std::thread other([&] { ASSERT_TRUE(Publish(t, "other").ok()); });
    other.join();
    seen_in_handler = Subjects(t);
  });
  ASSERT_TRUE(sub.ok());
  t.Inject({"in", "", {}, ""});
  EXPECT_THAT(seen_in_handler, ElementsAre("held", "other"));
}

TEST(TransportContractTest, OutsideADeliveryEverythingIsWrittenAtOnce) {
  InMemoryTransport t;
  ASSERT_TRUE(Publish(t, "a").ok());
  EXPECT_THAT(Subjects(t), ElementsAre("a"));
}

TEST(TransportContractTest, WhileAHandlerMayBlockItsPublishesAreWrittenAtOnce) {
  InMemoryTransport t;
  std::vector<std::string> seen_in_scope;
  std::vector<std::string> seen_after_scope;
  auto sub = t.Subscribe("in", "", [&](MessagePtr, Delivery& delivery) {
    {
      MayBlockScope may_block(&delivery);
      ASSERT_TRUE(Publish(t, "blocking").ok());
      seen_in_scope = Subjects(t);
    }
    ASSERT_TRUE(Publish(t, "after").ok());
    seen_after_scope = Subjects(t);
  });
  ASSERT_TRUE(sub.ok());
  t.Inject({"in", "", {}, ""});
  EXPECT_THAT(seen_in_scope, ElementsAre("blocking"));
  EXPECT_THAT(seen_after_scope, ElementsAre("blocking"));
  EXPECT_THAT(Subjects(t), ElementsAre("blocking", "after"));
}

TEST(TransportContractTest, AHandlerThatMayBlockGetsItsReplyBeforeItReturns) {
  InMemoryTransport t;
  auto responder = t.Subscribe("service", "", [&](MessagePtr m, Delivery&) {
    OutgoingMessage reply;
    reply.subject = m->reply();
    reply.data = "pong";
    ASSERT_TRUE(t.Publish(reply).ok());
  });
  std::string got;
  auto inbox = t.Subscribe("inbox", "", [&](MessagePtr m, Delivery&) {
    got = std::string(m->data());
  });
  std::string got_before_return;
  auto handler = t.Subscribe("in", "", [&](MessagePtr, Delivery& delivery) {
    MayBlockScope may_block(&delivery);
    OutgoingMessage request;
    request.subject = "service";
    request.reply = "inbox";
    ASSERT_TRUE(t.Publish(request).ok());
    got_before_return = got;  // a blocking handler would wait here
  });
  ASSERT_TRUE(responder.ok() && inbox.ok() && handler.ok());
  t.Inject({"in", "", {}, ""});
  EXPECT_EQ(got_before_return, "pong");
}

TEST(TransportContractTest, PendingAfterCountsMessagesBehindOnTheSameSub) {
  InMemoryTransport t;
  std::vector<int64_t> pending_a;
  std::vector<int64_t> pending_b;
  auto a = t.Subscribe("a", "", [&](MessagePtr, Delivery& d) {
    pending_a.push_back(d.pending_after());
  });
  auto b = t.Subscribe("b", "", [&](MessagePtr, Delivery& d) {
    pending_b.push_back(d.pending_after());
  });
  ASSERT_TRUE(a.ok() && b.ok());
  t.PauseDelivery();
  t.Inject({"a", "", {}, ""});
  t.Inject({"b", "", {}, ""});
  t.Inject({"a", "", {}, ""});
  t.Inject({"a", "", {}, ""});
  EXPECT_TRUE(pending_a.empty());
  t.ResumeDelivery();
  EXPECT_THAT(pending_a, ElementsAre(2, 1, 0));
  EXPECT_THAT(pending_b, ElementsAre(0));
}

TEST(TransportContractTest, ABurstSpansEveryMessageWaiting) {
  InMemoryTransport t;
  std::vector<size_t> written_in_handler;
  auto sub = t.Subscribe("in", "", [&](MessagePtr m, Delivery&) {
    OutgoingMessage out;
    const std::string subject = "out." + std::string(m->data());
    out.subject = subject;
    ASSERT_TRUE(t.Publish(out).ok());
    written_in_handler.push_back(t.sent().size());
  });
  ASSERT_TRUE(sub.ok());
  t.PauseDelivery();
  t.Inject({"in", "", {}, "1"});
  t.Inject({"in", "", {}, "2"});
  t.ResumeDelivery();
  EXPECT_THAT(written_in_handler, ElementsAre(0, 0));
  EXPECT_THAT(Subjects(t), ElementsAre("out.1", "out.2"));
}

TEST(TransportContractTest, NothingIsDeliveredAfterUnsubscribe) {
  InMemoryTransport t;
  int delivered = 0;
  auto sub = t.Subscribe("in", "", [&](MessagePtr) { ++delivered; });
  ASSERT_TRUE(sub.ok());
  t.PauseDelivery();
  t.Inject({"in", "", {}, ""});
  sub->reset();
  t.ResumeDelivery();
  EXPECT_EQ(delivered, 0);
}

TEST(TransportContractTest, AHandlerTakingOnlyTheMessageIsAccepted) {
  InMemoryTransport t;
  int delivered = 0;
  auto sub = t.Subscribe("in", "", [&](MessagePtr) { ++delivered; });
  ASSERT_TRUE(sub.ok());
  t.Inject({"in", "", {}, ""});
  EXPECT_EQ(delivered, 1);
}

TEST(TransportContractTest, ARefusedSubscriptionIsPermissionDenied) {
  InMemoryTransport t;
  std::vector<TransportEvent> events;
  t.AddEventListener([&](const TransportEvent& e) { events.push_back(e); });
  t.DenySubscribe("requests.*.carol.>");
  auto sub = t.Subscribe("requests.*.carol.>", "", [](MessagePtr) {});
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(sub.status().message(), ::testing::HasSubstr("carol"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, TransportEvent::Kind::kPermissionDenied);
  EXPECT_EQ(events[0].subject, "requests.*.carol.>");
  EXPECT_FALSE(events[0].publish);
  EXPECT_TRUE(t.Subscribe("requests.*.bob.>", "", [](MessagePtr) {}).ok());
}

}  // namespace
}  // namespace natsrpc
