// Copyright 2026 The natsrpc Authors.
//
// Unit tests of the stream core (runtime/src/stream/stream_endpoint.h) over the
// in-memory transport, which delivers synchronously on the publishing thread.
// Time is a fake clock that the tests move; heartbeats and liveness are
// driven by calling Tick().

#include "stream/stream_endpoint.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"

namespace natsrpc::internal {
namespace {

using ::natsrpc::testing::InMemoryTransport;
using ::testing::HasSubstr;

constexpr absl::string_view kReplyTo = "responses.alice.bob.app.cid.7";
constexpr absl::string_view kStream = "requests.alice.bob.app.Svc.Chat.I1.1";

class FakeClock {
 public:
  absl::Time Now() {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1000000);
};

std::optional<std::string> Header(const InMemoryTransport::Sent& m,
                                  absl::string_view key) {
  for (const auto& [k, v] : m.headers) {
    if (k == key) return v;
  }
  return std::nullopt;
}

class StreamCoreTest : public ::testing::Test {
 protected:
  // Client (requester alice) and server (responder bob) ends of one stream,
  // wired as the owners will wire them: the server instance's stream
  // wildcard and the client's response wildcard.
  void Open(StreamEndpointOptions c, StreamEndpointOptions s) {
    c.peer_subject = std::string(kStream);
    c.peer_end_closes_send = true;
    c.silence_code = absl::StatusCode::kUnavailable;
    c.clock = [this] { return clock_.Now(); };
    c.on_failure = [this](const absl::Status& st) {
      absl::MutexLock lock(&mu_);
      client_failures_.push_back(st);
    };
    s.peer_subject = std::string(kReplyTo);
    s.silence_code = absl::StatusCode::kCancelled;
    s.clock = [this] { return clock_.Now(); };
    s.on_failure = [this](const absl::Status& st) {
      absl::MutexLock lock(&mu_);
      server_failures_.push_back(st);
    };
    client_ = std::make_unique<StreamEndpoint>(transport_, std::move(c));
    server_ = std::make_unique<StreamEndpoint>(transport_, std::move(s));
    auto ss = transport_->Subscribe(
        wire::StreamWildcard("bob", "app", "I1"), "",
        [this](MessagePtr m) { server_->OnMessage(std::move(m)); });
    ASSERT_TRUE(ss.ok());
    server_sub_ = *std::move(ss);
    auto cs = transport_->Subscribe(
        "responses.alice.*.*.cid.*", "",
        [this](MessagePtr m) { client_->OnMessage(std::move(m)); });
    ASSERT_TRUE(cs.ok());
    client_sub_ = *std::move(cs);
  }

  // Options of a server stream: the server sends, the client receives.
  static StreamEndpointOptions Receiver(uint64_t window) {
    StreamEndpointOptions o;
    o.sends = false;
    o.window = window;
    return o;
  }
  static StreamEndpointOptions Sender(uint64_t credit) {
    StreamEndpointOptions o;
    o.receives = false;
    o.initial_send_credit = credit;
    return o;
  }

