// Copyright 2026 The natsrpc Authors.
//
// Client interceptors (natsrpc/interceptor.h) over the in-memory transport:
// order, CallInfo, metadata both ways, rejection and final status, for unary
// calls and streams.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"
#include "natsrpc/impl/stream_calls.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::testing::ElementsAre;
using testing::InMemoryTransport;
using ::testing::IsEmpty;
using ::testing::Pair;

StringValue Str(absl::string_view v) {
  StringValue s;
  s.set_value(std::string(v));
  return s;
}

class Echo : public Service {
 public:
  Echo() : Service("Echo", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Say));
    RegisterMethod("Watch", internal::MakeServerStreamHandler<ProtobufCodec>(
                                &Echo::Watch));
  }
  absl::Status Say(ServerContext& ctx, const StringValue& req,
                   StringValue& resp) {
    if (req.value() == "fail") return absl::NotFoundError("no such");
    ctx.AddResponseMetadata("X-Seen", "1");
    resp.set_value(req.value());
    return absl::OkStatus();
  }
  absl::Status Watch(ServerContext&, const StringValue& req,
                     ServerWriter<StringValue, ProtobufCodec>& writer) {
    if (req.value() == "fail") return absl::NotFoundError("no such");
    writer.Write(req);
    writer.Write(req);
    return absl::OkStatus();
  }
};

constexpr internal::MethodSpec kMethods[] = {
    {"Say", absl::ZeroDuration(), CallKind::kUnary},
    {"Watch", absl::ZeroDuration(), CallKind::kServerStreaming}};

// Records what every call of it sees into a shared log.
class Recorder final : public ClientInterceptor {
 public:
  struct Log {
    absl::Mutex mu;
    std::vector<std::string> events;
    void Add(std::string e) {
      absl::MutexLock lock(&mu);
      events.push_back(std::move(e));
    }
    std::vector<std::string> Get() {
      absl::MutexLock lock(&mu);
      return events;
    }
  };

  Recorder(std::string name, std::shared_ptr<Log> log)
      : name_(std::move(name)), log_(std::move(log)) {}

  // What OnStart does.
  absl::Status reject;
  Metadata add;
  bool skip = false;
  // What the last call saw.
  CallInfo info_seen;
  std::string method_seen, service_seen, app_seen;
  Metadata response_seen;

  std::unique_ptr<ClientCallInterceptor> Intercept(
      const CallInfo& call) override {
    info_seen = call;
    method_seen = std::string(call.method);
    service_seen = std::string(call.service);
    app_seen = std::string(call.app);
    log_->Add(absl::StrCat(name_, ".Intercept"));
    if (skip) return nullptr;
    return std::make_unique<Call>(this);
  }

 private:
  struct Call final : ClientCallInterceptor {
    explicit Call(Recorder* r) : r(r) {}
    absl::Status OnStart(Metadata& request_metadata) override {
      r->log_->Add(absl::StrCat(r->name_, ".OnStart"));
      request_metadata.insert(request_metadata.end(), r->add.begin(),
                              r->add.end());
      return r->reject;
    }
    void OnFinish(const absl::Status& status,
                  const Metadata& response_metadata) override {
      r->log_->Add(absl::StrCat(r->name_, ".OnFinish ",
                                absl::StatusCodeToString(status.code())));
      r->response_seen = response_metadata;
    }
    Recorder* r;
  };

  std::string name_;
  std::shared_ptr<Log> log_;
};

class ClientInterceptorTest : public ::testing::Test {
 protected:
  ClientInterceptorTest()
      : transport_(std::make_shared<InMemoryTransport>()),
        conn_(transport_),
        server_(conn_, ServerOptions{.responder = "bob"}),
        log_(std::make_shared<Recorder::Log>()),
        a_(std::make_shared<Recorder>("a", log_)),
        b_(std::make_shared<Recorder>("b", log_)) {}

  void SetUp() override { ASSERT_TRUE(server_.AddService(echo_).ok()); }

  std::unique_ptr<internal::ClientChannel> Channel(
      std::string responder = "bob") {
    return std::make_unique<internal::ClientChannel>(
        conn_,
        ClientOptions{.requester = "alice",
                      .responder = std::move(responder),
                      .metadata = {{"X-Client", "c"}},
                      .interceptors = {a_, b_}},
        "Echo", "unit", kMethods);
  }

  absl::StatusOr<StringValue> Say(internal::ClientChannel& channel,
                                  absl::string_view text,
                                  const CallOptions& options = {}) {
    return internal::BlockingUnaryCall<ProtobufCodec, StringValue>(
        channel, 0, Str(text), options);
  }

  static std::string Header(const InMemoryTransport::Sent& m,
                            absl::string_view key) {
    return m.Header(key);
  }

  std::shared_ptr<InMemoryTransport> transport_;
  Connection conn_;
  Echo echo_;
  Server server_;
  std::shared_ptr<Recorder::Log> log_;
  std::shared_ptr<Recorder> a_, b_;
};

TEST_F(ClientInterceptorTest, StartInOrderFinishInReverseBeforeTheCallReturns) {
  auto channel = Channel();
  absl::StatusOr<StringValue> r = Say(*channel, "hi");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(log_->Get(),
              ElementsAre("a.Intercept", "b.Intercept", "a.OnStart",
                          "b.OnStart", "b.OnFinish OK", "a.OnFinish OK"));
}

