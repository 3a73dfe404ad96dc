// Copyright 2026 The natsrpc Authors.
//
// Unit tests of the client and server cores over an in-memory transport.
// The service below is written exactly as generated code writes one.

#include <atomic>
#include <memory>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"
#include "wire/headers.h"
#include "wire/lean_unary.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::testing::HasSubstr;
using testing::InMemoryTransport;
using ::testing::StartsWith;

class Echo : public Service {
 public:
  Echo() : Service("Echo", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Say));
    RegisterMethod("Missing",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Missing));
  }
  virtual absl::Status Say(ServerContext& ctx, const StringValue& req,
                           StringValue& resp) {
    calls.fetch_add(1);
    if (req.value() == "throw") throw std::runtime_error("boom");
    if (req.value() == "fail") return absl::NotFoundError("no\r\nsuch");
    if (req.value() == "big") {
      resp.set_value(std::string(2000, 'x'));
      return absl::OkStatus();
    }
    ctx.AddResponseMetadata("X-Seen", "1");
    resp.set_value(absl::StrCat(ctx.requester(), ":", req.value()));
    return absl::OkStatus();
  }
  virtual absl::Status Missing(ServerContext&, const StringValue&,
                               StringValue&) {
    return internal::Unimplemented(service_name(), "Missing");
  }
  std::atomic<int> calls{0};
};

constexpr internal::MethodSpec kMethods[] = {
    {"Say", absl::ZeroDuration(), CallKind::kUnary},
    {"Missing", absl::Milliseconds(50), CallKind::kUnary}};

class CoreTest : public ::testing::Test {
 protected:
  CoreTest()
      : transport_(std::make_shared<InMemoryTransport>()),
        conn_(transport_),
        server_(conn_, ServerOptions{.responder = "bob"}) {}

  void SetUp() override { ASSERT_TRUE(server_.AddService(echo_).ok()); }

  absl::StatusOr<StringValue> Say(internal::ClientChannel& channel,
                                  const std::string& text,
                                  const CallOptions& options = {}) {
    StringValue req;
    req.set_value(text);
    return internal::BlockingUnaryCall<ProtobufCodec, StringValue>(
        channel, 0, req, options);
  }

  // A request published as a foreign client would, with a reply-to the test
  // listens on.
  InMemoryTransport::Sent RawCall(std::string subject, std::string reply,
                                  Metadata headers, std::string data) {
    std::vector<InMemoryTransport::Sent> replies;
    absl::Notification got;
    auto sub = transport_->Subscribe(reply, "", [&](MessagePtr m) {
      replies.push_back({std::string(m->subject()), "", m->headers(),
                         std::string(m->data())});
      got.Notify();
    });
    transport_->Inject(
        {std::move(subject), reply, std::move(headers), std::move(data)});
    EXPECT_TRUE(got.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return replies.empty() ? InMemoryTransport::Sent{} : replies[0];
  }

  static std::string Header(const InMemoryTransport::Sent& m,
                            absl::string_view key) {
    return m.Header(key);
  }

  std::shared_ptr<InMemoryTransport> transport_;
  Connection conn_;
  Echo echo_;
  Server server_;
};

TEST_F(CoreTest, RoundTripUsesProtocolSubjectsAndHeaders) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  ASSERT_TRUE(channel.status().ok()) << channel.status();
  absl::StatusOr<StringValue> r = Say(channel, "hi");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), "alice:hi");

  std::vector<InMemoryTransport::Sent> sent = transport_->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].subject, "requests.alice.bob.unit.Echo.Say");
  EXPECT_THAT(sent[0].reply, StartsWith("responses.alice.bob.unit."));
  EXPECT_THAT(sent[0].reply, ::testing::EndsWith(".1"));
  EXPECT_EQ(Header(sent[0], "Content-Type"), "application/protobuf");
  absl::StatusOr<absl::Duration> t =
      wire::DecodeTimeout(Header(sent[0], "Natsrpc-Timeout"));
  ASSERT_TRUE(t.ok());
  EXPECT_GT(*t, absl::Seconds(9));  // the 10 s default
  EXPECT_LE(*t, absl::Seconds(10));
  EXPECT_EQ(sent[1].subject, sent[0].reply);
  EXPECT_EQ(Header(sent[1], "Nats-Service-Error-Code"), "<absent>");
  EXPECT_EQ(Header(sent[1], "X-Seen"), "1");
}

