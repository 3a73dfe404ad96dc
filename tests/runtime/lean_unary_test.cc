// Copyright 2026 The natsrpc Authors.
//
// Revision 5's lean unary form (docs/protocol.md 3.3) over the in-memory
// transport: the wire rules (runtime/src/wire/lean_unary.h), and a
// revision-5 client and server against each other and against peers that
// behave as revision 4 (a hand-written server here, requests injected as a
// revision-4 or foreign client sends them).

#include "wire/lean_unary.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"
#include "wire/headers.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::testing::EndsWith;
using testing::InMemoryTransport;
using ::testing::IsEmpty;

// ---- Wire rules ----

TEST(LeanUnaryWire, ReplyToCarriesTheTimeoutInItsLastToken) {
  char buffer[256];
  std::string overflow;
  EXPECT_EQ(wire::LeanResponseSubject("responses.a.b.app.Xk3.", 42, "5000000u",
                                      absl::MakeSpan(buffer), overflow),
            "responses.a.b.app.Xk3.42-5000000u");
  // Too long for the buffer: the overflow string holds it.
  char small[24];
  EXPECT_EQ(wire::LeanResponseSubject("responses.a.b.app.Xk3.", 42, "5000000u",
                                      absl::MakeSpan(small), overflow),
            "responses.a.b.app.Xk3.42-5000000u");
  EXPECT_EQ(
      wire::LeanCancelSubjectOf("requests.a.b.app.Svc.Add", "cid", 3, "250m"),
      "requests.a.b.app.Svc.Add.cancel.cid.3-250m");
}

TEST(LeanUnaryWire, OnlyDigitsDashTimeoutIsLean) {
  EXPECT_EQ(wire::LeanTimeout("42-5000000u"), absl::Seconds(5));
  EXPECT_EQ(wire::LeanTimeout("1-0n"), absl::ZeroDuration());
  for (absl::string_view not_lean :
       {"42", "42-", "-5S", "a-5S", "42-5x", "42-5s", "4a-5S", "42-5S-1",
        "123456789012345678901-5S", ""}) {
    EXPECT_FALSE(wire::LeanTimeout(not_lean).has_value()) << not_lean;
  }
  EXPECT_TRUE(wire::IsLeanToken("42-5000000u"));
  EXPECT_FALSE(wire::IsLeanToken("42-5000000"));
  EXPECT_FALSE(wire::IsLeanToken("42-123456789u"));
  EXPECT_TRUE(wire::IsLeanReplyTo("responses.a.b.app.Xk3.7-250m"));
  EXPECT_FALSE(wire::IsLeanReplyTo("responses.a.b.app.Xk3.7"));
  EXPECT_EQ(wire::LeanTimeoutOfReplyTo("responses.a.b.app.Xk3.7-250m"),
            absl::Milliseconds(250));
  EXPECT_FALSE(wire::LeanTimeoutOfReplyTo("responses.a.b.app.Xk3.7"));
}

TEST(LeanUnaryWire, RepliesAreRoutedByTheSeqOfEitherForm) {
  uint64_t seq = 0;
  EXPECT_TRUE(wire::ParseReplySeq("42", seq));
  EXPECT_EQ(seq, 42u);
  EXPECT_TRUE(wire::ParseReplySeq("43-5000000u", seq));
  EXPECT_EQ(seq, 43u);
  EXPECT_FALSE(wire::ParseReplySeq("44-x", seq));
  EXPECT_FALSE(wire::ParseReplySeq("x", seq));
}

TEST(LeanUnaryWire, RevisionFiveOrLaterReadsTheLeanForm) {
  EXPECT_TRUE(wire::ReadsLeanUnary("5"));
  EXPECT_TRUE(wire::ReadsLeanUnary("12"));
  EXPECT_FALSE(wire::ReadsLeanUnary("4"));
  EXPECT_FALSE(wire::ReadsLeanUnary("5a"));
  EXPECT_FALSE(wire::ReadsLeanUnary(""));
  EXPECT_FALSE(wire::ReadsLeanUnary(std::nullopt));
}