  void Inject(absl::string_view subject, Metadata headers,
              std::string data = "") {
    transport_->Inject(InMemoryTransport::Sent{std::string(subject), "",
                                               std::move(headers),
                                               std::move(data)});
  }
  static Metadata Msg(uint64_t seq) {
    return {{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", absl::StrCat(seq)}};
  }
  static Metadata End(uint64_t count) {
    return {{"Natsrpc-Stream", "end"}, {"Natsrpc-Count", absl::StrCat(count)}};
  }

  std::vector<InMemoryTransport::Sent> SentWithFrame(absl::string_view frame) {
    std::vector<InMemoryTransport::Sent> out;
    for (auto& m : transport_->sent()) {
      if (Header(m, "Natsrpc-Stream") == frame) out.push_back(m);
    }
    return out;
  }

  FakeClock clock_;
  std::shared_ptr<InMemoryTransport> transport_ =
      std::make_shared<InMemoryTransport>();
  std::unique_ptr<StreamEndpoint> client_;
  std::unique_ptr<StreamEndpoint> server_;
  // Declared after the endpoints: unsubscribed before they go.
  std::unique_ptr<Subscription> server_sub_;
  std::unique_ptr<Subscription> client_sub_;
  absl::Mutex mu_;
  std::vector<absl::Status> client_failures_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> server_failures_ ABSL_GUARDED_BY(mu_);
};

TEST(StreamSubjectsTest, SubjectsFitTheGrants) {
  std::string stream =
      wire::StreamSubject("alice", "bob", "app", "Svc", "Chat", "I1", "7");
  EXPECT_EQ(stream, "requests.alice.bob.app.Svc.Chat.I1.7");
  EXPECT_EQ(wire::StreamWildcard("bob", "app", "I1"), "requests.*.bob.app.*.*.I1.*");
  std::string cancel =
      wire::CancelSubject("alice", "bob", "app", "Svc", "Add", "cid", "3");
  EXPECT_EQ(cancel, "requests.alice.bob.app.Svc.Add.cancel.cid.3");
  EXPECT_EQ(wire::CancelWildcard("bob", "app", "Svc"),
            "requests.*.bob.app.Svc.*.cancel.*.*");
  for (const std::string& s : {stream, cancel}) {
    // Requester alice may publish it, responder bob may subscribe to it.
    EXPECT_TRUE(InMemoryTransport::SubjectMatches("requests.alice.>", s)) << s;
    EXPECT_TRUE(InMemoryTransport::SubjectMatches("requests.*.bob.>", s)) << s;
    // Not a unary request: the queue subscription of the service misses it.
    EXPECT_FALSE(InMemoryTransport::SubjectMatches(
        "requests.*.bob.app.Svc.*", s))
        << s;
  }
  // Streams and cancels never reach each other's subscriptions.
  EXPECT_FALSE(InMemoryTransport::SubjectMatches(
      wire::CancelWildcard("bob", "app", "Svc"), stream));
  EXPECT_FALSE(InMemoryTransport::SubjectMatches(
      wire::StreamWildcard("bob", "app", "I1"), cancel));
  // The wildcards themselves are inside bob's subscribe grant.
  EXPECT_TRUE(InMemoryTransport::SubjectMatches(
      "requests.*.bob.>", wire::StreamWildcard("bob", "app", "I1")));
}

TEST(StreamSubjectsTest, ParseStreamSubject) {
  auto p = wire::ParseStreamSubject("requests.alice.bob.app.Svc.Chat.I1.7");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->requester, "alice");
  EXPECT_EQ(p->responder, "bob");
  EXPECT_EQ(p->app, "app");
  EXPECT_EQ(p->service, "Svc");
  EXPECT_EQ(p->method, "Chat");
  EXPECT_EQ(p->instance_id, "I1");
  EXPECT_EQ(p->stream_id, "7");
  EXPECT_FALSE(wire::ParseStreamSubject("requests.alice.bob.app.Svc.Chat").ok());
  EXPECT_FALSE(wire::ParseStreamSubject("responses.a.b.c.d.e.f.g").ok());
  EXPECT_FALSE(wire::ParseStreamSubject("requests.a.b.c.d.e.cancel.g").ok());
  EXPECT_FALSE(wire::ParseStreamSubject("requests.a.b.c.d.e..g").ok());
}

TEST(StreamFrameTest, NamesRoundTrip) {
  for (wire::StreamFrame f :
       {wire::StreamFrame::kOpen, wire::StreamFrame::kAccept, wire::StreamFrame::kMsg,
        wire::StreamFrame::kEnd, wire::StreamFrame::kCancel, wire::StreamFrame::kCredit,
        wire::StreamFrame::kPing}) {
    EXPECT_EQ(wire::ParseStreamFrame(wire::StreamFrameName(f)), f);
  }
  EXPECT_EQ(wire::ParseStreamFrame("MSG"), std::nullopt);
}

TEST_F(StreamCoreTest, ServerStreamInOrderThenEndStatus) {
  Open(Receiver(8), Sender(8));
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(server_->Write(absl::StrCat("m", i), nullptr).ok());
  }
  Metadata trailers = {{"x-trailer", "t"}};
  ASSERT_TRUE(server_->WritesDone(absl::NotFoundError("gone\r\nnow"),
                                  &trailers)
                  .ok());
  for (int i = 1; i <= 5; ++i) {
    StreamRead r = client_->Read();
    ASSERT_NE(r.message, nullptr) << r.status;
    EXPECT_EQ(r.message->data(), absl::StrCat("m", i));
    EXPECT_EQ(r.message->header("Natsrpc-Seq"), absl::StrCat(i));
  }
  StreamRead end = client_->Read();
  EXPECT_EQ(end.message, nullptr);
  EXPECT_EQ(end.status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(end.status.message(), "gone\r\nnow");  // exact: the status body
  EXPECT_TRUE(client_->finished());
  EXPECT_TRUE(server_->finished());

  auto ends = SentWithFrame("end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(Header(ends[0], "Natsrpc-Count"), "5");
  EXPECT_EQ(Header(ends[0], "x-trailer"), "t");
  // Every subject stays inside the grants.
  for (const auto& m : transport_->sent()) {
    bool alice_pub =
        InMemoryTransport::SubjectMatches("requests.alice.>", m.subject);
    bool bob_pub =
        InMemoryTransport::SubjectMatches("responses.*.bob.>", m.subject);
    EXPECT_TRUE(alice_pub || bob_pub) << m.subject;
    EXPECT_TRUE(m.reply.empty());
  }
  // The client end never writes data; a second WritesDone is refused.
  EXPECT_EQ(client_->Write("x", nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server_->WritesDone(absl::OkStatus()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(StreamCoreTest, WriterWaitsForCreditAndReaderBufferIsBounded) {
  Open(Receiver(4), Sender(4));
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(server_->Write("m", nullptr).ok());
  }
  // No credit left: a write with a past deadline gives up at once.
  EXPECT_EQ(server_->Write("m", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client_->stats().max_buffered, 4u);
  // Reading one of four leaves 3 > window/2 granted: no credit yet.
  ASSERT_NE(client_->Read().message, nullptr);
  EXPECT_TRUE(SentWithFrame("credit").empty());
  // Reading the second grants up to 2 + 4 = 6 (cumulative).
  ASSERT_NE(client_->Read().message, nullptr);
  auto credits = SentWithFrame("credit");
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits[0].subject, kStream);
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit"), "6");
  EXPECT_EQ(server_->stats().send_credit, 6u);
  EXPECT_TRUE(server_->Write("m", nullptr, absl::InfinitePast()).ok());
  EXPECT_TRUE(server_->Write("m", nullptr, absl::InfinitePast()).ok());
  EXPECT_EQ(server_->Write("m", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client_->stats().max_buffered, 4u);
  EXPECT_EQ(server_->stats().sent, 6u);
}

TEST_F(StreamCoreTest, ConcurrentWriterAndSlowReaderStayWithinWindow) {
  Open(Receiver(3), Sender(3));
  constexpr int kCount = 200;
  std::thread writer([this] {
    for (int i = 1; i <= kCount; ++i) {
      ASSERT_TRUE(server_->Write(absl::StrCat(i), nullptr).ok());
    }
    ASSERT_TRUE(server_->WritesDone(absl::OkStatus()).ok());
  });
  int n = 0;
  for (;;) {
    StreamRead r = client_->Read(absl::Now() + absl::Seconds(30));
    if (r.message == nullptr) {
      EXPECT_TRUE(r.status.ok()) << r.status;
      break;
    }
    ++n;
    EXPECT_EQ(r.message->data(), absl::StrCat(n));
  }
  writer.join();
  EXPECT_EQ(n, kCount);
  EXPECT_LE(client_->stats().max_buffered, 3u);
  EXPECT_EQ(client_->stats().duplicates, 0u);
}

TEST_F(StreamCoreTest, BidiBothDirectionsAndHalfClose) {
  StreamEndpointOptions c;
  c.window = 2;
  c.initial_send_credit = 0;  // until accept
  StreamEndpointOptions s;
  s.window = 2;
  s.initial_send_credit = 2;  // from the client's open
  Open(c, s);
  // Before accept the client has no credit.
  EXPECT_EQ(client_->Write("early", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kDeadlineExceeded);
  client_->SetPeer(kStream, server_->window());
  ASSERT_TRUE(client_->Write("c1", nullptr).ok());
  ASSERT_TRUE(client_->Write("c2", nullptr).ok());
  ASSERT_TRUE(client_->WritesDone(absl::OkStatus()).ok());
  EXPECT_EQ(client_->Write("c3", nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server_->Read().message->data(), "c1");
  EXPECT_EQ(server_->Read().message->data(), "c2");
  StreamRead half = server_->Read();
  EXPECT_EQ(half.message, nullptr);
  EXPECT_TRUE(half.status.ok());
  // The server still writes after the client's half close.
  ASSERT_TRUE(server_->Write("s1", nullptr).ok());
  ASSERT_TRUE(server_->WritesDone(absl::OkStatus()).ok());
  EXPECT_EQ(client_->Read().message->data(), "s1");
  EXPECT_TRUE(client_->Read().status.ok());
  EXPECT_TRUE(client_->finished());
  EXPECT_TRUE(server_->finished());
  absl::MutexLock lock(&mu_);
  EXPECT_TRUE(client_failures_.empty());
  EXPECT_TRUE(server_failures_.empty());
}

TEST_F(StreamCoreTest, WritesDoneBeforeAcceptWaitsForIt) {
  StreamEndpointOptions c;
  c.peer_end_closes_send = true;
  Open(c, StreamEndpointOptions{});
  // Open() set the client's peer; a fresh client has none until accept.
  StreamEndpointOptions fresh;
  auto early = std::make_unique<StreamEndpoint>(transport_, fresh);
  EXPECT_EQ(early->WritesDone(absl::OkStatus(), nullptr, absl::InfinitePast())
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  absl::Status done = absl::UnknownError("not run");
  std::thread closer([&] { done = early->WritesDone(absl::OkStatus()); });
  early->SetPeer(kStream, 0);
  closer.join();
  EXPECT_TRUE(done.ok()) << done;
  auto ends = SentWithFrame("end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].subject, kStream);
  EXPECT_EQ(Header(ends[0], "Natsrpc-Count"), "0");
}

TEST_F(StreamCoreTest, ServerEndStopsClientWrites) {
  StreamEndpointOptions c;
  c.initial_send_credit = 4;
  Open(c, StreamEndpointOptions{});
  ASSERT_TRUE(server_->WritesDone(absl::PermissionDeniedError("no")).ok());
  EXPECT_EQ(client_->Write("x", nullptr).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_->Read().status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_->WritesDone(absl::OkStatus()).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(StreamCoreTest, ServerEndEndsTheStreamOnTheServerAtOnce) {
  StreamEndpointOptions c;
  c.initial_send_credit = 4;
  StreamEndpointOptions s;
  s.own_end_ends_stream = true;
  s.liveness_timeout = absl::Seconds(3);
  Open(c, s);
  ASSERT_TRUE(client_->Write("unread", nullptr).ok());
  ASSERT_TRUE(server_->WritesDone(absl::OkStatus()).ok());
  // The server forgets the stream without waiting for the client's end.
  EXPECT_TRUE(server_->finished());
  Inject(kStream, Msg(2), "late");
  EXPECT_EQ(server_->stats().received, 1u);
  clock_.Advance(absl::Seconds(60));
  server_->Tick();
  EXPECT_TRUE(server_->failure().ok());
  // The client's stream is over too, with the server's status.
  EXPECT_EQ(client_->Write("x", nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(client_->Read().status.ok());
}

// Async reader and writer that chain their next operation from the
// completion, as callback APIs do; credit makes the writer wait for the
// reader (everything runs inline on the in-memory transport).
TEST_F(StreamCoreTest, AsyncWriterAndReaderChainThroughCredit) {
  Open(Receiver(2), Sender(2));
  constexpr int kCount = 50;
  std::vector<std::string> got;
  absl::Status end = absl::UnknownError("not ended");
  // Read only on request, to act as a slow reader.
  std::function<void(StreamRead)> on_read = [&](StreamRead r) {
    if (r.message == nullptr) {
      end = r.status;
      return;
    }
    got.emplace_back(r.message->data());
  };
  int written = 0;
  absl::Status write_error;
  std::function<void(absl::Status)> on_write = [&](absl::Status st) {
    if (!st.ok()) {
      write_error = st;
      return;
    }
    if (++written == kCount) {
      write_error = server_->WritesDone(absl::OkStatus());
      return;
    }
    server_->WriteAsync(absl::StrCat(written + 1), nullptr, on_write);
  };
  server_->WriteAsync("1", nullptr, on_write);
  // Two went out (the window); the third waits for credit.
  EXPECT_EQ(written, 2);
  EXPECT_EQ(server_->Write("x", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kFailedPrecondition);
  while (end.code() == absl::StatusCode::kUnknown &&
         got.size() <= static_cast<size_t>(kCount)) {
    client_->ReadAsync(on_read);
    EXPECT_LE(client_->stats().max_buffered, 2u);
  }
  EXPECT_TRUE(end.ok()) << end;
  EXPECT_TRUE(write_error.ok()) << write_error;
  ASSERT_EQ(got.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(got[i], absl::StrCat(i + 1));
}

TEST_F(StreamCoreTest, PendingAsyncReadCompletesOnDataOrFailure) {
  Open(Receiver(4), Sender(4));
  std::vector<StreamRead> reads;
  auto on_read = [&](StreamRead r) { reads.push_back(std::move(r)); };
  client_->ReadAsync(on_read);
  EXPECT_TRUE(reads.empty());
  // A second one while the first waits is refused at once.
  client_->ReadAsync(on_read);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].status.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(server_->Write("a", nullptr).ok());
  ASSERT_EQ(reads.size(), 2u);
  ASSERT_NE(reads[1].message, nullptr);
  EXPECT_EQ(reads[1].message->data(), "a");
  client_->ReadAsync(on_read);
  server_->Cancel();
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads[2].status.code(), absl::StatusCode::kCancelled);
}

TEST_F(StreamCoreTest, PendingAsyncWriteWaitsForAcceptOrFails) {
  StreamEndpointOptions c;  // bidi client before accept: no credit
  Open(c, StreamEndpointOptions{});
  std::vector<absl::Status> done;
  client_->WriteAsync("early", nullptr,
                      [&](absl::Status s) { done.push_back(s); });
  EXPECT_TRUE(done.empty());
  client_->SetPeer(kStream, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].ok());
  // No credit left: the next one waits, and the stream's failure ends it.
  client_->WriteAsync("late", nullptr,
                      [&](absl::Status s) { done.push_back(s); });
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(client_->WritesDone(absl::OkStatus()).code(),
            absl::StatusCode::kFailedPrecondition);
  server_->Cancel(absl::AbortedError("stop"));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].code(), absl::StatusCode::kAborted);
}

TEST_F(StreamCoreTest, DuplicatesAreDroppedAndCounted) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, Msg(1), "a");
  Inject(kReplyTo, Msg(1), "a again");
  Inject(kReplyTo, Msg(2), "b");
  EXPECT_EQ(client_->Read().message->data(), "a");
  Inject(kReplyTo, Msg(1), "a late");
  EXPECT_EQ(client_->Read().message->data(), "b");
  Inject(kReplyTo, End(2));
  EXPECT_TRUE(client_->Read().status.ok());
  EXPECT_EQ(client_->stats().duplicates, 2u);
}

TEST_F(StreamCoreTest, OutOfOrderWithinWindowIsReordered) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, Msg(2), "b");
  EXPECT_EQ(client_->Read(absl::InfinitePast()).status.code(),
            absl::StatusCode::kDeadlineExceeded);
  Inject(kReplyTo, Msg(1), "a");
  EXPECT_EQ(client_->Read().message->data(), "a");
  EXPECT_EQ(client_->Read().message->data(), "b");
}

TEST_F(StreamCoreTest, GapAtEndIsDataLoss) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, Msg(1), "a");
  Inject(kReplyTo, Msg(3), "c");
  Inject(kReplyTo, End(3));
  StreamRead r = client_->Read();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status.message(), HasSubstr("count 3"));
  // The peer is told.
  auto cancels = SentWithFrame("cancel");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].subject, kStream);
  EXPECT_EQ(Header(cancels[0], "Nats-Service-Error-Code"), "15");
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(client_failures_.size(), 1u);
  EXPECT_EQ(client_failures_[0].code(), absl::StatusCode::kDataLoss);
}

TEST_F(StreamCoreTest, CountBelowReceivedIsDataLoss) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, Msg(1), "a");
  Inject(kReplyTo, Msg(2), "b");
  Inject(kReplyTo, End(1));
  EXPECT_EQ(client_->Read().status.code(), absl::StatusCode::kDataLoss);
}

TEST_F(StreamCoreTest, MessageAfterEndIsDataLoss) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, Msg(1), "a");
  Inject(kReplyTo, End(1));
  Inject(kReplyTo, Msg(2), "b");
  EXPECT_EQ(client_->Read().status.code(), absl::StatusCode::kDataLoss);
}

