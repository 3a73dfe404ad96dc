// Copyright 2026 The natsrpc Authors.

#include "wire/subjects.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsrpc {
namespace {

using ::testing::HasSubstr;

TEST(NamesTest, ValidTokens) {
  EXPECT_TRUE(wire::IsValidToken("alice"));
  EXPECT_TRUE(wire::IsValidToken("A-z_09"));
  EXPECT_FALSE(wire::IsValidToken(""));
  EXPECT_FALSE(wire::IsValidToken("a.b"));
  EXPECT_FALSE(wire::IsValidToken("a*"));
  EXPECT_FALSE(wire::IsValidToken(">"));
  EXPECT_FALSE(wire::IsValidToken("a b"));
  EXPECT_FALSE(wire::IsValidToken("caf\xc3\xa9"));
}

TEST(NamesTest, ValidateTokenNamesFieldAndCharacter) {
  absl::Status s = wire::ValidateToken("ClientOptions.requester", "al ice");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ClientOptions.requester"));
  EXPECT_THAT(s.message(), HasSubstr("\"al ice\""));
  EXPECT_THAT(s.message(), HasSubstr("' ' at offset 2"));
  EXPECT_THAT(wire::ValidateToken("responder", "").message(),
              HasSubstr("responder is empty"));
  EXPECT_THAT(wire::ValidateToken("app", "a\nb").message(), HasSubstr("0x0a"));
  EXPECT_TRUE(wire::ValidateToken("app", "ok").ok());
}

TEST(NamesTest, DefaultApp) {
  EXPECT_EQ(wire::DefaultApp("example.v1"), "example_v1");
  EXPECT_EQ(wire::DefaultApp("a.b.c.d.e.f"), "a_b_c_d_e_f");
  EXPECT_EQ(wire::DefaultApp(""), "default");
}

TEST(NamesTest, Subjects) {
  EXPECT_EQ(wire::RequestSubject("alice", "bob", "example_v1", "Calculator", "Add"),
            "requests.alice.bob.example_v1.Calculator.Add");
  EXPECT_EQ(wire::ResponseWildcard("alice", "ID"), "responses.alice.*.*.ID.*");
  EXPECT_EQ(wire::ResponsePrefix("alice", "bob", "app", "ID"),
            "responses.alice.bob.app.ID.");
  EXPECT_EQ(wire::ServiceWildcard("bob", "app", "Calc"), "requests.*.bob.app.Calc.*");
  EXPECT_EQ(wire::DefaultQueueGroup("bob", "app"), "natsrpc.bob.app");
}

TEST(NamesTest, ClientIdsAreUniqueTokens) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = wire::NewClientId();
    EXPECT_EQ(id.size(), 22u);
    EXPECT_TRUE(wire::IsValidToken(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(NamesTest, ParseRequestSubject) {
  absl::StatusOr<wire::RequestSubjectParts> p =
      wire::ParseRequestSubject("requests.alice.bob.app.Svc.Method");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->requester, "alice");
  EXPECT_EQ(p->responder, "bob");
  EXPECT_EQ(p->app, "app");
  EXPECT_EQ(p->service, "Svc");
  EXPECT_EQ(p->method, "Method");
  EXPECT_FALSE(wire::ParseRequestSubject("requests.alice.bob.app.Svc").ok());
  EXPECT_FALSE(wire::ParseRequestSubject("requests.a.b.c.d.e.f").ok());
  EXPECT_FALSE(wire::ParseRequestSubject("replies.a.b.c.d.e").ok());
  EXPECT_FALSE(wire::ParseRequestSubject("requests.a@.b.c.d.e").ok());
  EXPECT_FALSE(wire::ParseRequestSubject("").ok());
}

// docs/protocol.md section 4: a method token outside the token rule names no
// method (UNIMPLEMENTED), so the subject must still parse.
TEST(NamesTest, ParseRequestSubjectTakesAnyNonEmptyMethodToken) {
  absl::StatusOr<wire::RequestSubjectParts> p =
      wire::ParseRequestSubject("requests.alice.bob.app.Svc.Add!\x01");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, "Add!\x01");
  EXPECT_FALSE(wire::ParseRequestSubject("requests.alice.bob.app.Svc.").ok());
  EXPECT_FALSE(wire::ParseRequestSubject("requests.alice.bob.app.S!.M").ok());
}

TEST(NamesTest, CheckReplySubject) {
  wire::RequestSubjectParts req{"alice", "bob", "app", "Svc", "M"};
  EXPECT_TRUE(wire::CheckReplySubject("responses.alice.bob.app.ID.7", req).ok());
  // Another requester's response space: the spoofing case of section 5.
  absl::Status s = wire::CheckReplySubject("responses.carol.bob.app.ID.7", req);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(wire::CheckReplySubject("responses.alice.eve.app.ID.7", req).ok());
  EXPECT_FALSE(wire::CheckReplySubject("responses.alice.bob.other.ID.7", req).ok());
  EXPECT_FALSE(wire::CheckReplySubject("responses.alice.bob.app.ID", req).ok());
  EXPECT_FALSE(wire::CheckReplySubject("_INBOX.abc", req).ok());
  EXPECT_FALSE(wire::CheckReplySubject("", req).ok());
  EXPECT_FALSE(wire::CheckReplySubject("responses.alice.bob.app.ID.7.8", req).ok());
}

TEST(NamesTest, ParseSeq) {
  uint64_t seq = 0;
  EXPECT_TRUE(wire::ParseSeq("42", seq));
  EXPECT_EQ(seq, 42u);
  EXPECT_TRUE(wire::ParseSeq("18446744073709551615", seq));
  EXPECT_FALSE(wire::ParseSeq("18446744073709551616", seq));
  EXPECT_FALSE(wire::ParseSeq("", seq));
  EXPECT_FALSE(wire::ParseSeq("-1", seq));
  EXPECT_FALSE(wire::ParseSeq("4x", seq));
  EXPECT_FALSE(wire::ParseSeq("+4", seq));
}

// Every instance (docs/protocol.md 13).
TEST(AllSubjectTest, BuildAndRecognise) {
  EXPECT_EQ(wire::AllRequestSubjectOf("requests.alice.bob.app.Svc.Add"),
            "requests.alice.bob.app.Svc.Add.all");
  EXPECT_EQ(wire::AllWildcard("bob", "app", "Svc"), "requests.*.bob.app.Svc.*.all");
  EXPECT_TRUE(wire::IsAllRequestSubject("requests.a.b.app.Svc.Add.all"));
  // A method named "all" on the 6-token subject is not every instance.
  EXPECT_FALSE(wire::IsAllRequestSubject("requests.a.b.app.Svc.all"));
  EXPECT_FALSE(wire::IsAllRequestSubject("requests.a.b.app.Svc.Add"));
  EXPECT_FALSE(wire::IsAllRequestSubject("requests.a.b.app.Svc.Add.I1.all"));
  EXPECT_FALSE(wire::IsAllRequestSubject("responses.a.b.app.Svc.Add.all"));
  EXPECT_FALSE(wire::IsAllRequestSubject("requests.a.b.app.Svc.Add.xall"));
  EXPECT_FALSE(wire::IsAllRequestSubject("all"));
  EXPECT_FALSE(wire::IsAllRequestSubject(""));
}

TEST(AllSubjectTest, ParseGivesTheMethodSubjectsParts) {
  absl::StatusOr<wire::RequestSubjectParts> p =
      wire::ParseAllRequestSubject("requests.alice.bob.app.Svc.Add.all");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->requester, "alice");
  EXPECT_EQ(p->responder, "bob");
  EXPECT_EQ(p->app, "app");
  EXPECT_EQ(p->service, "Svc");
  EXPECT_EQ(p->method, "Add");
  EXPECT_EQ(wire::ParseAllRequestSubject("requests.alice.bob.app.Svc.Add")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wire::ParseAllRequestSubject("requests.al ice.bob.app.Svc.Add.all")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wire::ParseAllRequestSubject("requests..bob.app.Svc.Add.all")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace natsrpc