// ---- Peers ----

class Echo : public Service {
 public:
  Echo() : Service("Echo", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Say));
  }
  // "fail": NOT_FOUND; "deadline": the time left, in ms; else the echo.
  absl::Status Say(ServerContext& ctx, const StringValue& req,
                   StringValue& resp) {
    if (req.value() == "fail") return absl::NotFoundError("no such thing");
    if (req.value() == "deadline") {
      resp.set_value(absl::StrCat(
          absl::ToInt64Milliseconds(ctx.deadline() - absl::Now())));
      return absl::OkStatus();
    }
    resp.set_value(absl::StrCat(ctx.requester(), ":", req.value()));
    return absl::OkStatus();
  }
};

constexpr internal::MethodSpec kMethods[] = {
    {"Say", absl::ZeroDuration(), CallKind::kUnary}};

std::string Encode(const std::string& text) {
  StringValue v;
  v.set_value(text);
  return v.SerializeAsString();
}

class LeanUnaryTest : public ::testing::Test {
 protected:
  LeanUnaryTest()
      : transport_(std::make_shared<InMemoryTransport>()), conn_(transport_) {}

  absl::StatusOr<StringValue> Say(internal::ClientChannel& channel,
                                  const std::string& text) {
    StringValue req;
    req.set_value(text);
    return internal::BlockingUnaryCall<ProtobufCodec, StringValue>(
        channel, 0, req, CallOptions{});
  }

  // The messages published on `subject_prefix`..., in order.
  std::vector<InMemoryTransport::Sent> SentOn(absl::string_view prefix) {
    std::vector<InMemoryTransport::Sent> out;
    for (InMemoryTransport::Sent& m : transport_->sent()) {
      if (absl::StartsWith(m.subject, prefix)) out.push_back(std::move(m));
    }
    return out;
  }

  // A request as a revision-4 or foreign client sends it; returns the reply.
  InMemoryTransport::Sent RawCall(std::string reply, Metadata headers,
                                  const std::string& text) {
    std::vector<InMemoryTransport::Sent> replies;
    absl::Notification got;
    auto sub = transport_->Subscribe(reply, "", [&](MessagePtr m) {
      replies.push_back({std::string(m->subject()), "", m->headers(),
                         std::string(m->data())});
      got.Notify();
    });
    transport_->Inject({"requests.alice.bob.unit.Echo.Say", reply,
                        std::move(headers), Encode(text)});
    EXPECT_TRUE(got.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return replies.empty() ? InMemoryTransport::Sent{} : replies[0];
  }

  std::shared_ptr<InMemoryTransport> transport_;
  Connection conn_;
};

// A server that behaves as revision 4 (or any server that does not know
// revision 5): answers every request with the echo and Content-Type, and
// ignores Natsrpc-Revision; or, with `announce`, claims revision 5 on its
// replies to requests that ask, as a revision-5 server does.
class FakeServer {
 public:
  FakeServer(InMemoryTransport& transport, bool announce)
      : transport_(transport), announce_(announce) {
    sub_ = *transport.Subscribe(
        "requests.*.bob.unit.Echo.*", "q", [this](MessagePtr m) {
          StringValue req;
          req.ParseFromString(std::string(m->data()));
          StringValue resp;
          resp.set_value(absl::StrCat("fake:", req.value()));
          const std::string payload = resp.SerializeAsString();
          std::vector<HeaderRef> headers = {
              {"Content-Type", "application/protobuf"}};
          if (announce_.load() && m->header("Natsrpc-Revision") == "5") {
            headers.push_back({"Natsrpc-Revision", "5"});
          }
          transport_
              .Publish(OutgoingMessage{m->reply(),
                                       {},
                                       headers,
                                       nullptr,
                                       payload,
                                       FlushPolicy::kBatch})
              .IgnoreError();
        });
  }
  void set_announce(bool announce) { announce_.store(announce); }