TEST_F(StreamCoreTest, SendingBeyondCreditIsRefused) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, Msg(5), "too far");
  EXPECT_EQ(client_->Read().status.code(),
            absl::StatusCode::kResourceExhausted);
  // The server side got the cancel and failed too.
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(StreamCoreTest, MalformedMessagesFailTheStream) {
  Open(Receiver(4), Sender(4));
  Inject(kReplyTo, {{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", "-1"}});
  EXPECT_EQ(client_->failure().code(), absl::StatusCode::kInternal);
}

TEST_F(StreamCoreTest, ClientCancelReachesServerAndWakesBlockedWriter) {
  Open(Receiver(1), Sender(1));
  ASSERT_TRUE(server_->Write("m", nullptr).ok());
  absl::Status blocked;
  std::thread writer([&] { blocked = server_->Write("m", nullptr); });
  client_->Cancel();
  writer.join();
  // Whether the writer was already waiting or not, it sees the cancel.
  EXPECT_EQ(blocked.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(client_->Read().status.code(), absl::StatusCode::kCancelled);
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(server_failures_.size(), 1u);  // the handler's context cancel
  EXPECT_EQ(server_failures_[0].code(), absl::StatusCode::kCancelled);
  ASSERT_EQ(client_failures_.size(), 1u);
  // The server does not echo a cancel back.
  EXPECT_EQ(SentWithFrame("cancel").size(), 1u);
}

TEST_F(StreamCoreTest, CancelWakesBlockedReader) {
  Open(Receiver(4), Sender(4));
  StreamRead r;
  std::thread reader([&] { r = client_->Read(); });
  server_->Cancel(absl::AbortedError("handler gave up"));
  reader.join();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.status.message(), "handler gave up");
}

TEST_F(StreamCoreTest, HeartbeatsWhileIdleCarryCredit) {
  StreamEndpointOptions c = Receiver(4);
  c.heartbeat_interval = absl::Seconds(1);
  c.liveness_timeout = absl::Seconds(3);
  StreamEndpointOptions s = Sender(4);
  s.heartbeat_interval = absl::Seconds(1);
  s.liveness_timeout = absl::Seconds(3);
  Open(c, s);
  client_->Tick();
  server_->Tick();
  EXPECT_TRUE(SentWithFrame("ping").empty());
  // Ten idle seconds, ticked twice a second: pings keep both alive.
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(absl::Milliseconds(500));
    client_->Tick();
    server_->Tick();
  }
  EXPECT_TRUE(client_->failure().ok());
  EXPECT_TRUE(server_->failure().ok());
  auto pings = SentWithFrame("ping");
  EXPECT_EQ(pings.size(), 20u);  // one per side per second
  EXPECT_EQ(client_->stats().pings_sent, 10u);
  for (const auto& p : pings) {
    if (p.subject == kStream) {
      EXPECT_EQ(Header(p, "Natsrpc-Credit"), "4");
    }
  }
  // Data resets the idle timer of the sender.
  ASSERT_TRUE(server_->Write("m", nullptr).ok());
  clock_.Advance(absl::Milliseconds(500));
  server_->Tick();
  EXPECT_EQ(server_->stats().pings_sent, 10u);
}

TEST_F(StreamCoreTest, SilentServerMakesClientUnavailable) {
  StreamEndpointOptions c = Receiver(4);
  c.heartbeat_interval = absl::Seconds(1);
  c.liveness_timeout = absl::Seconds(3);
  Open(c, Sender(4));
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Milliseconds(500));
    client_->Tick();  // the server is never ticked: it is silent
  }
  EXPECT_TRUE(client_->failure().ok());
  clock_.Advance(absl::Milliseconds(500));
  client_->Tick();
  StreamRead r = client_->Read();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  // Best effort: the client tells the server, whose handler is cancelled.
  EXPECT_FALSE(server_->failure().ok());
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(server_failures_.size(), 1u);
}

