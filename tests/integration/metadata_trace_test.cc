// Copyright 2026 The natsrpc Authors.
//
// Revision 4 of docs/protocol.md end to end, on a real nats-server this
// binary starts on a free loopback port: metadata back to the caller
// (initial metadata and trailers of a unary reply, an error reply and each
// stream kind, blocking and callback forms; the client interceptors'
// OnFinish) and W3C trace context (a nested call keeps the trace id and
// names its parent; the span logger of examples/tracing).

#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "example/v1/calculator.natsrpc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/v1/stream_service.natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"
#include "test_connect.h"
#include "tracing/span_logger.h"

namespace natsrpc {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
namespace tv1 = ::natsrpc::testing::v1;

constexpr absl::Duration kWait = absl::Seconds(20);

// Sets the same metadata on every call: initial, trailers, and reserved keys
// that must not be sent. (An empty value is covered by the unit tests of
// tests/runtime/reply_metadata_test.cc: nats.c's header parser reads the
// line after an empty value as its value, a defect of the NATS adapter that
// is fixed separately.)
void SetReplyMetadata(ServerContext& ctx) {
  ctx.AddInitialMetadata("x-init", "i1");
  ctx.AddInitialMetadata("x-two", "i2");
  ctx.AddInitialMetadata("Nats-Service-Error-Code", "3");  // reserved: dropped
  ctx.AddTrailingMetadata("x-trail", "t1");
  ctx.AddTrailingMetadata("x-trail", "t2");
  ctx.AddTrailingMetadata("Natsrpc-Count", "9");  // reserved: dropped
  ctx.AddTrailingMetadata("traceparent", "x");    // trace header: dropped
}

class TestServiceImpl final : public tv1::TestService::Service {
 public:
  absl::Status Echo(ServerContext& ctx, const tv1::EchoRequest& req,
                    tv1::EchoReply& reply) override {
    SetReplyMetadata(ctx);
    ctx.AddResponseMetadata("x-legacy", "l");
    reply.set_payload(req.payload());
    return absl::OkStatus();
  }
  absl::Status Fail(ServerContext& ctx, const tv1::FailRequest& req,
                    tv1::EchoReply&) override {
    SetReplyMetadata(ctx);
    return absl::Status(static_cast<absl::StatusCode>(req.code()),
                        req.message());
  }
};

class StreamServiceImpl final : public tv1::StreamService::Service {
 public:
  absl::Status Count(ServerContext& ctx, const tv1::CountRequest& req,
                     ServerWriter<tv1::Item, ProtobufCodec>& writer) override {
    SetReplyMetadata(ctx);
    for (int64_t i = 1; i <= req.count(); ++i) {
      tv1::Item item;
      item.set_seq(i);
      if (!writer.Write(item)) return absl::CancelledError("over");
      // Added after the first message: not sent.
      ctx.AddInitialMetadata("x-late", "late");
    }
    if (req.fail_after() > 0) return absl::AbortedError("failing as asked");
    return absl::OkStatus();
  }
  absl::Status Sum(ServerContext& ctx,
                   ServerReader<tv1::Item, ProtobufCodec>& reader,
                   tv1::Summary& summary) override {
    SetReplyMetadata(ctx);
    tv1::Item item;
    while (reader.Read(&item)) {
      summary.set_count(summary.count() + 1);
      summary.set_sum(summary.sum() + item.seq());
    }
    return absl::OkStatus();
  }
  absl::Status Echo(ServerContext& ctx,
                    ServerReaderWriter<tv1::Item, tv1::Item, ProtobufCodec>&
                        stream) override {
    SetReplyMetadata(ctx);
    tv1::Item item;
    while (stream.Read(&item)) {
      if (item.seq() < 0) return absl::AbortedError("negative seq");
      if (!stream.Write(item)) return absl::CancelledError("over");
    }
    return absl::OkStatus();
  }
};

// What every call above sends back. NATS headers keep the order of one
// key's values, not always the order between keys (nats.c's public message
// API keeps them in a hash map), hence Unordered below.
MATCHER(IsInitial, "") {
  return ::testing::ExplainMatchResult(
      ::testing::UnorderedElementsAre(Pair("x-init", "i1"),
                                      Pair("x-two", "i2")),
      arg, result_listener);
}
MATCHER(IsTrailing, "") {
  return ::testing::ExplainMatchResult(
      ElementsAre(Pair("x-trail", "t1"), Pair("x-trail", "t2")), arg,
      result_listener);
}

// Records what the client interceptors' OnFinish saw.
class FinishRecorder final : public ClientInterceptor {
 public:
  std::unique_ptr<ClientCallInterceptor> Intercept(const CallInfo&) override {
    return std::make_unique<Call>(this);
  }
  std::vector<Metadata> Seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&] {
      mu_.AssertHeld();
      return seen_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kWait);
  }

 private:
  struct Call final : ClientCallInterceptor {
    explicit Call(FinishRecorder* r) : recorder(r) {}
    void OnFinish(const absl::Status&, const Metadata& metadata) override {
      absl::MutexLock lock(&recorder->mu_);
      recorder->seen_.push_back(metadata);
    }
    FinishRecorder* recorder;
  };
  absl::Mutex mu_;
  std::vector<Metadata> seen_ ABSL_GUARDED_BY(mu_);
};

class MetadataTraceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<natsrpc::testing::NatsServer>> s =
        natsrpc::testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = s->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    absl::StatusOr<Connection> c =
        testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::make_unique<Connection>(*c);
    server_ =
        std::make_unique<Server>(*conn_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(tests_).ok());
    ASSERT_TRUE(server_->AddService(streams_).ok());
  }

  ClientOptions Options() {
    return ClientOptions{
        .requester = "alice", .responder = "bob", .interceptors = {recorder_}};
  }

  static natsrpc::testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  TestServiceImpl tests_;
  StreamServiceImpl streams_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<FinishRecorder> recorder_ =
      std::make_shared<FinishRecorder>();
};

natsrpc::testing::NatsServer* MetadataTraceTest::nats_ = nullptr;

TEST_F(MetadataTraceTest, UnaryReplyCarriesInitialMetadataAndTrailers) {
  tv1::TestService::Client client(*conn_, Options());
  ClientContext ctx;
  tv1::EchoRequest req;
  req.set_payload("x");
  absl::StatusOr<tv1::EchoReply> r = client.Echo(req, {.context = &ctx});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      ctx.GetServerInitialMetadata(),
      ::testing::UnorderedElementsAre(Pair("x-init", "i1"), Pair("x-two", "i2"),
                                      Pair("x-legacy", "l")));
  EXPECT_THAT(ctx.GetServerTrailingMetadata(), IsTrailing());
  ASSERT_TRUE(recorder_->WaitFor(1));
  EXPECT_THAT(
      recorder_->Seen()[0],
      ::testing::UnorderedElementsAre(
          Pair("x-init", "i1"), Pair("x-two", "i2"), Pair("x-legacy", "l"),
          Pair("x-trail", "t1"), Pair("x-trail", "t2")));

  // The async form fills the context before its callback runs.
  ClientContext async_ctx;
  absl::Notification done;
  Metadata seen_in_callback;
  client.EchoAsync(req,
                   [&](absl::StatusOr<tv1::EchoReply> reply) {
                     EXPECT_TRUE(reply.ok()) << reply.status();
                     seen_in_callback = async_ctx.GetServerTrailingMetadata();
                     done.Notify();
                   },
                   {.context = &async_ctx});
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(seen_in_callback, IsTrailing());
}

TEST_F(MetadataTraceTest, ErrorReplyCarriesMetadataToo) {
  tv1::TestService::Client client(*conn_, Options());
  ClientContext ctx;
  tv1::FailRequest req;
  req.set_code(static_cast<int>(absl::StatusCode::kNotFound));
  req.set_message("no such thing");
  absl::StatusOr<tv1::EchoReply> r = client.Fail(req, {.context = &ctx});
  EXPECT_EQ(r.status(), absl::NotFoundError("no such thing"));
  EXPECT_THAT(ctx.GetServerInitialMetadata(), IsInitial());
  EXPECT_THAT(ctx.GetServerTrailingMetadata(), IsTrailing());
}