TEST_F(ClientInterceptorTest, SeesTheCallAndItsDeadline) {
  auto channel = Channel();
  const absl::Time before = absl::Now();
  ASSERT_TRUE(Say(*channel, "hi", {.timeout = absl::Seconds(7)}).ok());
  const absl::Time after = absl::Now();
  EXPECT_EQ(a_->info_seen.requester, "alice");
  EXPECT_EQ(a_->service_seen, "Echo");
  EXPECT_EQ(a_->method_seen, "Say");
  EXPECT_EQ(a_->app_seen, "unit");
  EXPECT_EQ(a_->info_seen.kind, CallKind::kUnary);
  EXPECT_GE(a_->info_seen.deadline, before + absl::Seconds(7));
  EXPECT_LE(a_->info_seen.deadline, after + absl::Seconds(7));
}

TEST_F(ClientInterceptorTest, MetadataGoesOutAndComesBack) {
  a_->add = {{"X-Trace", "t1"}};
  auto channel = Channel();
  ASSERT_TRUE(Say(*channel, "hi", {.metadata = {{"X-Call", "k"}}}).ok());
  const InMemoryTransport::Sent request = transport_->sent().front();
  EXPECT_EQ(Header(request, "X-Client"), "c");
  EXPECT_EQ(Header(request, "X-Call"), "k");
  EXPECT_EQ(Header(request, "X-Trace"), "t1");
  // The reply's application headers only: no Natsrpc-* or NATS headers.
  EXPECT_THAT(a_->response_seen, ElementsAre(Pair("X-Seen", "1")));
  EXPECT_THAT(b_->response_seen, ElementsAre(Pair("X-Seen", "1")));
}

TEST_F(ClientInterceptorTest, RejectionEndsTheCallAndSendsNothing) {
  a_->reject = absl::PermissionDeniedError("not you");
  auto channel = Channel();
  absl::StatusOr<StringValue> r = Say(*channel, "hi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(), "not you");
  EXPECT_THAT(transport_->sent(), IsEmpty());
  EXPECT_THAT(log_->Get(),
              ElementsAre("a.Intercept", "b.Intercept", "a.OnStart",
                          "a.OnFinish PERMISSION_DENIED"));
}

TEST_F(ClientInterceptorTest, ReservedMetadataIsInvalidArgument) {
  b_->add = {{"Natsrpc-Timeout", "1"}};
  auto channel = Channel();
  absl::StatusOr<StringValue> r = Say(*channel, "hi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(transport_->sent(), IsEmpty());
  EXPECT_THAT(log_->Get(),
              ElementsAre("a.Intercept", "b.Intercept", "a.OnStart",
                          "b.OnStart", "b.OnFinish INVALID_ARGUMENT",
                          "a.OnFinish INVALID_ARGUMENT"));
}

TEST_F(ClientInterceptorTest, FinalStatusComesIn) {
  auto channel = Channel();
  EXPECT_EQ(Say(*channel, "fail").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(log_->Get(), ::testing::Contains("a.OnFinish NOT_FOUND"));
  auto silent =
      transport_->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  auto to_silent = Channel("silent");
  EXPECT_EQ(
      Say(*to_silent, "x", {.timeout = absl::Milliseconds(5)}).status().code(),
      absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(log_->Get().back(), "a.OnFinish DEADLINE_EXCEEDED");
}

TEST_F(ClientInterceptorTest, NullFromInterceptLeavesTheCallAlone) {
  a_->skip = true;
  auto channel = Channel();
  ASSERT_TRUE(Say(*channel, "hi").ok());
  EXPECT_THAT(log_->Get(), ElementsAre("a.Intercept", "b.Intercept",
                                       "b.OnStart", "b.OnFinish OK"));
}

TEST_F(ClientInterceptorTest, StreamOpenIsIntercepted) {
  a_->add = {{"X-Trace", "t1"}};
  auto channel = Channel();
  auto reader = internal::OpenServerStream<ProtobufCodec, StringValue>(
      *channel, 1, Str("w"), {.timeout = absl::Seconds(30)});
  StringValue got;
  int n = 0;
  while (reader->Read(&got)) ++n;
  EXPECT_EQ(n, 2);
  // OnFinish ran before the Read that saw the end returned.
  EXPECT_THAT(log_->Get(),
              ElementsAre("a.Intercept", "b.Intercept", "a.OnStart",
                          "b.OnStart", "b.OnFinish OK", "a.OnFinish OK"));
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(a_->method_seen, "Watch");
  EXPECT_EQ(a_->info_seen.kind, CallKind::kServerStreaming);
  EXPECT_LT(a_->info_seen.deadline, absl::InfiniteFuture());
  EXPECT_EQ(Header(transport_->sent().front(), "X-Trace"), "t1");
  // The stream core keeps no trailers of the server's end.
  EXPECT_THAT(a_->response_seen, IsEmpty());
}

TEST_F(ClientInterceptorTest, StreamFailureIsFinishedOnce) {
  auto channel = Channel();
  auto reader = internal::OpenServerStream<ProtobufCodec, StringValue>(
      *channel, 1, Str("fail"), {});
  StringValue got;
  EXPECT_FALSE(reader->Read(&got));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      log_->Get(),
      ElementsAre("a.Intercept", "b.Intercept", "a.OnStart", "b.OnStart",
                  "b.OnFinish NOT_FOUND", "a.OnFinish NOT_FOUND"));
}

TEST_F(ClientInterceptorTest, StreamRejectionSendsNothing) {
  b_->reject = absl::UnauthenticatedError("who");
  auto channel = Channel();
  auto reader = internal::OpenServerStream<ProtobufCodec, StringValue>(
      *channel, 1, Str("w"), {});
  StringValue got;
  EXPECT_FALSE(reader->Read(&got));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(transport_->sent(), IsEmpty());
  EXPECT_THAT(
      log_->Get(),
      ElementsAre("a.Intercept", "b.Intercept", "a.OnStart", "b.OnStart",
                  "b.OnFinish UNAUTHENTICATED", "a.OnFinish UNAUTHENTICATED"));
}

}  // namespace
}  // namespace natsrpc