TEST_F(StreamCoreTest, SilentClientCancelsServerHandler) {
  StreamEndpointOptions s = Sender(4);
  s.heartbeat_interval = absl::Seconds(1);
  s.liveness_timeout = absl::Seconds(3);
  Open(Receiver(4), s);
  // The client's pings would keep it alive; none are sent. The server's own
  // writes do not count as hearing from the client.
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(absl::Milliseconds(500));
    ASSERT_TRUE(server_->Write("m", nullptr, absl::InfinitePast()).ok() ||
                i >= 4);
    server_->Tick();
  }
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(server_->failure().message(), HasSubstr("no message"));
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(server_failures_.size(), 1u);
  EXPECT_EQ(server_failures_[0].code(), absl::StatusCode::kCancelled);
}

TEST_F(StreamCoreTest, NoLivenessTimeoutAfterBothEnds) {
  StreamEndpointOptions c = Receiver(4);
  c.liveness_timeout = absl::Seconds(3);
  Open(c, Sender(4));
  ASSERT_TRUE(server_->WritesDone(absl::OkStatus()).ok());
  EXPECT_TRUE(client_->Read().status.ok());
  clock_.Advance(absl::Seconds(60));
  client_->Tick();
  server_->Tick();
  EXPECT_TRUE(client_->failure().ok());
  EXPECT_TRUE(server_->failure().ok());
  EXPECT_TRUE(SentWithFrame("ping").empty());
}

