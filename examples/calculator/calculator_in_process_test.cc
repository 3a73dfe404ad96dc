// Copyright 2026 The natsrpc Authors.
//
// The calculator's handlers (calculator_service.h) in a unit test: a real
// Calculator::Client and a real natsrpc::Server over the in-process test
// channel (natsrpc/testing/in_process.h), so requests and replies go
// through the same codecs, headers, deadlines, status mapping and
// interceptors as over NATS, without a nats-server.
//
//   ctest --test-dir build -R calculator_in_process_test

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "calculator/calculator_service.h"
#include "calculator/mean.h"
#include "example/v1/calculator.natsrpc.h"
#include "gtest/gtest.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/in_process.h"

namespace example_calculator {
namespace {

using ::example::v1::AddRequest;
using ::example::v1::Calculator;
using ::example::v1::DivideRequest;
using ::example::v1::EchoMessage;

// The calculator with an Echo that, for the payload "wait", holds the call
// until the test releases it or the caller's deadline passes.
class TestCalculator final : public CalculatorService {
 public:
  explicit TestCalculator(std::function<void(const std::string&)> log)
      : CalculatorService(std::move(log)) {}

  absl::Status Echo(natsrpc::ServerContext& context, const EchoMessage& request,
                    EchoMessage& reply) override {
    if (request.payload() == "wait") {
      entered_.Notify();
      release_.WaitForNotificationWithDeadline(context.deadline() +
                                               absl::Seconds(1));
    }
    return CalculatorService::Echo(context, request, reply);
  }

  absl::Notification entered_;
  absl::Notification release_;
};

// Records the request headers each server call starts with.
class RecordingServerInterceptor final : public natsrpc::ServerInterceptor {
 public:
  std::unique_ptr<natsrpc::ServerCallInterceptor> Intercept(
      const natsrpc::CallInfo& call) override {
    class Call final : public natsrpc::ServerCallInterceptor {
     public:
      Call(RecordingServerInterceptor* owner, std::string method)
          : owner_(owner), method_(std::move(method)) {}
      absl::Status OnStart(const natsrpc::Metadata& metadata) override {
        absl::MutexLock lock(&owner_->mu_);
        for (const auto& [k, v] : metadata) {
          if (k == "tenant") owner_->tenants_.push_back(method_ + ":" + v);
        }
        return absl::OkStatus();
      }

     private:
      RecordingServerInterceptor* const owner_;
      const std::string method_;
    };
    return std::make_unique<Call>(this, std::string(call.method));
  }

  std::vector<std::string> tenants() const {
    absl::MutexLock lock(&mu_);
    return tenants_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> tenants_ ABSL_GUARDED_BY(mu_);
};

class CalculatorInProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.AddService(calculator_).ok()); }

  std::vector<std::string> log() const {
    absl::MutexLock lock(&mu_);
    return log_;
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  TestCalculator calculator_{[this](const std::string& line) {
    absl::MutexLock lock(&mu_);
    log_.push_back(line);
  }};
  std::shared_ptr<RecordingServerInterceptor> recorder_ =
      std::make_shared<RecordingServerInterceptor>();
  natsrpc::testing::InProcessChannel channel_;
  natsrpc::Server server_{
      channel_.connection(),
      natsrpc::ServerOptions{.responder = "bob", .interceptors = {recorder_}}};
  Calculator::Client client_{
      channel_.connection(),
      natsrpc::ClientOptions{.requester = "alice", .responder = "bob"}};
};

TEST_F(CalculatorInProcessTest, Unary) {
  AddRequest request;
  request.set_a(2);
  request.set_b(3);
  absl::StatusOr<example::v1::AddReply> reply = client_.Add(request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->sum(), 5);
  // The handler saw the requester from the subject.
  EXPECT_EQ(log(), std::vector<std::string>{"alice: Add(2, 3) = 5"});
}

TEST_F(CalculatorInProcessTest, ErrorStatusKeepsCodeAndMessage) {
  DivideRequest request;
  request.set_dividend(1);
  request.set_divisor(0);
  absl::StatusOr<example::v1::DivideReply> reply = client_.Divide(request);
  EXPECT_EQ(reply.status(), absl::InvalidArgumentError("division by zero"));

  AddRequest overflow;
  overflow.set_a(INT64_MAX);
  overflow.set_b(1);
  EXPECT_EQ(client_.Add(overflow).status(),
            absl::OutOfRangeError("sum overflows int64"));
}

TEST_F(CalculatorInProcessTest, DeadlineExceeded) {
  EchoMessage request;
  request.set_payload("wait");
  const absl::Time start = absl::Now();
  absl::StatusOr<EchoMessage> reply =
      client_.Echo(request, {.timeout = absl::Milliseconds(100)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded)
      << reply.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_TRUE(calculator_.entered_.HasBeenNotified());
  calculator_.release_.Notify();
}

TEST_F(CalculatorInProcessTest, MetadataAndInterceptorsReachTheServer) {
  Calculator::Client client(
      channel_.connection(),
      natsrpc::ClientOptions{.requester = "carol",
                             .responder = "bob",
                             .metadata = {{"tenant", "acme"}}});
  AddRequest request;
  request.set_a(1);
  request.set_b(1);
  ASSERT_TRUE(client.Add(request, {.metadata = {{"tenant", "beta"}}}).ok());
  EXPECT_EQ(recorder_->tenants(),
            (std::vector<std::string>{"Add:acme", "Add:beta"}));
  EXPECT_EQ(log(), std::vector<std::string>{"carol: Add(1, 1) = 2"});
}

TEST_F(CalculatorInProcessTest, AsyncCall) {
  AddRequest request;
  request.set_a(40);
  request.set_b(2);
  absl::Notification done;
  absl::StatusOr<example::v1::AddReply> result;
  client_.AddAsync(request, [&](absl::StatusOr<example::v1::AddReply> r) {
    result = std::move(r);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->sum(), 42);
}

TEST_F(CalculatorInProcessTest, NobodyServesTheResponder) {
  Calculator::Client client(
      channel_.connection(),
      natsrpc::ClientOptions{.requester = "alice", .responder = "nobody"});
  EXPECT_EQ(client.Add(AddRequest()).status().code(),
            absl::StatusCode::kUnavailable);
}

// The component of mean.h with a real client: the interface it takes is
// implemented by the generated Client.
TEST_F(CalculatorInProcessTest, MeanWithTheRealHandlers) {
  absl::StatusOr<int64_t> mean = Mean(client_, {4, 6, 11});
  ASSERT_TRUE(mean.ok()) << mean.status();
  EXPECT_EQ(*mean, 7);
  EXPECT_EQ(log().size(), 4u);
}

}  // namespace
}  // namespace example_calculator
