// Copyright 2026 The natsrpc Authors.

#include "natsrpc/names.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsrpc {
namespace {

using ::testing::HasSubstr;

TEST(NamesTest, ValidTokens) {
  EXPECT_TRUE(IsValidToken("alice"));
  EXPECT_TRUE(IsValidToken("A-z_09"));
  EXPECT_FALSE(IsValidToken(""));
  EXPECT_FALSE(IsValidToken("a.b"));
  EXPECT_FALSE(IsValidToken("a*"));
  EXPECT_FALSE(IsValidToken(">"));
  EXPECT_FALSE(IsValidToken("a b"));
  EXPECT_FALSE(IsValidToken("caf\xc3\xa9"));
}

TEST(NamesTest, ValidateTokenNamesFieldAndCharacter) {
  absl::Status s = ValidateToken("ClientOptions.requester", "al ice");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ClientOptions.requester"));
  EXPECT_THAT(s.message(), HasSubstr("\"al ice\""));
  EXPECT_THAT(s.message(), HasSubstr("' ' at offset 2"));
  EXPECT_THAT(ValidateToken("responder", "").message(),
              HasSubstr("responder is empty"));
  EXPECT_THAT(ValidateToken("app", "a\nb").message(), HasSubstr("0x0a"));
  EXPECT_TRUE(ValidateToken("app", "ok").ok());
}

TEST(NamesTest, DefaultApp) {
  EXPECT_EQ(DefaultApp("example.v1"), "example_v1");
  EXPECT_EQ(DefaultApp("a.b.c.d.e.f"), "a_b_c_d_e_f");
  EXPECT_EQ(DefaultApp(""), "default");
}

TEST(NamesTest, Subjects) {
  EXPECT_EQ(RequestSubject("alice", "bob", "example_v1", "Calculator", "Add"),
            "requests.alice.bob.example_v1.Calculator.Add");
  EXPECT_EQ(ResponseWildcard("alice", "ID"), "responses.alice.*.*.ID.*");
  EXPECT_EQ(ResponsePrefix("alice", "bob", "app", "ID"),
            "responses.alice.bob.app.ID.");
  EXPECT_EQ(ServiceWildcard("bob", "app", "Calc"), "requests.*.bob.app.Calc.*");
  EXPECT_EQ(DefaultQueueGroup("bob", "app"), "natsrpc.bob.app");
}

TEST(NamesTest, ClientIdsAreUniqueTokens) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewClientId();
    EXPECT_EQ(id.size(), 22u);
    EXPECT_TRUE(IsValidToken(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(NamesTest, ParseRequestSubject) {
  absl::StatusOr<RequestSubjectParts> p =
      ParseRequestSubject("requests.alice.bob.app.Svc.Method");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->requester, "alice");
  EXPECT_EQ(p->responder, "bob");
  EXPECT_EQ(p->app, "app");
  EXPECT_EQ(p->service, "Svc");
  EXPECT_EQ(p->method, "Method");
  EXPECT_FALSE(ParseRequestSubject("requests.alice.bob.app.Svc").ok());
  EXPECT_FALSE(ParseRequestSubject("requests.a.b.c.d.e.f").ok());
  EXPECT_FALSE(ParseRequestSubject("replies.a.b.c.d.e").ok());
  EXPECT_FALSE(ParseRequestSubject("requests.a@.b.c.d.e").ok());
  EXPECT_FALSE(ParseRequestSubject("").ok());
}

TEST(NamesTest, CheckReplySubject) {
  RequestSubjectParts req{"alice", "bob", "app", "Svc", "M"};
  EXPECT_TRUE(CheckReplySubject("responses.alice.bob.app.ID.7", req).ok());
  // Another requester's response space: the spoofing case of section 5.
  absl::Status s = CheckReplySubject("responses.carol.bob.app.ID.7", req);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(CheckReplySubject("responses.alice.eve.app.ID.7", req).ok());
  EXPECT_FALSE(CheckReplySubject("responses.alice.bob.other.ID.7", req).ok());
  EXPECT_FALSE(CheckReplySubject("responses.alice.bob.app.ID", req).ok());
  EXPECT_FALSE(CheckReplySubject("_INBOX.abc", req).ok());
  EXPECT_FALSE(CheckReplySubject("", req).ok());
  EXPECT_FALSE(CheckReplySubject("responses.alice.bob.app.ID.7.8", req).ok());
}

TEST(NamesTest, ParseSeq) {
  uint64_t seq = 0;
  EXPECT_TRUE(ParseSeq("42", seq));
  EXPECT_EQ(seq, 42u);
  EXPECT_TRUE(ParseSeq("18446744073709551615", seq));
  EXPECT_FALSE(ParseSeq("18446744073709551616", seq));
  EXPECT_FALSE(ParseSeq("", seq));
  EXPECT_FALSE(ParseSeq("-1", seq));
  EXPECT_FALSE(ParseSeq("4x", seq));
  EXPECT_FALSE(ParseSeq("+4", seq));
}

}  // namespace
}  // namespace natsrpc
