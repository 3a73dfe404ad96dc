// Copyright 2026 The natsrpc Authors.
//
// The server's interceptor chain (natsrpc/interceptor.h, ServerOptions::
// interceptors), the per-method counters built on it
// (Server::method_stats()), and permission errors reported after
// AddService (Server::health()), over the in-memory transport.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::InMemoryTransport;
using ::testing::Pair;

class Echo : public Service {
 public:
  Echo() : Service("Echo", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Say));
    RegisterMethod("Count", internal::MakeServerStreamHandler<ProtobufCodec>(
                                &Echo::Count));
  }
  absl::Status Say(ServerContext& ctx, const StringValue& req,
                   StringValue& resp) {
    calls.fetch_add(1);
    if (req.value() == "fail") return absl::NotFoundError("nothing");
    ctx.AddResponseMetadata("X-Handler", "1");
    resp.set_value(req.value());
    return absl::OkStatus();
  }
  absl::Status Count(ServerContext& ctx, const StringValue& req,
                     ServerWriter<StringValue, ProtobufCodec>& writer) {
    calls.fetch_add(1);
    for (int i = 0; i < 3; ++i) {
      if (!writer.Write(req)) return absl::CancelledError("stream ended");
    }
    ctx.AddResponseMetadata("X-Handler", "1");
    return absl::OkStatus();
  }
  std::atomic<int> calls{0};
};

constexpr internal::MethodSpec kMethods[] = {{"Say", absl::ZeroDuration()},
                                             {"Count", absl::ZeroDuration()}};

// Records what it sees in a log shared by the test's interceptors.
class Recorder final : public ServerInterceptor {
 public:
  Recorder(std::string name, std::vector<std::string>& log, absl::Mutex& mu,
           absl::Status start_status = absl::OkStatus())
      : name_(std::move(name)),
        log_(log),
        mu_(mu),
        start_status_(std::move(start_status)) {}

  std::unique_ptr<ServerCallInterceptor> Intercept(
      const CallInfo& call) override {
    {
      absl::MutexLock lock(&mu_);
      last_call_ = absl::StrCat(call.requester, "|", call.responder, "|",
                                call.app, "|", call.service, "|", call.method,
                                "|", static_cast<int>(call.kind));
      last_deadline_ = call.deadline;
    }
    return std::make_unique<Call>(*this);
  }

  std::string last_call() const {
    absl::MutexLock lock(&mu_);
    return last_call_;
  }
  absl::Time last_deadline() const {
    absl::MutexLock lock(&mu_);
    return last_deadline_;
  }
  std::string last_request_header() const {
    absl::MutexLock lock(&mu_);
    return last_request_header_;
  }

 private:
  struct Call final : ServerCallInterceptor {
    explicit Call(Recorder& r) : r(r) {}
    absl::Status OnStart(const Metadata& request_metadata) override {
      absl::MutexLock lock(&r.mu_);
      r.log_.push_back(r.name_ + ".start");
      for (const auto& [k, v] : request_metadata) {
        if (k == "X-Trace") r.last_request_header_ = v;
      }
      return r.start_status_;
    }
    void OnFinish(const absl::Status& status,
                  Metadata& response_metadata) override {
      absl::MutexLock lock(&r.mu_);
      r.log_.push_back(absl::StrCat(
          r.name_, ".finish:", absl::StatusCodeToString(status.code())));
      response_metadata.emplace_back("X-" + r.name_, "seen");
    }
    Recorder& r;
  };

  const std::string name_;
  std::vector<std::string>& log_;
  absl::Mutex& mu_;
  const absl::Status start_status_;
  std::string last_call_;
  absl::Time last_deadline_;
  std::string last_request_header_;
};

class ServerInterceptorTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::shared_ptr<ServerInterceptor>> interceptors) {
    server_ = std::make_unique<Server>(
        conn_, ServerOptions{.responder = "bob",
                             .interceptors = std::move(interceptors)});
    ASSERT_TRUE(server_->AddService(echo_).ok());
  }

  absl::StatusOr<StringValue> Say(const std::string& text,
                                  CallOptions options = {}) {
    StringValue req;
    req.set_value(text);
    return internal::BlockingUnaryCall<ProtobufCodec, StringValue>(
        channel_, 0, req, options);
  }

  // The headers of the last message published to a response subject.
  Metadata LastReplyHeaders() const {
    std::vector<InMemoryTransport::Sent> sent = transport_->sent();
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->subject.starts_with("responses.")) return it->headers;
    }
    return {};
  }
  static bool Has(const Metadata& m, absl::string_view key,
                  absl::string_view value) {
    for (const auto& [k, v] : m) {
      if (k == key && v == value) return true;
    }
    return false;
  }

  std::vector<std::string> log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

  std::shared_ptr<InMemoryTransport> transport_ =
      std::make_shared<InMemoryTransport>();
  Connection conn_{transport_};
  Echo echo_;
  std::unique_ptr<Server> server_;
  internal::ClientChannel channel_{conn_,
                                   {.requester = "alice", .responder = "bob"},
                                   "Echo",
                                   "unit",
                                   kMethods};
  absl::Mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(ServerInterceptorTest, StartInOrderFinishInReverseWithCallInfo) {
  auto a = std::make_shared<Recorder>("A", log_, mu_);
  auto b = std::make_shared<Recorder>("B", log_, mu_);
  Start({a, b});
  absl::StatusOr<StringValue> r = Say(
      "hi", {.timeout = absl::Seconds(5), .metadata = {{"X-Trace", "t-1"}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(log(),
              ElementsAre("A.start", "B.start", "B.finish:OK", "A.finish:OK"));
  EXPECT_EQ(a->last_call(), "alice|bob|unit|Echo|Say|0");
  EXPECT_LT(a->last_deadline(), absl::Now() + absl::Seconds(6));
  // Request metadata in, response metadata out (with the handler's).
  EXPECT_EQ(b->last_request_header(), "t-1");
  const Metadata reply = LastReplyHeaders();
  EXPECT_TRUE(Has(reply, "X-A", "seen"));
  EXPECT_TRUE(Has(reply, "X-B", "seen"));
  EXPECT_TRUE(Has(reply, "X-Handler", "1"));
}

TEST_F(ServerInterceptorTest, ARefusalIsAnsweredAndTheHandlerDoesNotRun) {
  auto a = std::make_shared<Recorder>("A", log_, mu_);
  auto b = std::make_shared<Recorder>("B", log_, mu_,
                                      absl::PermissionDeniedError("not you"));
  auto c = std::make_shared<Recorder>("C", log_, mu_);
  Start({a, b, c});
  absl::StatusOr<StringValue> r = Say("hi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(), "not you");
  EXPECT_EQ(echo_.calls.load(), 0);
  // C is not asked; B refused, so it and A get OnFinish with its status.
  EXPECT_THAT(log(),
              ElementsAre("A.start", "B.start", "B.finish:PERMISSION_DENIED",
                          "A.finish:PERMISSION_DENIED"));
  EXPECT_EQ(c->last_call(), "");
  EXPECT_TRUE(Has(LastReplyHeaders(), "X-A", "seen"));
  // The built-in counters saw it too.
  std::vector<MethodStats> stats = server_->method_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].calls, 1u);
  EXPECT_THAT(stats[0].errors,
              ElementsAre(Pair(absl::StatusCode::kPermissionDenied, 1u)));
}

TEST_F(ServerInterceptorTest, HandlerErrorsReachOnFinish) {
  auto a = std::make_shared<Recorder>("A", log_, mu_);
  Start({a});
  EXPECT_EQ(Say("fail").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(log(), ElementsAre("A.start", "A.finish:NOT_FOUND"));
  EXPECT_TRUE(Has(LastReplyHeaders(), "X-A", "seen"));
}

TEST_F(ServerInterceptorTest, StreamsGoThroughTheChain) {
  auto a = std::make_shared<Recorder>("A", log_, mu_);
  Start({a});
  StringValue req;
  req.set_value("x");
  auto reader = internal::OpenServerStream<ProtobufCodec, StringValue>(
      channel_, 1, req, {.metadata = {{"X-Trace", "s-1"}}});
  StringValue m;
  int n = 0;
  while (reader->Read(&m)) ++n;
  EXPECT_EQ(n, 3);
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_THAT(log(), ElementsAre("A.start", "A.finish:OK"));
  EXPECT_EQ(a->last_call(), "alice|bob|unit|Echo|Count|2");
  EXPECT_EQ(a->last_request_header(), "s-1");
  // The trailers of the stream's end carry what OnFinish added.
  const Metadata end = LastReplyHeaders();
  EXPECT_TRUE(Has(end, "X-A", "seen"));
  EXPECT_TRUE(Has(end, "X-Handler", "1"));
}

TEST_F(ServerInterceptorTest, ARefusedStreamIsRefusedAtOpen) {
  auto a = std::make_shared<Recorder>("A", log_, mu_,
                                      absl::PermissionDeniedError("no"));
  Start({a});
  StringValue req;
  auto reader = internal::OpenServerStream<ProtobufCodec, StringValue>(
      channel_, 1, req, {});
  StringValue m;
  EXPECT_FALSE(reader->Read(&m));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(echo_.calls.load(), 0);
  EXPECT_EQ(server_->stats().streams_refused, 1u);
  EXPECT_THAT(log(), ElementsAre("A.start", "A.finish:PERMISSION_DENIED"));
}

TEST_F(ServerInterceptorTest, MethodStatsCountCallsByStatusAndTime) {
  Start({});
  ASSERT_TRUE(Say("a").ok());
  ASSERT_TRUE(Say("b").ok());
  EXPECT_EQ(Say("fail").status().code(), absl::StatusCode::kNotFound);
  StringValue req;
  auto reader = internal::OpenServerStream<ProtobufCodec, StringValue>(
      channel_, 1, req, {});
  StringValue m;
  while (reader->Read(&m)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  // The stream's end is sent after OnFinish: its counters are final.
  std::vector<MethodStats> stats = server_->method_stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].method, "Count");
  EXPECT_EQ(stats[0].calls, 1u);
  EXPECT_EQ(stats[0].ok, 1u);
  const MethodStats& say = stats[1];
  EXPECT_EQ(say.app, "unit");
  EXPECT_EQ(say.service, "Echo");
  EXPECT_EQ(say.method, "Say");
  EXPECT_EQ(say.calls, 3u);
  EXPECT_EQ(say.finished, 3u);
  EXPECT_EQ(say.ok, 2u);
  EXPECT_THAT(say.errors, ElementsAre(Pair(absl::StatusCode::kNotFound, 1u)));
  EXPECT_GT(say.total_latency, absl::ZeroDuration());
  EXPECT_EQ(say.average_latency(), say.total_latency / 3);
}

TEST_F(ServerInterceptorTest, LaterPermissionErrorIsCountedAndReported) {
  Start({});
  EXPECT_TRUE(server_->health().ok());
  // Not one of this server's subjects, or a publish: not the server's.
  transport_->Emit({TransportEvent::Kind::kPermissionDenied,
                    "requests.*.carol.unit.Echo.*", false, "denied"});
  transport_->Emit({TransportEvent::Kind::kPermissionDenied,
                    "requests.*.bob.unit.Echo.*", true, "denied"});
  EXPECT_EQ(server_->stats().permission_errors, 0u);
  EXPECT_TRUE(server_->health().ok());

  transport_->Emit({TransportEvent::Kind::kPermissionDenied,
                    "requests.*.bob.unit.Echo.*", false,
                    "Permissions Violation for Subscription"});
  EXPECT_EQ(server_->stats().permission_errors, 1u);
  absl::Status health = server_->health();
  EXPECT_EQ(health.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(health.message(), HasSubstr("requests.*.bob.unit.Echo.*"));
  EXPECT_THAT(health.message(), HasSubstr("service unit.Echo"));
}

}  // namespace
}  // namespace natsrpc