 private:
  InMemoryTransport& transport_;
  std::atomic<bool> announce_;
  std::unique_ptr<Subscription> sub_;
};

TEST_F(LeanUnaryTest, RevisionFiveClientAndServerGoLeanAfterTheFirstReply) {
  Echo echo;
  Server server(conn_, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server.AddService(echo).ok());
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  ASSERT_TRUE(channel.status().ok()) << channel.status();

  absl::StatusOr<StringValue> r = Say(channel, "one");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), "alice:one");
  r = Say(channel, "two");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), "alice:two");
  absl::StatusOr<StringValue> failed = Say(channel, "fail");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(failed.status().message(), "no such thing");

  std::vector<InMemoryTransport::Sent> requests = SentOn("requests.");
  std::vector<InMemoryTransport::Sent> replies = SentOn("responses.");
  ASSERT_EQ(requests.size(), 3u);
  ASSERT_EQ(replies.size(), 3u);
  // The first call asks, in revision 4's form.
  EXPECT_THAT(requests[0].reply, EndsWith(".1"));
  EXPECT_EQ(requests[0].Header("Natsrpc-Revision"), "5");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/protobuf");
  EXPECT_NE(requests[0].Header("Natsrpc-Timeout"), "<absent>");
  EXPECT_EQ(replies[0].Header("Natsrpc-Revision"), "5");
  EXPECT_EQ(replies[0].Header("Content-Type"), "application/protobuf");
  // Then lean: no header at all, the timeout in the reply-to.
  for (int i : {1, 2}) {
    EXPECT_THAT(requests[i].headers, IsEmpty()) << i;
    const std::string token =
        requests[i].reply.substr(requests[i].reply.rfind('.') + 1);
    EXPECT_TRUE(absl::StartsWith(token, absl::StrCat(i + 1, "-"))) << token;
    std::optional<absl::Duration> timeout = wire::LeanTimeout(token);
    ASSERT_TRUE(timeout.has_value()) << token;
    EXPECT_GT(*timeout, absl::Seconds(9));  // the 10 s default
    EXPECT_LE(*timeout, absl::Seconds(10));
    EXPECT_EQ(replies[i].subject, requests[i].reply);
  }
  // An OK reply to a lean request has no header block; an error reply keeps
  // its typed status.
  EXPECT_THAT(replies[1].headers, IsEmpty());
  EXPECT_EQ(replies[2].Header("Nats-Service-Error-Code"), "5");
  EXPECT_EQ(replies[2].Header("Content-Type"), "<absent>");
}

TEST_F(LeanUnaryTest, RevisionFiveClientKeepsRevisionFourFormWithOlderServer) {
  FakeServer old_server(*transport_, /*announce=*/false);
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<StringValue> r = Say(channel, "x");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->value(), "fake:x");
  }
  std::vector<InMemoryTransport::Sent> requests = SentOn("requests.");
  ASSERT_EQ(requests.size(), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_THAT(requests[i].reply, EndsWith(absl::StrCat(".", i + 1)));
    EXPECT_NE(requests[i].Header("Natsrpc-Timeout"), "<absent>");
    EXPECT_EQ(requests[i].Header("Content-Type"), "application/protobuf");
  }
}

TEST_F(LeanUnaryTest, ClientFallsBackWhenAnOlderInstanceAnswersALeanRequest) {
  FakeServer server(*transport_, /*announce=*/true);
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  ASSERT_TRUE(Say(channel, "a").ok());  // learns revision 5
  server.set_announce(false);           // now an older instance answers
  ASSERT_TRUE(Say(channel, "b").ok());  // lean, answered with Content-Type
  absl::StatusOr<StringValue> r = Say(channel, "c");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), "fake:c");
  std::vector<InMemoryTransport::Sent> requests = SentOn("requests.");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(requests[0].reply, EndsWith(".1"));
  EXPECT_TRUE(wire::LeanTimeoutOfReplyTo(requests[1].reply).has_value())
      << requests[1].reply;
  EXPECT_THAT(requests[2].reply, EndsWith(".3"));
  EXPECT_EQ(requests[2].Header("Natsrpc-Revision"), "5");
  EXPECT_NE(requests[2].Header("Natsrpc-Timeout"), "<absent>");
}

