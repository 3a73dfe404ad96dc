// Copyright 2026 The natsrpc Authors.
//
// Revision 4 of docs/protocol.md in unit tests: the wire rules of reply
// metadata (wire/reply_metadata.h) and W3C trace context
// (wire/trace_context.h, natsrpc/trace.h), and both through the client and
// server cores over the in-memory transport, where the exact headers are
// visible.

#include "wire/reply_metadata.h"

#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"
#include "natsrpc/trace.h"
#include "wire/trace_context.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::testing::ElementsAre;
using testing::InMemoryTransport;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr absl::string_view kW3cExample =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(ReplyMetadataTest,
     AppendDropsReservedTraceAndInvalidKeysKeepsEmptyValues) {
  Metadata out;
  wire::AppendMetadata({{"a", "1"},
                        {"empty", ""},
                        {"Nats-Service-Error-Code", "3"},
                        {"natsrpc-count", "1"},
                        {"content-type", "x"},
                        {"traceparent", std::string(kW3cExample)},
                        {"Tracestate", "a=b"},
                        {"bad key", "v"},
                        {"line", "a\r\nb"}},
                       wire::kTrailerPrefix, out);
  EXPECT_THAT(out, ElementsAre(Pair("Natsrpc-Trailer-a", "1"),
                               Pair("Natsrpc-Trailer-empty", "")));
  out.clear();
  wire::AppendMetadata({{"a", "1"}, {"empty", ""}}, {}, out);
  EXPECT_THAT(out, ElementsAre(Pair("a", "1"), Pair("empty", "")));
}

TEST(ReplyMetadataTest, SplitNeverTakesStatusOrProtocolHeadersForMetadata) {
  Metadata plain;
  Metadata prefixed;
  wire::SplitMetadata({{"Nats-Service-Error-Code", "5"},
                       {"Nats-Service-Error", ""},
                       {"Content-Type", "application/protobuf"},
                       {"Natsrpc-Stream", "end"},
                       {"traceparent", std::string(kW3cExample)},
                       {"a", ""},
                       {"Natsrpc-Trailer-t", ""},
                       {"Natsrpc-Trailer-t", "2"},
                       // Not a trailer: the key after the prefix is reserved
                       // or empty, or the prefix is spelled otherwise.
                       {"Natsrpc-Trailer-Nats-Service-Error-Code", "1"},
                       {"Natsrpc-Trailer-", "x"},
                       {"natsrpc-trailer-u", "x"},
                       {"b", "B"}},
                      wire::kTrailerPrefix, plain, prefixed);
  EXPECT_THAT(plain, ElementsAre(Pair("a", ""), Pair("b", "B")));
  EXPECT_THAT(prefixed, ElementsAre(Pair("t", ""), Pair("t", "2")));
}