TEST_F(MetadataTraceTest, ServerStreamInitialMetadataAndTrailers) {
  tv1::StreamService::Client client(*conn_, Options());
  tv1::CountRequest req;
  req.set_count(3);
  auto reader = client.Count(req);
  tv1::Item item;
  ASSERT_TRUE(reader->Read(&item));
  // The first message brought the initial metadata.
  EXPECT_THAT(reader->GetServerInitialMetadata(), IsInitial());
  while (reader->Read(&item)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_THAT(reader->GetServerInitialMetadata(), IsInitial());  // no x-late
  EXPECT_THAT(reader->GetServerTrailingMetadata(), IsTrailing());
  // The interceptors' OnFinish sees the stream's metadata too.
  ASSERT_TRUE(recorder_->WaitFor(1));
  EXPECT_THAT(recorder_->Seen()[0],
              ::testing::UnorderedElementsAre(
                  Pair("x-init", "i1"), Pair("x-two", "i2"),
                  Pair("x-trail", "t1"), Pair("x-trail", "t2")));
}

TEST_F(MetadataTraceTest, ServerStreamWithoutMessagesSendsInitialWithEnd) {
  tv1::StreamService::Client client(*conn_, Options());
  tv1::CountRequest req;
  req.set_count(0);
  req.set_fail_after(1);  // no item, then ABORTED
  auto reader = client.Count(req);
  tv1::Item item;
  EXPECT_FALSE(reader->Read(&item));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(reader->GetServerInitialMetadata(), IsInitial());
  EXPECT_THAT(reader->GetServerTrailingMetadata(), IsTrailing());
}

TEST_F(MetadataTraceTest, ClientStreamInitialMetadataAndTrailers) {
  tv1::StreamService::Client client(*conn_, Options());
  auto writer = client.Sum();
  for (int i = 1; i <= 3; ++i) {
    tv1::Item item;
    item.set_seq(i);
    ASSERT_TRUE(writer->Write(item));
  }
  absl::StatusOr<tv1::Summary> summary = writer->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->sum(), 6);
  EXPECT_THAT(writer->GetServerInitialMetadata(), IsInitial());
  EXPECT_THAT(writer->GetServerTrailingMetadata(), IsTrailing());
}

TEST_F(MetadataTraceTest, BidiStreamInitialMetadataAndTrailers) {
  tv1::StreamService::Client client(*conn_, Options());
  {
    auto stream = client.Echo();
    tv1::Item item;
    item.set_seq(7);
    ASSERT_TRUE(stream->Write(item));
    ASSERT_TRUE(stream->Read(&item));
    EXPECT_THAT(stream->GetServerInitialMetadata(), IsInitial());
    EXPECT_TRUE(stream->WritesDone());
    EXPECT_TRUE(stream->Finish().ok());
    EXPECT_THAT(stream->GetServerTrailingMetadata(), IsTrailing());
  }
  {
    // The handler fails before writing anything: both arrive with the end.
    auto stream = client.Echo();
    tv1::Item item;
    item.set_seq(-1);
    ASSERT_TRUE(stream->Write(item));
    EXPECT_FALSE(stream->Read(&item));
    EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kAborted);
    EXPECT_THAT(stream->GetServerInitialMetadata(), IsInitial());
    EXPECT_THAT(stream->GetServerTrailingMetadata(), IsTrailing());
  }
}

// The callback form: the metadata is there by OnDone.
class CountReader final : public ClientReadReactor<tv1::Item> {
 public:
  void OnReadDone(bool ok) override {
    if (ok) StartRead(&item_);
  }
  void OnDone(const absl::Status& status) override {
    status_ = status;
    initial_ = GetServerInitialMetadata();
    trailing_ = GetServerTrailingMetadata();
    done_.Notify();
  }
  tv1::Item item_;
  absl::Status status_;
  Metadata initial_;
  Metadata trailing_;
  absl::Notification done_;
};