TEST_F(CoreTest, OneResponseSubscriptionPerConnectionAndRequester) {
  internal::ClientChannel a(conn_, {.requester = "alice", .responder = "bob"},
                            "Echo", "unit", kMethods);
  internal::ClientChannel b(conn_, {.requester = "alice", .responder = "bob"},
                            "Echo", "unit", kMethods);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Say(a, "x").ok());
    ASSERT_TRUE(Say(b, "y").ok());
  }
  std::vector<InMemoryTransport::Sent> sent = transport_->sent();
  const std::string prefix = sent[0].reply.substr(0, sent[0].reply.rfind('.'));
  for (size_t i = 0; i < sent.size(); i += 2) {
    // One seq counter; after the first reply the seq token is revision 5's
    // lean `<seq>-<timeout>` (docs/protocol.md 3.3).
    EXPECT_EQ(sent[i].reply.substr(0, prefix.size() + 1), prefix + ".");
    uint64_t seq = 0;
    EXPECT_TRUE(
        wire::ParseReplySeq(sent[i].reply.substr(prefix.size() + 1), seq))
        << sent[i].reply;
    EXPECT_EQ(seq, i / 2 + 1);
  }
  EXPECT_EQ(a.stats().calls_started, 10u);  // one shared multiplexer
}

TEST_F(CoreTest, HandlerStatusCrossesTheWire) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  absl::StatusOr<StringValue> r = Say(channel, "fail");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  // Exact, line break included: the status body (docs/protocol.md 4.1); the
  // header keeps a one-line copy for NATS tools.
  EXPECT_EQ(r.status().message(), "no\r\nsuch");
}

TEST_F(CoreTest, ThrowingHandlerIsUnknown) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  absl::StatusOr<StringValue> r = Say(channel, "throw");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(r.status().message(), HasSubstr("boom"));
  EXPECT_THAT(r.status().message(), HasSubstr("Echo.Say"));
}

TEST_F(CoreTest, UnimplementedMethod) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  StringValue req;
  absl::StatusOr<StringValue> r =
      internal::BlockingUnaryCall<ProtobufCodec, StringValue>(channel, 1, req,
                                                              {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(r.status().message(), HasSubstr("Echo.Missing"));
}

TEST_F(CoreTest, NoRespondersIsUnavailable) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "nobody"},
                                  "Echo", "unit", kMethods);
  absl::StatusOr<StringValue> r = Say(channel, "x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(),
              HasSubstr("requests.alice.nobody.unit.Echo.Say"));
}

