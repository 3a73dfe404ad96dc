// Copyright 2026 The natsrpc Authors.
//
// The NATS adapter's pieces that need no server (runtime/src/nats/).

#include <nats/nats.h>

#include <string>

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
  ASSERT_TRUE(ParseHeaderBlock("NATS/1.0 503 No Responders\r\n\r\n", entries));
  EXPECT_THAT(entries, ElementsAre(Pair("Status", "503"),
                                   Pair("Description", "No Responders")));
}

TEST(HeaderBlockTest, LeavesFoldedLinesAndEmptyValuesToNats) {
  HeaderEntries entries;
  EXPECT_FALSE(ParseHeaderBlock("NATS/1.0\r\nA: 1\r\n 2\r\n\r\n", entries));
  EXPECT_FALSE(ParseHeaderBlock("NATS/1.0\r\nA: \r\n\r\n", entries));
  EXPECT_FALSE(ParseHeaderBlock("NATS/1.0\r\nA: 1\r\n", entries));
}

TEST(HeaderBlockTest, EncodesWhatItParses) {
  const HeaderRef headers[] = {{"A", "1"}, {"B", "x\r\ny"}};
  OutgoingMessage m;
  m.headers = headers;
  std::string block;
  AppendHeaderBlock(m, block);
  EXPECT_EQ(block, "NATS/1.0\r\nA: 1\r\nB: x  y\r\n\r\n");
  HeaderEntries entries;
  ASSERT_TRUE(ParseHeaderBlock(block, entries));
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