TEST_F(MetadataTraceTest, ReactorSeesMetadataByOnDone) {
  tv1::StreamService::Client client(*conn_, Options());
  tv1::CountRequest req;
  req.set_count(2);
  CountReader reader;
  client.CountAsync(req, &reader);
  reader.StartRead(&reader.item_);
  ASSERT_TRUE(reader.done_.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(reader.status_.ok()) << reader.status_;
  EXPECT_THAT(reader.initial_, IsInitial());
  EXPECT_THAT(reader.trailing_, IsTrailing());
}

// Tracing: alice -> bob's Outer (TestService.Echo) -> carol's Calculator.Add.
class Inner final : public example::v1::Calculator::Service {
 public:
  absl::Status Add(ServerContext& ctx, const example::v1::AddRequest& req,
                   example::v1::AddReply& reply) override {
    absl::MutexLock lock(&mu);
    seen = ctx.trace_context();
    reply.set_sum(req.a() + req.b());
    return absl::OkStatus();
  }
  absl::Mutex mu;
  TraceContext seen ABSL_GUARDED_BY(mu);
};

class Outer final : public tv1::TestService::Service {
 public:
  explicit Outer(example::v1::Calculator::Client& inner) : inner_(inner) {}
  absl::Status Echo(ServerContext& ctx, const tv1::EchoRequest&,
                    tv1::EchoReply& reply) override {
    {
      absl::MutexLock lock(&mu);
      seen = ctx.trace_context();
    }
    // No trace plumbing here: the nested call picks the span up.
    ClientContext call;
    example::v1::AddRequest add;
    add.set_a(1);
    add.set_b(2);
    absl::StatusOr<example::v1::AddReply> r =
        inner_.Add(add, {.deadline = ctx.deadline(), .context = &call});
    if (!r.ok()) return r.status();
    {
      absl::MutexLock lock(&mu);
      nested_call = call.trace_context();
    }
    reply.set_payload(absl::StrCat(r->sum()));
    return absl::OkStatus();
  }
  absl::Mutex mu;
  TraceContext seen ABSL_GUARDED_BY(mu);
  TraceContext nested_call ABSL_GUARDED_BY(mu);

 private:
  example::v1::Calculator::Client& inner_;
};

TEST_F(MetadataTraceTest, TraceContextReachesANestedCall) {
  Inner inner;
  Server carol(*conn_, ServerOptions{.responder = "carol"});
  ASSERT_TRUE(carol.AddService(inner).ok());
  example::v1::Calculator::Client to_carol(
      *conn_, ClientOptions{.requester = "bob", .responder = "carol"});
  Outer outer(to_carol);
  Server dave(*conn_, ServerOptions{.responder = "dave"});
  ASSERT_TRUE(dave.AddService(outer).ok());

  tv1::TestService::Client client(
      *conn_, ClientOptions{.requester = "alice", .responder = "dave"});
  const TraceContext root = TraceContext::NewRoot();
  ClientContext ctx;
  absl::StatusOr<tv1::EchoReply> r =
      client.Echo(tv1::EchoRequest(), {.context = &ctx, .trace_parent = root});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->payload(), "3");

  // alice's call: a child of the root.
  const TraceContext& call = ctx.trace_context();
  ASSERT_TRUE(call.valid());
  EXPECT_EQ(call.trace_id, root.trace_id);
  EXPECT_EQ(call.parent_span_id, root.span_id);
  EXPECT_NE(call.span_id, root.span_id);

  absl::MutexLock lock_outer(&outer.mu);
  absl::MutexLock lock_inner(&inner.mu);
  // dave's span: a child of alice's call.
  EXPECT_EQ(outer.seen.trace_id, root.trace_id);
  EXPECT_EQ(outer.seen.parent_span_id, call.span_id);
  // dave's nested call: a child of dave's span.
  EXPECT_EQ(outer.nested_call.trace_id, root.trace_id);
  EXPECT_EQ(outer.nested_call.parent_span_id, outer.seen.span_id);
  // carol's span: same trace, a child of the nested call.
  EXPECT_EQ(inner.seen.trace_id, root.trace_id);
  EXPECT_EQ(inner.seen.parent_span_id, outer.nested_call.span_id);
  EXPECT_TRUE(inner.seen.sampled());
  // Every span id is new.
  EXPECT_NE(inner.seen.span_id, outer.nested_call.span_id);
  EXPECT_NE(outer.seen.span_id, call.span_id);
}