TEST_F(StreamCoreTest, PublishErrorsOtherThanUnavailableKeepTheStream) {
  Open(Receiver(4), Sender(4));
  transport_->set_max_payload(4);
  EXPECT_EQ(server_->Write("too large", nullptr).code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(server_->Write("ok", nullptr).ok());
  StreamRead r = client_->Read();
  ASSERT_NE(r.message, nullptr);
  EXPECT_EQ(r.message->header("Natsrpc-Seq"), "1");  // the seq was reused
  transport_->set_connected(false);
  EXPECT_EQ(server_->Write("m", nullptr).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kUnavailable);
}

// Revision 5 (docs/protocol.md 9.5.1): byte credit beside message credit.
StreamEndpointOptions ByteReceiver(uint64_t window, uint64_t window_bytes) {
  StreamEndpointOptions o;
  o.sends = false;
  o.window = window;
  o.window_bytes = window_bytes;
  return o;
}
StreamEndpointOptions ByteSender(uint64_t credit, uint64_t credit_bytes) {
  StreamEndpointOptions o;
  o.receives = false;
  o.initial_send_credit = credit;
  o.initial_send_byte_credit = credit_bytes;
  return o;
}

TEST_F(StreamCoreTest, ByteCreditBoundsTheWriterAndTheReadersMemory) {
  Open(ByteReceiver(100, 10), ByteSender(100, 10));
  // Bytes sent before each message must be below 10: 0, 4, 8 go; 12 waits.
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(server_->Write("abcd", nullptr, absl::InfinitePast()).ok());
  }
  EXPECT_EQ(server_->Write("abcd", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->stats().sent_bytes, 12u);
  // The reader holds at most its byte window plus one message.
  EXPECT_EQ(client_->stats().max_buffered_bytes, 12u);
  // Reading one (4 of 10 bytes consumed, 6 outstanding > 10/2): no credit.
  ASSERT_NE(client_->Read().message, nullptr);
  EXPECT_TRUE(SentWithFrame("credit").empty());
  // Reading the second (8 consumed, 2 outstanding): grants 8 + 10 bytes and
  // 2 + 100 messages in one credit message.
  ASSERT_NE(client_->Read().message, nullptr);
  auto credits = SentWithFrame("credit");
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit"), "102");
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit-Bytes"), "18");
  EXPECT_TRUE(server_->Write("abcd", nullptr, absl::InfinitePast()).ok());
  EXPECT_TRUE(server_->Write("abcd", nullptr, absl::InfinitePast()).ok());
  EXPECT_EQ(server_->Write("abcd", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_LE(client_->stats().max_buffered_bytes, 10u + 4u);
  EXPECT_TRUE(client_->failure().ok());
  // Pings carry the byte credit too, so a lost credit message is repaired.
  clock_.Advance(absl::Seconds(6));
  client_->Tick();
  auto pings = SentWithFrame("ping");
  ASSERT_FALSE(pings.empty());
  EXPECT_EQ(Header(pings.back(), "Natsrpc-Credit-Bytes"), "18");
}

TEST_F(StreamCoreTest, MessageLargerThanTheByteWindowStillGoes) {
  Open(ByteReceiver(100, 10), ByteSender(100, 10));
  const std::string big(50, 'b');
  ASSERT_TRUE(server_->Write(big, nullptr, absl::InfinitePast()).ok());
  EXPECT_EQ(server_->Write("x", nullptr, absl::InfinitePast()).code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_NE(client_->Read().message, nullptr);  // grants 50 + 10
  ASSERT_TRUE(server_->Write(big, nullptr, absl::InfinitePast()).ok());
  ASSERT_NE(client_->Read().message, nullptr);
  EXPECT_TRUE(client_->failure().ok());
  EXPECT_EQ(client_->stats().max_buffered_bytes, 50u);
}

TEST_F(StreamCoreTest, MessageBeyondTheByteCreditIsAViolation) {
  Open(ByteReceiver(100, 10), Sender(100));
  Inject(kReplyTo, Msg(1), std::string(8, 'a'));
  Inject(kReplyTo, Msg(2), std::string(8, 'a'));  // 8 < 10 before it: fine
  EXPECT_TRUE(client_->failure().ok());
  Inject(kReplyTo, Msg(3), "a");  // 16 >= 10 before it
  EXPECT_EQ(client_->failure().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(client_->failure().message(), HasSubstr("byte credit 10"));
}

TEST_F(StreamCoreTest, ClientRaisesItsWindowOnlyForAServerWithByteCredit) {
  StreamEndpointOptions c = ByteReceiver(16, 1000);
  c.window_with_byte_credit = 1024;
  Open(c, Sender(16));
  // An accept with Natsrpc-Credit-Bytes (revision 5).
  client_->SetPeer(kStream, 0, std::nullopt, uint64_t{0});
  EXPECT_EQ(client_->window(), 1024u);
  EXPECT_EQ(client_->window_bytes(), 1000u);
  ASSERT_TRUE(server_->Write("m", nullptr, absl::InfinitePast()).ok());
  ASSERT_NE(client_->Read().message, nullptr);
  auto credits = SentWithFrame("credit");
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit"), "1025");
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit-Bytes"), "1001");
}

TEST_F(StreamCoreTest, ClientKeepsRevision4CreditWithAServerWithoutByteCredit) {
  StreamEndpointOptions c = ByteReceiver(4, 1000);
  c.window_with_byte_credit = 1024;
  Open(c, Sender(4));
  // An accept without Natsrpc-Credit-Bytes (revision <= 4).
  client_->SetPeer(kStream, 0, std::nullopt, std::nullopt);
  EXPECT_EQ(client_->window(), 4u);
  EXPECT_EQ(client_->window_bytes(), 0u);
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(server_->Write("m", nullptr, absl::InfinitePast()).ok());
  }
  ASSERT_NE(client_->Read().message, nullptr);
  ASSERT_NE(client_->Read().message, nullptr);
  auto credits = SentWithFrame("credit");
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit"), "6");
  EXPECT_EQ(Header(credits[0], "Natsrpc-Credit-Bytes"), std::nullopt);
}

}  // namespace
}  // namespace natsrpc::internal
