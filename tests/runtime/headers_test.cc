// Copyright 2026 The natsrpc Authors.

#include "wire/headers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsrpc {
namespace {

using ::testing::HasSubstr;

TEST(TimeoutTest, EncodeUsesFinestUnitThatFits) {
  EXPECT_EQ(wire::EncodeTimeout(absl::Nanoseconds(5)), "5n");
  EXPECT_EQ(wire::EncodeTimeout(absl::Milliseconds(250)), "250000u");
  EXPECT_EQ(wire::EncodeTimeout(absl::Seconds(30)), "30000000u");
  EXPECT_EQ(wire::EncodeTimeout(absl::Seconds(100)), "100000m");
  EXPECT_EQ(wire::EncodeTimeout(absl::Hours(1000)), "3600000S");
  EXPECT_EQ(wire::EncodeTimeout(absl::ZeroDuration()), "0n");
  EXPECT_EQ(wire::EncodeTimeout(-absl::Seconds(1)), "0n");
  // Saturates at int64 nanoseconds (about 292 years).
  EXPECT_EQ(wire::EncodeTimeout(absl::InfiniteDuration()), "2562048H");
}

TEST(TimeoutTest, EncodeRoundsUp) {
  // 100000000 ns needs 9 digits: microseconds, rounded up.
  EXPECT_EQ(wire::EncodeTimeout(absl::Nanoseconds(100000001)), "100001u");
}

TEST(TimeoutTest, RoundTripNeverShrinks) {
  for (absl::Duration d :
       {absl::Nanoseconds(1), absl::Microseconds(1234567),
        absl::Milliseconds(99999999), absl::Seconds(86400 * 365),
        absl::Nanoseconds(123456789012)}) {
    absl::StatusOr<absl::Duration> back = wire::DecodeTimeout(wire::EncodeTimeout(d));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_GE(*back, d);
  }
}

TEST(TimeoutTest, DecodeUnits) {
  EXPECT_EQ(*wire::DecodeTimeout("250m"), absl::Milliseconds(250));
  EXPECT_EQ(*wire::DecodeTimeout("2H"), absl::Hours(2));
  EXPECT_EQ(*wire::DecodeTimeout("3M"), absl::Minutes(3));
  EXPECT_EQ(*wire::DecodeTimeout("4S"), absl::Seconds(4));
  EXPECT_EQ(*wire::DecodeTimeout("5u"), absl::Microseconds(5));
  EXPECT_EQ(*wire::DecodeTimeout("6n"), absl::Nanoseconds(6));
  EXPECT_EQ(*wire::DecodeTimeout("0n"), absl::ZeroDuration());
}

TEST(TimeoutTest, DecodeRejectsBadValuesNamingThem) {
  for (const char* bad :
       {"", "m", "1", "1x", "-1m", "123456789m", "1.5S", " 1S", "1S ", "1s"}) {
    absl::StatusOr<absl::Duration> d = wire::DecodeTimeout(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(d.status().message(), HasSubstr("Natsrpc-Timeout")) << bad;
  }
}

TEST(StatusHeadersTest, AbsentCodeIsOk) {
  EXPECT_TRUE(wire::StatusFromHeaders(std::nullopt, std::nullopt).ok());
  EXPECT_TRUE(wire::StatusFromHeaders(std::nullopt, "ignored").ok());
}

TEST(StatusHeadersTest, CodeAndMessage) {
  absl::Status s = wire::StatusFromHeaders("5", "no such user");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no such user");
  EXPECT_EQ(wire::StatusFromHeaders("16", std::nullopt).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(StatusHeadersTest, BadCodeBecomesUnknownAndKeepsText) {
  for (const char* bad : {"0", "17", "abc", "", "-3", "500"}) {
    absl::Status s = wire::StatusFromHeaders(bad, "msg");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnknown) << bad;
    EXPECT_THAT(s.message(), HasSubstr("Nats-Service-Error-Code")) << bad;
    EXPECT_THAT(s.message(), HasSubstr("msg")) << bad;
  }
}

TEST(MetadataTest, Validate) {
  EXPECT_TRUE(wire::ValidateMetadata({{"X-Trace", "abc"}, {"X-Trace", "def"}}).ok());
  EXPECT_THAT(wire::ValidateMetadata({{"Nats-Service-Error", "x"}}).message(),
              HasSubstr("reserved"));
  EXPECT_THAT(wire::ValidateMetadata({{"natsrpc-timeout", "1S"}}).message(),
              HasSubstr("reserved"));
  EXPECT_THAT(wire::ValidateMetadata({{"content-type", "x"}}).message(),
              HasSubstr("reserved"));
  EXPECT_FALSE(wire::ValidateMetadata({{"", "x"}}).ok());
  EXPECT_FALSE(wire::ValidateMetadata({{"a:b", "x"}}).ok());
  EXPECT_FALSE(wire::ValidateMetadata({{"a b", "x"}}).ok());
  EXPECT_THAT(wire::ValidateMetadata({{"X", "a\r\nInjected: 1"}}).message(),
              HasSubstr("line break"));
}

}  // namespace
}  // namespace natsrpc
