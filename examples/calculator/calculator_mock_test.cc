// Copyright 2026 The natsrpc Authors.
//
// A component that makes calls (Mean, mean.h) tested with the generated
// gMock mock of its client, example::v1::Calculator::MockClient from
// example/v1/calculator.natsrpc_mock.h: no NATS, no server, and the test
// decides every reply.
//
//   ctest --test-dir build -R calculator_mock_test

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "calculator/mean.h"
#include "example/v1/calculator.natsrpc_mock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace example_calculator {
namespace {

using ::example::v1::AddReply;
using ::example::v1::AddRequest;
using ::example::v1::Calculator;
using ::example::v1::DivideReply;
using ::example::v1::DivideRequest;
using ::testing::_;
using ::testing::AllOf;
using ::testing::Field;
using ::testing::InSequence;
using ::testing::Property;
using ::testing::Return;
using ::testing::StrictMock;

auto AddOf(int64_t a, int64_t b) {
  return AllOf(Property(&AddRequest::a, a), Property(&AddRequest::b, b));
}

AddReply Sum(int64_t sum) {
  AddReply reply;
  reply.set_sum(sum);
  return reply;
}

DivideReply Quotient(int64_t quotient) {
  DivideReply reply;
  reply.set_quotient(quotient);
  return reply;
}

TEST(CalculatorMockTest, AddsThenDivides) {
  StrictMock<Calculator::MockClient> calculator;
  {
    InSequence in_order;
    EXPECT_CALL(calculator, Add(AddOf(0, 4), _)).WillOnce(Return(Sum(4)));
    EXPECT_CALL(calculator, Add(AddOf(4, 6), _)).WillOnce(Return(Sum(10)));
    EXPECT_CALL(calculator, Add(AddOf(10, 11), _)).WillOnce(Return(Sum(21)));
    EXPECT_CALL(calculator, Divide(AllOf(Property(&DivideRequest::dividend, 21),
                                         Property(&DivideRequest::divisor, 3)),
                                   _))
        .WillOnce(Return(Quotient(7)));
  }
  absl::StatusOr<int64_t> mean = Mean(calculator, {4, 6, 11});
  ASSERT_TRUE(mean.ok()) << mean.status();
  EXPECT_EQ(*mean, 7);
}

TEST(CalculatorMockTest, PassesTheCallOptionsOn) {
  StrictMock<Calculator::MockClient> calculator;
  const absl::Duration timeout = absl::Milliseconds(250);
  EXPECT_CALL(calculator,
              Add(_, Field(&natsrpc::CallOptions::timeout, timeout)))
      .WillOnce(Return(Sum(5)));
  EXPECT_CALL(calculator,
              Divide(_, Field(&natsrpc::CallOptions::timeout, timeout)))
      .WillOnce(Return(Quotient(5)));
  EXPECT_EQ(*Mean(calculator, {5}, {.timeout = timeout}), 5);
}

TEST(CalculatorMockTest, AFailedAddEndsItWithItsStatus) {
  StrictMock<Calculator::MockClient> calculator;
  EXPECT_CALL(calculator, Add(AddOf(0, 1), _)).WillOnce(Return(Sum(1)));
  EXPECT_CALL(calculator, Add(AddOf(1, INT64_MAX), _))
      .WillOnce(Return(absl::OutOfRangeError("sum overflows int64")));
  // StrictMock: a Divide call would fail the test.
  absl::StatusOr<int64_t> mean = Mean(calculator, {1, INT64_MAX, 3});
  EXPECT_EQ(mean.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(mean.status().message(),
            "Add(1, 9223372036854775807) failed: sum overflows int64");
}

TEST(CalculatorMockTest, AnUnavailableServiceIsReported) {
  StrictMock<Calculator::MockClient> calculator;
  EXPECT_CALL(calculator, Add(_, _)).WillOnce(Return(Sum(2)));
  EXPECT_CALL(calculator, Divide(_, _))
      .WillOnce(Return(absl::UnavailableError("no responders")));
  EXPECT_EQ(Mean(calculator, {2}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(CalculatorMockTest, NoNumbersNoCalls) {
  StrictMock<Calculator::MockClient> calculator;
  EXPECT_EQ(Mean(calculator, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace example_calculator