TEST_F(CoreTest, NotConnectedIsUnavailable) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  transport_->set_connected(false);
  EXPECT_EQ(Say(channel, "x").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(CoreTest, InvalidNamesNameTheField) {
  internal::ClientChannel bad_requester(
      conn_, {.requester = "al.ice", .responder = "b"}, "Echo", "unit",
      kMethods);
  EXPECT_EQ(bad_requester.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_requester.status().message(),
              HasSubstr("ClientOptions.requester"));
  EXPECT_EQ(Say(bad_requester, "x").status(), bad_requester.status());

  internal::ClientChannel bad_responder(
      conn_, {.requester = "a", .responder = "b>"}, "Echo", "unit", kMethods);
  EXPECT_THAT(bad_responder.status().message(),
              HasSubstr("ClientOptions.responder"));
  internal::ClientChannel bad_app(
      conn_, {.requester = "a", .responder = "b", .app = "x y"}, "Echo", "unit",
      kMethods);
  EXPECT_THAT(bad_app.status().message(), HasSubstr("ClientOptions.app"));
  EXPECT_TRUE(transport_->sent().empty());

  Server server(conn_, ServerOptions{.responder = "b*b"});
  Echo echo;
  absl::Status s = server.AddService(echo);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ServerOptions.responder"));
}

TEST_F(CoreTest, ReservedMetadataIsRefused) {
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  absl::StatusOr<StringValue> r =
      Say(channel, "x", {.metadata = {{"Nats-Service-Error-Code", "0"}}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(transport_->sent().empty());
}

TEST_F(CoreTest, DisconnectFailsPendingCalls) {
  // No server answers "silent": the call stays pending.
  auto silent =
      transport_->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "silent"},
                                  "Echo", "unit", kMethods);
  absl::Notification done;
  absl::Status result;
  StringValue req;
  internal::AsyncUnaryCall<ProtobufCodec, StringValue>(
      channel, 0, req,
      [&](absl::StatusOr<StringValue> r) {
        result = r.status();
        done.Notify();
      },
      {});
  EXPECT_FALSE(done.HasBeenNotified());
  transport_->Emit({TransportEvent::Kind::kDisconnected, "", true, "lost"});
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(result.code(), absl::StatusCode::kUnavailable);
}

TEST_F(CoreTest, PermissionDeniedEndsOnlyCallsToThatSubject) {
  auto silent =
      transport_->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "silent"},
                                  "Echo", "unit", kMethods);
  std::atomic<int> denied{0};
  std::atomic<int> other{0};
  StringValue req;
  for (int method : {0, 1}) {
    internal::AsyncUnaryCall<ProtobufCodec, StringValue>(
        channel, method, req,
        [&](absl::StatusOr<StringValue> r) {
          (r.status().code() == absl::StatusCode::kPermissionDenied ? denied
                                                                    : other)
              .fetch_add(1);
        },
        {.timeout = absl::Hours(1)});
  }
  transport_->Emit({TransportEvent::Kind::kPermissionDenied,
                    "requests.alice.silent.unit.Echo.Say", true,
                    "Permissions Violation"});
  EXPECT_EQ(denied.load(), 1);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(CoreTest, CancelEndsTheCallOnceAndDropsTheLateReply) {
  auto silent =
      transport_->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "silent"},
                                  "Echo", "unit", kMethods);
  std::atomic<int> calls{0};
  absl::Status result;
  StringValue req;
  CallHandle handle = internal::AsyncUnaryCall<ProtobufCodec, StringValue>(
      channel, 0, req,
      [&](absl::StatusOr<StringValue> r) {
        result = r.status();
        calls.fetch_add(1);
      },
      {});
  EXPECT_TRUE(handle.Cancel());
  EXPECT_FALSE(handle.Cancel());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);

  // The server is told through the call's cancel subject (protocol 9.8).
  ASSERT_EQ(transport_->sent().size(), 2u);
  const std::string reply = transport_->sent()[0].reply;
  const std::vector<std::string> reply_tokens = absl::StrSplit(reply, '.');
  ASSERT_EQ(reply_tokens.size(), 6u);
  EXPECT_EQ(transport_->sent()[1].subject,
            absl::StrCat("requests.alice.silent.unit.Echo.Say.cancel.",
                         reply_tokens[4], ".", reply_tokens[5]));

  // A reply arriving now is dropped and counted, not delivered.
  transport_->Inject({reply, "", {}, ""});
  transport_->Inject({reply, "", {}, ""});
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(channel.stats().replies_dropped, 2u);
}