TEST(TraceparentTest, ParsesTheW3cExample) {
  std::optional<TraceContext> t = wire::ParseTraceparent(kW3cExample);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, 0x01);
  EXPECT_TRUE(t->valid());
  EXPECT_EQ(wire::FormatTraceparent(*t), kW3cExample);
  // Unsampled, and a future version with an extra field.
  EXPECT_EQ(wire::ParseTraceparent(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
                ->flags,
            0);
  EXPECT_TRUE(wire::ParseTraceparent(
                  "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                  .has_value());
}

TEST(TraceparentTest, InvalidValuesAreIgnored) {
  for (absl::string_view bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // short
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // 00 +
                                                                        // extra
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero
                                                                        // trace
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero
                                                                        // span
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper
                                                                        // case
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version
                                                                       // ff
           "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
           "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
       }) {
    EXPECT_FALSE(wire::ParseTraceparent(bad).has_value()) << bad;
  }
}

TEST(TraceparentTest, HeadersJoinTracestateAndDropABadOne) {
  TraceContext t = wire::TraceContextFromHeaders(
      {{"tracestate", "a=1"},
       {"traceparent", std::string(kW3cExample)},
       {"traceparent",
        "00-11111111111111111111111111111111-1111111111111111-01"},
       {"tracestate", "b=2"}});
  EXPECT_EQ(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");  // first one
  EXPECT_EQ(t.trace_state, "a=1,b=2");
  t = wire::TraceContextFromHeaders({{"traceparent", std::string(kW3cExample)},
                                     {"tracestate", std::string(600, 'a')}});
  EXPECT_TRUE(t.valid());
  EXPECT_EQ(t.trace_state, "");
  // Without a valid traceparent the tracestate is ignored too.
  t = wire::TraceContextFromHeaders(
      {{"traceparent", "junk"}, {"tracestate", "a=1"}});
  EXPECT_FALSE(t.valid());
  EXPECT_EQ(t.trace_state, "");
}

TEST(TraceContextTest, ChildKeepsTheTraceAndNamesItsParent) {
  const TraceContext root = TraceContext::NewRoot();
  EXPECT_TRUE(root.valid());
  EXPECT_TRUE(root.sampled());
  EXPECT_TRUE(root.parent_span_id.empty());
  TraceContext with_state = root;
  with_state.trace_state = "k=v";
  const TraceContext child = with_state.NewChild();
  EXPECT_TRUE(child.valid());
  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_NE(child.span_id, root.span_id);
  EXPECT_EQ(child.trace_state, "k=v");
  EXPECT_NE(TraceContext::NewRoot().trace_id, root.trace_id);
  EXPECT_FALSE(TraceContext().valid());
}

TEST(TraceContextTest, ScopesNestPerThread) {
  EXPECT_FALSE(CurrentTraceContext().valid());
  const TraceContext a = TraceContext::NewRoot();
  const TraceContext b = a.NewChild();
  {
    ScopedTraceContext outer(a);
    EXPECT_EQ(CurrentTraceContext().span_id, a.span_id);
    {
      ScopedTraceContext inner(b);
      EXPECT_EQ(CurrentTraceContext().span_id, b.span_id);
      std::thread other([] { EXPECT_FALSE(CurrentTraceContext().valid()); });
      other.join();
    }
    EXPECT_EQ(CurrentTraceContext().span_id, a.span_id);
  }
  EXPECT_FALSE(CurrentTraceContext().valid());
}

// Through the cores: a service written as generated code writes one.
class Meta : public Service {
 public:
  Meta() : Service("Meta", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Meta::Say));
  }
  absl::Status Say(ServerContext& ctx, const StringValue& req,
                   StringValue& resp) {
    seen = ctx.trace_context();
    current_in_handler = CurrentTraceContext();
    ctx.AddInitialMetadata("i", "");
    ctx.AddTrailingMetadata("t", "");
    ctx.AddTrailingMetadata("Nats-Service-Error", "not a status");
    resp.set_value(req.value());
    if (req.value() == "fail") return absl::NotFoundError("nope");
    return absl::OkStatus();
  }
  TraceContext seen;
  TraceContext current_in_handler;
};

constexpr internal::MethodSpec kMethods[] = {
    {"Say", absl::ZeroDuration(), CallKind::kUnary}};

class CoreMetadataTest : public ::testing::Test {
 protected:
  CoreMetadataTest()
      : transport_(std::make_shared<InMemoryTransport>()),
        conn_(transport_),
        server_(conn_, ServerOptions{.responder = "bob"}),
        channel_(conn_, {.requester = "alice", .responder = "bob"}, "Meta",
                 "unit", kMethods) {}
  void SetUp() override { ASSERT_TRUE(server_.AddService(meta_).ok()); }

  absl::StatusOr<StringValue> Say(const std::string& text,
                                  const CallOptions& options) {
    StringValue req;
    req.set_value(text);
    return internal::BlockingUnaryCall<ProtobufCodec, StringValue>(
        channel_, 0, req, options);
  }

  std::shared_ptr<InMemoryTransport> transport_;
  Connection conn_;
  Meta meta_;
  Server server_;
  internal::ClientChannel channel_;
};

TEST_F(CoreMetadataTest, ReplyHeadersAndClientContext) {
  ClientContext ctx;
  ASSERT_TRUE(Say("hi", {.context = &ctx}).ok());
  std::vector<InMemoryTransport::Sent> sent = transport_->sent();
  ASSERT_EQ(sent.size(), 2u);
  // No parent: no trace headers, the request's bytes as in revision 3.
  EXPECT_EQ(sent[0].Header("traceparent"), "<absent>");
  EXPECT_EQ(sent[1].Header("i"), "");
  EXPECT_EQ(sent[1].Header("Natsrpc-Trailer-t"), "");
  EXPECT_EQ(sent[1].Header("Natsrpc-Trailer-Nats-Service-Error"), "<absent>");
  EXPECT_THAT(ctx.GetServerInitialMetadata(), ElementsAre(Pair("i", "")));
  EXPECT_THAT(ctx.GetServerTrailingMetadata(), ElementsAre(Pair("t", "")));
  EXPECT_FALSE(ctx.trace_context().valid());
  EXPECT_FALSE(meta_.seen.valid());

  // An error reply: same metadata; reusing the context clears it first.
  EXPECT_EQ(Say("fail", {.context = &ctx}).status(),
            absl::NotFoundError("nope"));
  EXPECT_THAT(ctx.GetServerInitialMetadata(), ElementsAre(Pair("i", "")));
  EXPECT_THAT(ctx.GetServerTrailingMetadata(), ElementsAre(Pair("t", "")));
}