TEST_F(MetadataTraceTest, NoParentNoTraceAndInvalidTraceparentIsIgnored) {
  Inner inner;
  Server carol(*conn_, ServerOptions{.responder = "carol"});
  ASSERT_TRUE(carol.AddService(inner).ok());
  example::v1::Calculator::Client client(
      *conn_, ClientOptions{.requester = "alice", .responder = "carol"});
  ClientContext ctx;
  ASSERT_TRUE(client.Add(example::v1::AddRequest(), {.context = &ctx}).ok());
  EXPECT_FALSE(ctx.trace_context().valid());
  {
    absl::MutexLock lock(&inner.mu);
    EXPECT_FALSE(inner.seen.valid());
  }
  // A malformed traceparent put in the metadata by hand (upper-case hex) is
  // not a parent: the call has no trace.
  ASSERT_TRUE(client
                  .Add(example::v1::AddRequest(),
                       {.metadata = {{"traceparent",
                                      "00-4BF92F3577B34DA6A3CE929D0E0E4736-"
                                      "00f067aa0ba902b7-01"}},
                        .context = &ctx})
                  .ok());
  EXPECT_FALSE(ctx.trace_context().valid());
  {
    absl::MutexLock lock(&inner.mu);
    EXPECT_FALSE(inner.seen.valid());
  }
  // A valid one is: the call becomes its child.
  ASSERT_TRUE(client
                  .Add(example::v1::AddRequest(),
                       {.metadata = {{"traceparent",
                                      "00-4bf92f3577b34da6a3ce929d0e0e4736-"
                                      "00f067aa0ba902b7-01"},
                                     {"tracestate", "congo=t61rcWkgMzE"}},
                        .context = &ctx})
                  .ok());
  EXPECT_EQ(ctx.trace_context().parent_span_id, "00f067aa0ba902b7");
  absl::MutexLock lock(&inner.mu);
  EXPECT_EQ(inner.seen.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(inner.seen.parent_span_id, ctx.trace_context().span_id);
  EXPECT_EQ(inner.seen.trace_state, "congo=t61rcWkgMzE");
}

TEST_F(MetadataTraceTest, SpanLoggerExampleLogsEverySpanOfANestedCall) {
  absl::Mutex mu;
  std::vector<examples::Span> spans;
  auto sink = [&](const examples::Span& s) {
    absl::MutexLock lock(&mu);
    spans.push_back(s);
  };
  Inner inner;
  Server carol(
      *conn_,
      ServerOptions{.responder = "carol",
                    .interceptors = {
                        std::make_shared<examples::ServerSpanLogger>(sink)}});
  ASSERT_TRUE(carol.AddService(inner).ok());
  example::v1::Calculator::Client to_carol(
      *conn_,
      ClientOptions{.requester = "bob",
                    .responder = "carol",
                    .interceptors = {
                        std::make_shared<examples::ClientSpanLogger>(sink)}});
  Outer outer(to_carol);
  Server dave(
      *conn_,
      ServerOptions{.responder = "dave",
                    .interceptors = {
                        std::make_shared<examples::ServerSpanLogger>(sink)}});
  ASSERT_TRUE(dave.AddService(outer).ok());
  tv1::TestService::Client client(
      *conn_,
      ClientOptions{.requester = "alice",
                    .responder = "dave",
                    .interceptors = {
                        std::make_shared<examples::ClientSpanLogger>(sink)}});
  // No parent: the client logger starts the trace.
  ASSERT_TRUE(client.Echo(tv1::EchoRequest()).ok());

  absl::MutexLock lock(&mu);
  // Each end is logged before the caller's call returns, so all 8 are here.
  ASSERT_EQ(spans.size(), 8u);
  std::vector<std::string> lines;
  for (const examples::Span& s : spans) {
    lines.push_back(s.Line());
    std::cout << s.Line() << "\n";
    EXPECT_EQ(s.trace.trace_id, spans[0].trace.trace_id);
  }
  // start client Echo, start server Echo, start client Add, start server Add,
  // end server Add, end client Add, end server Echo, end client Echo.
  EXPECT_EQ(spans[0].kind, "client");
  EXPECT_TRUE(spans[0].trace.parent_span_id.empty());
  EXPECT_EQ(spans[1].trace.parent_span_id, spans[0].trace.span_id);
  EXPECT_EQ(spans[2].trace.parent_span_id, spans[1].trace.span_id);
  EXPECT_EQ(spans[3].trace.parent_span_id, spans[2].trace.span_id);
  EXPECT_EQ(spans[3].method, "example_v1.Calculator/Add");
  EXPECT_TRUE(spans[4].end);
  EXPECT_EQ(spans[4].trace.span_id, spans[3].trace.span_id);
  EXPECT_THAT(lines[7], ::testing::StartsWith(
                            "span end   client "
                            "natsrpc_testing_v1.TestService/Echo trace="));
  EXPECT_THAT(lines[7], ::testing::HasSubstr("status=OK duration="));
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
