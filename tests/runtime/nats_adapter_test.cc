// Copyright 2026 The natsrpc Authors.
//
// The NATS adapter's pieces that need no server (runtime/src/nats/).

#include <nats/nats.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats/nats_internals.h"
#include "nats/nats_message.h"
#include "nats/nats_transport.h"

namespace natsrpc::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

constexpr absl::string_view kBlock =
    "NATS/1.0\r\nContent-Type: a/b\r\nX-Two:  2 \r\n\r\n";

TEST(NatsInternalsTest, SelfTestPassesOnTheTestedRelease) {
#if NATSRPC_NATS_FAST_PATH
  if (nats_GetVersionNumber() == 0x030401) {
    EXPECT_TRUE(nats_internals::SelfTestResult().ok())
        << nats_internals::SelfTestResult();
    EXPECT_TRUE(nats_internals::Available());
    return;
  }
#endif
  GTEST_SKIP() << "fast path not built for this nats.c: "
               << nats_internals::SelfTestResult();
}

TEST(NatsInternalsTest, ReadsTheHeaderBlockOfAMessageNatsBuilt) {
  if (!nats_internals::Available()) GTEST_SKIP();
  const std::string bytes = absl::StrCat(kBlock, "data");
  natsMsg* msg = nullptr;
  ASSERT_EQ(nats_internals::CreateMessage(&msg, "s", "r", bytes,
                                          static_cast<int>(kBlock.size())),
            NATS_OK);
  NatsMessage message(msg, /*fast_path=*/true);
  EXPECT_EQ(message.subject(), "s");
  EXPECT_EQ(message.reply(), "r");
  EXPECT_EQ(message.data(), "data");
  EXPECT_EQ(message.header("X-Two"), "2");
  EXPECT_THAT(message.headers(),
              ElementsAre(Pair("Content-Type", "a/b"), Pair("X-Two", "2")));
}

TEST(NatsInternalsTest, ABlockNatsAlreadyParsedIsNotRead) {
  if (!nats_internals::Available()) GTEST_SKIP();
  const std::string bytes = absl::StrCat(kBlock, "data");
  natsMsg* msg = nullptr;
  ASSERT_EQ(nats_internals::CreateMessage(&msg, "s", "", bytes,
                                          static_cast<int>(kBlock.size())),
            NATS_OK);
  ASSERT_EQ(nats_internals::HeaderBlock(msg), kBlock);
  const char* value = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(msg, "X-Two", &value), NATS_OK);
  // nats.c parses the block in place: it is no longer ours to read.
  EXPECT_EQ(nats_internals::HeaderBlock(msg), std::nullopt);
  nats_internals::FreeMessage(msg);
}

TEST(NatsInternalsTest, AMessageWithoutHeadersHasAnEmptyBlock) {
  if (!nats_internals::Available()) GTEST_SKIP();
  natsMsg* msg = nullptr;
  ASSERT_EQ(nats_internals::CreateMessage(&msg, "s", "", "data", 0), NATS_OK);
  EXPECT_EQ(nats_internals::HeaderBlock(msg), absl::string_view());
  nats_internals::FreeMessage(msg);
}

TEST(NatsMessageTest, ThePublicApiReadsTheSameHeaders) {
  // natsMsg_Destroy hands the message to nats.c's GC thread.
  ASSERT_EQ(nats_Open(-1), NATS_OK);
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsMsg_Create(&msg, "s", nullptr, "data", 4), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(msg, "Content-Type", "a/b"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(msg, "X-Two", "2"), NATS_OK);
  NatsMessage message(msg, /*fast_path=*/false);
  EXPECT_EQ(message.header("X-Two"), "2");
  EXPECT_EQ(message.header("Missing"), std::nullopt);
  EXPECT_EQ(message.data(), "data");
}

TEST(HeaderBlockTest, ParsesAnInlineStatus) {
  HeaderEntries entries;
  ASSERT_TRUE(
      ParseHeaderBlock("NATS/1.0 503 No Responders\r\n\r\n", entries).ok());
  EXPECT_THAT(entries, ElementsAre(Pair("Status", "503"),
                                   Pair("Description", "No Responders")));
}

// nats.c 3.4.1 takes the line after an empty value as that value: a
// metadata `x-trace: ""` before `x-user: carol` arrived as
// x-trace = "x-user: carol" (issue 11, defect 5).
TEST(HeaderBlockTest, AnEmptyValueIsAnEmptyValue) {
  HeaderEntries entries;
  ASSERT_TRUE(
      ParseHeaderBlock("NATS/1.0\r\nx-trace: \r\nx-user: carol\r\nx-e:\r\n\r\n",
                       entries)
          .ok());
  EXPECT_THAT(entries, ElementsAre(Pair("x-trace", ""), Pair("x-user", "carol"),
                                   Pair("x-e", "")));
  ASSERT_TRUE(
      ParseHeaderBlock("NATS/1.0\r\nNatsrpc-Timeout:\r\n\r\n", entries).ok());
  EXPECT_THAT(entries, ElementsAre(Pair("Natsrpc-Timeout", "")));
}