TEST_F(CoreTest, DeadlineExceededWhenNobodyAnswers) {
  auto silent =
      transport_->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "silent"},
                                  "Echo", "unit", kMethods);
  const absl::Time start = absl::Now();
  absl::StatusOr<StringValue> r =
      Say(channel, "x", {.timeout = absl::Milliseconds(30)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  // The method's IDL timeout (50 ms) applies when the call sets none.
  StringValue req;
  r = internal::BlockingUnaryCall<ProtobufCodec, StringValue>(channel, 1, req,
                                                              {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(channel.stats().timeouts, 2u);
}

TEST_F(CoreTest, PropagatedDeadlineNeverGrows) {
  auto silent =
      transport_->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "silent"},
                                  "Echo", "unit", kMethods);
  StringValue req;
  internal::AsyncUnaryCall<ProtobufCodec, StringValue>(
      channel, 0, req, [](absl::StatusOr<StringValue>) {},
      {.timeout = absl::Hours(1),
       .deadline = absl::Now() + absl::Milliseconds(500)});
  absl::StatusOr<absl::Duration> t =
      wire::DecodeTimeout(Header(transport_->sent().back(), "Natsrpc-Timeout"));
  ASSERT_TRUE(t.ok());
  EXPECT_LE(*t, absl::Milliseconds(500));
}

TEST_F(CoreTest, ServerDropsSpoofedReplyTo) {
  transport_->Inject({"requests.alice.bob.unit.Echo.Say",
                      "responses.carol.bob.unit.X.1",
                      {},
                      ""});
  transport_->Inject({"requests.alice.bob.unit.Echo.Say", "", {}, ""});
  transport_->Inject(
      {"requests.alice.bob.unit.Echo.Say", "_INBOX.abc", {}, ""});
  EXPECT_TRUE(transport_->sent().empty());
  EXPECT_EQ(server_.stats().dropped_bad_reply_to, 3u);
  EXPECT_EQ(echo_.calls.load(), 0);
}

TEST_F(CoreTest, ServerAnswersBadInputWithoutRunningTheHandler) {
  const std::string subject = "requests.alice.bob.unit.Echo.Say";
  const std::string reply = "responses.alice.bob.unit.X.1";
  InMemoryTransport::Sent r =
      RawCall(subject, reply, {{"Natsrpc-Timeout", "soon"}}, "");
  EXPECT_EQ(Header(r, "Nats-Service-Error-Code"), "3");
  EXPECT_THAT(Header(r, "Nats-Service-Error"), HasSubstr("soon"));

  r = RawCall(subject, reply, {{"Natsrpc-Timeout", "0n"}}, "");
  EXPECT_EQ(Header(r, "Nats-Service-Error-Code"), "4");

  r = RawCall(subject, reply, {}, "\xff\xff\xff");
  EXPECT_EQ(Header(r, "Nats-Service-Error-Code"), "3");
  EXPECT_THAT(Header(r, "Nats-Service-Error"),
              HasSubstr("google.protobuf.StringValue"));

  r = RawCall("requests.alice.bob.unit.Echo.Nope", reply, {}, "");
  EXPECT_EQ(Header(r, "Nats-Service-Error-Code"), "12");
  EXPECT_THAT(Header(r, "Nats-Service-Error"), HasSubstr("Nope"));
  EXPECT_EQ(echo_.calls.load(), 0);

  // A request without a timeout header (a foreign client) is served.
  r = RawCall(subject, reply, {}, "");
  EXPECT_EQ(Header(r, "Nats-Service-Error-Code"), "<absent>");
  EXPECT_EQ(echo_.calls.load(), 1);
}

TEST_F(CoreTest, OversizedMessagesAreResourceExhausted) {
  transport_->set_max_payload(1000);
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  absl::StatusOr<StringValue> r = Say(channel, std::string(5000, 'a'));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  r = Say(channel, "big");  // the reply is too large
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("reply"));
}

TEST_F(CoreTest, AddServiceTwiceIsAlreadyExists) {
  EXPECT_EQ(server_.AddService(echo_).code(), absl::StatusCode::kAlreadyExists);
  server_.Shutdown();
  Echo other;
  EXPECT_EQ(server_.AddService(other).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace natsrpc

namespace natsrpc {
namespace {

// Encode has two paths (a string for small messages, an uninitialized
// buffer from kUninitializedBufferFrom on); both give the wire bytes.
TEST(ProtobufCodecTest, EncodeGivesTheSerializedBytesAtEverySize) {
  using Codec = ProtobufCodec<google::protobuf::BytesValue>;
  for (size_t n : {size_t{0}, size_t{100}, Codec::kUninitializedBufferFrom - 8,
                   Codec::kUninitializedBufferFrom,
                   Codec::kUninitializedBufferFrom + 1, size_t{100000}}) {
    google::protobuf::BytesValue message;
    std::string value(n, '\0');
    for (size_t i = 0; i < n; ++i) value[i] = static_cast<char>(i * 7 + 1);
    message.set_value(value);
    Payload payload;
    ASSERT_TRUE(Codec::Encode(message, payload).ok()) << n;
    EXPECT_EQ(payload.view(), message.SerializeAsString()) << n;
    google::protobuf::BytesValue back;
    ASSERT_TRUE(back.ParseFromArray(payload.view().data(),
                                    static_cast<int>(payload.view().size())))
        << n;
    EXPECT_EQ(back.value(), value) << n;
  }
}

}  // namespace
}  // namespace natsrpc