TEST_F(LeanUnaryTest, RevisionFourAndForeignRequestsGetRevisionFourReplies) {
  Echo echo;
  Server server(conn_, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server.AddService(echo).ok());
  InMemoryTransport::Sent reply = RawCall(
      "responses.alice.bob.unit.cid.1",
      {{"Natsrpc-Timeout", "5S"}, {"Content-Type", "application/protobuf"}},
      "x");
  EXPECT_EQ(reply.Header("Content-Type"), "application/protobuf");
  EXPECT_EQ(reply.Header("Natsrpc-Revision"), "<absent>");
  // No headers at all (a plain PUB): still answered as revision 4 does.
  reply = RawCall("responses.alice.bob.unit.cid.2", {}, "y");
  EXPECT_EQ(reply.Header("Content-Type"), "application/protobuf");
  EXPECT_EQ(reply.Header("Natsrpc-Revision"), "<absent>");
  StringValue v;
  ASSERT_TRUE(v.ParseFromString(reply.data));
  EXPECT_EQ(v.value(), "alice:y");
}

TEST_F(LeanUnaryTest, ServerTakesTheDeadlineOfALeanRequestFromItsReplyTo) {
  Echo echo;
  Server server(conn_, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server.AddService(echo).ok());
  InMemoryTransport::Sent reply =
      RawCall("responses.alice.bob.unit.cid.1-5S", {}, "deadline");
  EXPECT_THAT(reply.headers, IsEmpty());
  StringValue v;
  ASSERT_TRUE(v.ParseFromString(reply.data));
  int64_t left_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(v.value(), &left_ms)) << v.value();
  EXPECT_GT(left_ms, 4000);
  EXPECT_LE(left_ms, 5000);
  // Zero time left: DEADLINE_EXCEEDED without running the handler.
  reply = RawCall("responses.alice.bob.unit.cid.2-0n", {}, "x");
  EXPECT_EQ(reply.Header("Nats-Service-Error-Code"), "4");
  // A header, if present anyway, wins over the token.
  reply = RawCall("responses.alice.bob.unit.cid.3-0n",
                  {{"Natsrpc-Timeout", "5S"}}, "x");
  EXPECT_EQ(reply.Header("Nats-Service-Error-Code"), "<absent>");
}

TEST_F(LeanUnaryTest, CancellingALeanCallNamesItsLeanToken) {
  FakeServer server(*transport_, /*announce=*/true);
  internal::ClientChannel channel(conn_,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  ASSERT_TRUE(Say(channel, "a").ok());  // learns revision 5
  // Keep the next request from being answered.
  transport_->PauseDelivery();
  absl::Notification ended;
  CallHandle handle = internal::AsyncUnaryCall<ProtobufCodec, StringValue>(
      channel, 0, StringValue(),
      [&](absl::StatusOr<StringValue> r) {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
        ended.Notify();
      },
      CallOptions{});
  EXPECT_TRUE(handle.Cancel());
  EXPECT_TRUE(ended.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::vector<InMemoryTransport::Sent> requests = SentOn("requests.");
  ASSERT_EQ(requests.size(), 3u);  // call 1, call 2, the cancel
  const std::string token =
      requests[1].reply.substr(requests[1].reply.rfind('.') + 1);
  ASSERT_TRUE(wire::LeanTimeout(token).has_value()) << requests[1].reply;
  std::vector<std::string> reply_tokens =
      absl::StrSplit(requests[1].reply, '.');
  ASSERT_EQ(reply_tokens.size(), 6u);
  EXPECT_EQ(requests[2].subject,
            absl::StrCat("requests.alice.bob.unit.Echo.Say.cancel.",
                         reply_tokens[4], ".", reply_tokens[5]));
  transport_->ResumeDelivery();
}

}  // namespace
}  // namespace natsrpc