TEST(HeaderBlockTest, TrimsSpacesAndTabsOnly) {
  HeaderEntries entries;
  ASSERT_TRUE(
      ParseHeaderBlock("NATS/1.0\r\nA: \t x\vy \t\r\nB:z\r\n\r\n", entries)
          .ok());
  EXPECT_THAT(entries, ElementsAre(Pair("A", "x\vy"), Pair("B", "z")));
}

TEST(HeaderBlockTest, AMalformedBlockIsAnErrorNamingTheFault) {
  struct Case {
    absl::string_view block;
    absl::string_view fault;
  };
  const Case cases[] = {
      {"HTTP/1.1\r\nA: 1\r\n\r\n", "first line"},
      {"NATS/1.1\r\nA: 1\r\n\r\n", "first line"},
      {"NATS/1.0x\r\nA: 1\r\n\r\n", "first line"},
      {"NATS/1.0\r\nA: 1\r\n", "empty line"},
      {"NATS/1.0\r\nA: 1\r\nno colon\r\nB: 2\r\n\r\n", "line 3 has no ':'"},
      {"NATS/1.0\r\nA: 1\r\n 2\r\n\r\n", "line 3"},  // folded
      {"NATS/1.0\r\n: 1\r\n\r\n", "empty name"},
      {"NATS/1.0\r\nA B: 1\r\n\r\n", "line 2"},
      {"NATS/1.0\r\nA: 1\r\n\r\nB: 2\r\n\r\n", "line 3 is empty"},
      {"NATS/1.0\r\nA: 1\nB: 2\r\n\r\n", "lone CR or LF"},
      {"NATS/1.0\r\nA: 1\rB: 2\r\n\r\n", "lone CR or LF"},
      {"", "first line"},
  };
  for (const Case& c : cases) {
    HeaderEntries entries = {{"stale", "x"}};
    absl::Status s = ParseHeaderBlock(c.block, entries);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << absl::CEscape(c.block);
    EXPECT_THAT(s.message(), ::testing::HasSubstr(c.fault))
        << absl::CEscape(c.block);
    EXPECT_TRUE(entries.empty()) << absl::CEscape(c.block);
  }
}

TEST(NatsInternalsTest, AMalformedBlockHidesEveryHeaderAndSaysWhy) {
  if (!nats_internals::Available()) GTEST_SKIP();
  constexpr absl::string_view kBad =
      "NATS/1.0\r\nNatsrpc-Timeout: 5S\r\nbroken\r\n\r\n";
  const std::string bytes = absl::StrCat(kBad, "data");
  natsMsg* msg = nullptr;
  ASSERT_EQ(nats_internals::CreateMessage(&msg, "s", "r", bytes,
                                          static_cast<int>(kBad.size())),
            NATS_OK);
  NatsMessage message(msg, /*fast_path=*/true);
  EXPECT_EQ(message.header_status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message.header("Natsrpc-Timeout"), std::nullopt);
  EXPECT_TRUE(message.headers().empty());
  EXPECT_EQ(message.data(), "data");
}

TEST(NatsMessageTest, ThePublicApiReportsAMalformedBlock) {
  if (!nats_internals::Available()) GTEST_SKIP();
  constexpr absl::string_view kBad = "NATS/1.0\r\nbroken\r\n\r\n";
  const std::string bytes = absl::StrCat(kBad, "data");
  natsMsg* msg = nullptr;
  ASSERT_EQ(nats_internals::CreateMessage(&msg, "s", "r", bytes,
                                          static_cast<int>(kBad.size())),
            NATS_OK);
  // nats.c parses it: the fallback path.
  NatsMessage message(msg, /*fast_path=*/false);
  EXPECT_EQ(message.header_status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HeaderBlockTest, EncodesWhatItParses) {
  const HeaderRef headers[] = {{"A", "1"}, {"B", "x\r\ny"}};
  OutgoingMessage m;
  m.headers = headers;
  std::string block;
  AppendHeaderBlock(m, block);
  EXPECT_EQ(block, "NATS/1.0\r\nA: 1\r\nB: x  y\r\n\r\n");
  HeaderEntries entries;
  ASSERT_TRUE(ParseHeaderBlock(block, entries).ok());
  EXPECT_THAT(entries, ElementsAre(Pair("A", "1"), Pair("B", "x  y")));
}

TEST(PermissionViolationTest, NamesSubjectAndDirection) {
  std::string subject;
  bool publish = true;
  ASSERT_TRUE(ParsePermissionViolation(
      "Permissions Violation for Subscription to \"requests.*.a.S.*\" using "
      "queue \"q\"",
      subject, publish));
  EXPECT_EQ(subject, "requests.*.a.S.*");
  EXPECT_FALSE(publish);
  ASSERT_TRUE(ParsePermissionViolation(
      "'Permissions Violation for Publish to \"x.y\"'", subject, publish));
  EXPECT_EQ(subject, "x.y");
  EXPECT_TRUE(publish);
  EXPECT_FALSE(ParsePermissionViolation("Stale Connection", subject, publish));
}

}  // namespace
}  // namespace natsrpc::internal
