// Copyright 2026 The natsrpc Authors.
//
// The wire rules of instance targeting (runtime/src/wire/subjects.h,
// docs/protocol.md 2.1) and the retry backoff (runtime/src/client/retry.h).

#include "client/retry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wire/subjects.h"

namespace natsrpc {
namespace {

TEST(InstanceSubjectsTest, SubjectAndWildcard) {
  EXPECT_EQ(
      wire::InstanceRequestSubject("alice", "bob", "app", "Svc", "Add", "I1"),
      "requests.alice.bob.app.Svc.Add.I1");
  EXPECT_EQ(
      wire::InstanceRequestSubject("alice", "bob", "app", "Svc", "Add", ""),
      "requests.alice.bob.app.Svc.Add");
  EXPECT_EQ(wire::InstanceWildcard("bob", "app", "Svc", "I1"),
            "requests.*.bob.app.Svc.*.I1");
}

TEST(InstanceSubjectsTest, Parse) {
  absl::string_view id;
  absl::StatusOr<wire::RequestSubjectParts> p =
      wire::ParseInstanceRequestSubject("requests.alice.bob.app.Svc.Add.I1",
                                        id);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->requester, "alice");
  EXPECT_EQ(p->responder, "bob");
  EXPECT_EQ(p->app, "app");
  EXPECT_EQ(p->service, "Svc");
  EXPECT_EQ(p->method, "Add");
  EXPECT_EQ(id, "I1");
  // Six tokens, eight tokens, a bad instance token, a bad subject.
  EXPECT_FALSE(
      wire::ParseInstanceRequestSubject("requests.alice.bob.app.Svc.Add", id)
          .ok());
  EXPECT_FALSE(wire::ParseInstanceRequestSubject(
                   "requests.alice.bob.app.Svc.Add.I1.7", id)
                   .ok());
  EXPECT_FALSE(
      wire::ParseInstanceRequestSubject("requests.alice.bob.app.Svc.Add.I!", id)
          .ok());
  EXPECT_FALSE(
      wire::ParseInstanceRequestSubject("responses.a.b.app.Svc.Add.I1", id)
          .ok());
  EXPECT_FALSE(wire::ParseInstanceRequestSubject("", id).ok());
  // The 6-token parser still refuses 7 tokens.
  EXPECT_FALSE(
      wire::ParseRequestSubject("requests.alice.bob.app.Svc.Add.I1").ok());
}

// Every instance subscribes to the cancels of its services: a targeted
// call's cancel subject has no instance token.
TEST(InstanceSubjectsTest, CancelOfTargetedCall) {
  EXPECT_EQ(
      wire::CancelSubjectOf("requests.alice.bob.app.Svc.Add.I1", "cid", 3),
      "requests.alice.bob.app.Svc.Add.cancel.cid.3");
  EXPECT_EQ(wire::CancelSubjectOf("requests.alice.bob.app.Svc.Add", "cid", 3),
            "requests.alice.bob.app.Svc.Add.cancel.cid.3");
  EXPECT_TRUE(
      wire::CancelTargetReplyTo(
          wire::CancelSubjectOf("requests.alice.bob.app.Svc.Add.I1", "cid", 3))
          .ok());
}

TEST(RetryBackoffTest, GrowsToTheMaximumWithJitter) {
  const RetryPolicy policy{.initial_backoff = absl::Milliseconds(50),
                           .max_backoff = absl::Seconds(1),
                           .backoff_multiplier = 2.0,
                           .jitter = 0.2};
  EXPECT_EQ(internal::RetryBackoff(policy, 1, 0.5), absl::Milliseconds(50));
  EXPECT_EQ(internal::RetryBackoff(policy, 2, 0.5), absl::Milliseconds(100));
  EXPECT_EQ(internal::RetryBackoff(policy, 3, 0.5), absl::Milliseconds(200));
  EXPECT_EQ(internal::RetryBackoff(policy, 9, 0.5), absl::Seconds(1));
  EXPECT_EQ(internal::RetryBackoff(policy, 1000000, 0.5), absl::Seconds(1));
  EXPECT_EQ(internal::RetryBackoff(policy, 1, 0.0), absl::Milliseconds(40));
  EXPECT_EQ(internal::RetryBackoff(policy, 1, 1.0), absl::Milliseconds(60));
}

TEST(RetryBackoffTest, OddPoliciesStayFinite) {
  // Negative waits count as zero, a shrinking multiplier as 1, a jitter
  // above 1 as 1.
  const RetryPolicy odd{.initial_backoff = absl::Milliseconds(-5),
                        .max_backoff = absl::Milliseconds(-1),
                        .backoff_multiplier = 0.5,
                        .jitter = 7};
  EXPECT_EQ(internal::RetryBackoff(odd, 3, 0.9), absl::ZeroDuration());
  const RetryPolicy flat{.initial_backoff = absl::Milliseconds(10),
                         .max_backoff = absl::Seconds(1),
                         .backoff_multiplier = 0.5,
                         .jitter = 0};
  EXPECT_EQ(internal::RetryBackoff(flat, 5, 0.9), absl::Milliseconds(10));
}

TEST(NotDeliveredTest, MarksAStatus) {
  const absl::Status plain = absl::UnavailableError("no responders");
  EXPECT_FALSE(internal::IsNotDelivered(plain));
  const absl::Status marked = internal::NotDelivered(plain);
  EXPECT_TRUE(internal::IsNotDelivered(marked));
  EXPECT_EQ(marked.code(), plain.code());
  EXPECT_EQ(marked.message(), plain.message());
}

}  // namespace
}  // namespace natsrpc