TEST_F(CoreMetadataTest, TraceHeadersOnTheRequestAndTheHandlersSpan) {
  const TraceContext parent = TraceContext::NewRoot(/*flags=*/0);
  ClientContext ctx;
  {
    ScopedTraceContext current(parent);
    ASSERT_TRUE(Say("hi", {.context = &ctx}).ok());
  }
  const TraceContext& call = ctx.trace_context();
  EXPECT_EQ(call.trace_id, parent.trace_id);
  EXPECT_EQ(call.parent_span_id, parent.span_id);
  std::vector<InMemoryTransport::Sent> sent = transport_->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].Header("traceparent"),
            absl::StrCat("00-", parent.trace_id, "-", call.span_id, "-00"));
  EXPECT_EQ(sent[0].Header("tracestate"), "<absent>");
  EXPECT_EQ(sent[1].Header("traceparent"), "<absent>");  // not on replies
  EXPECT_EQ(meta_.seen.trace_id, parent.trace_id);
  EXPECT_EQ(meta_.seen.parent_span_id, call.span_id);
  EXPECT_FALSE(meta_.seen.sampled());
  EXPECT_EQ(meta_.current_in_handler.span_id, meta_.seen.span_id);
  // Only during the handler.
  EXPECT_FALSE(CurrentTraceContext().valid());
}

TEST_F(CoreMetadataTest, CallOptionsParentWinsAndReplacesHandMadeHeaders) {
  const TraceContext parent = TraceContext::NewRoot();
  ClientContext ctx;
  ASSERT_TRUE(Say("hi", {.metadata = {{"traceparent", std::string(kW3cExample)},
                                      {"x", "1"}},
                         .context = &ctx,
                         .trace_parent = parent})
                  .ok());
  std::vector<InMemoryTransport::Sent> sent = transport_->sent();
  ASSERT_EQ(sent.size(), 2u);
  int traceparents = 0;
  for (const auto& [k, v] : sent[0].headers) traceparents += k == "traceparent";
  EXPECT_EQ(traceparents, 1);
  EXPECT_EQ(sent[0].Header("x"), "1");
  EXPECT_EQ(ctx.trace_context().parent_span_id, parent.span_id);
  EXPECT_EQ(meta_.seen.trace_id, parent.trace_id);
}

// The span hook: an interceptor starts the trace and the server's
// interceptor sees the incoming span.
class StartTrace final : public ClientInterceptor {
 public:
  std::unique_ptr<ClientCallInterceptor> Intercept(
      const CallInfo& call) override {
    EXPECT_NE(call.trace, nullptr);
    EXPECT_FALSE(call.trace->valid());
    *call.trace = TraceContext::NewRoot();
    started = *call.trace;
    return nullptr;  // not following the call: the span is still sent
  }
  TraceContext started;
};

class SeeTrace final : public ServerInterceptor {
 public:
  std::unique_ptr<ServerCallInterceptor> Intercept(
      const CallInfo& call) override {
    seen = *call.trace;
    return nullptr;
  }
  TraceContext seen;
};

TEST(CoreTraceHookTest, InterceptorsReadAndSetTheSpan) {
  auto transport = std::make_shared<InMemoryTransport>();
  Connection conn(transport);
  auto see = std::make_shared<SeeTrace>();
  Server server(conn, ServerOptions{.responder = "bob", .interceptors = {see}});
  Meta meta;
  ASSERT_TRUE(server.AddService(meta).ok());
  auto start = std::make_shared<StartTrace>();
  internal::ClientChannel channel(
      conn, {.requester = "alice", .responder = "bob", .interceptors = {start}},
      "Meta", "unit", kMethods);
  StringValue req;
  ASSERT_TRUE((internal::BlockingUnaryCall<ProtobufCodec, StringValue>(
                   channel, 0, req, {}))
                  .ok());
  ASSERT_TRUE(start->started.valid());
  EXPECT_EQ(see->seen.trace_id, start->started.trace_id);
  EXPECT_EQ(see->seen.parent_span_id, start->started.span_id);
  EXPECT_EQ(meta.seen.span_id, see->seen.span_id);
}

}  // namespace
}  // namespace natsrpc
