// Copyright 2026 The natsrpc Authors.
//
// Links the code natsrpc_generate(FBS ...) made for every tricky schema
// (fbs/test/compile/, see CMakeLists.txt) into one program, compiled with
// -Werror: nested namespaces, an included schema whose tables (of another
// namespace) are request and response types, C++ keywords as service, method
// and table names, the idempotent attribute, doc comments with `$`, `*/` and
// a trailing backslash, schemas without root_type, and every streaming kind
// (with escaped and moved names). Each generated Client is constructed and
// called over a recording transport (no NATS), which checks that calls go to
// the IDL's wire names (streams blocking and with reactors); each Service is
// subclassed and its handler run directly.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "calculator.natsrpc.h"
#include "comments.natsrpc.h"
#include "gtest/gtest.h"
#include "included.natsrpc.h"
#include "includer.natsrpc.h"
#include "keywords.natsrpc.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/stream.h"
#include "nested.natsrpc.h"
#include "recording_transport.h"
#include "streaming.natsrpc.h"

namespace {

using ::natsrpc::testing::RecordingTransport;

class FbsCompileTest : public ::testing::Test {
 protected:
  static natsrpc::ClientOptions Options() {
    natsrpc::ClientOptions options;
    options.requester = "alice";
    options.responder = "bob";
    return options;
  }
  static std::string Subject(absl::string_view app, absl::string_view service,
                             absl::string_view method) {
    return absl::StrCat("requests.alice.bob.", app, ".", service, ".", method);
  }
  static natsrpc::ServerContext& Context() {
    static natsrpc::ServerContext* context =
        new natsrpc::ServerContext(nullptr, "alice", "bob", "app", "service",
                                   "method", absl::InfiniteFuture());
    return *context;
  }
  std::string LastSubject() { return transport_->TakeLastSubject(); }

  std::shared_ptr<RecordingTransport> transport_ =
      std::make_shared<RecordingTransport>();
  natsrpc::Connection connection_{transport_};
};

// A finished message with one table of type T made by `create`.
template <typename T, typename Create>
natsrpc::FlatMessage<T> Make(Create create) {
  natsrpc::FlatMessage<T> m;
  m.Finish(create(m.builder()));
  return m;
}

// --- fbs/example/calculator.fbs ----------------------------------------------

namespace ev1 = ::example::v1;

class CalculatorImpl final : public ev1::Calculator::Service {
 public:
  absl::Status Add(natsrpc::ServerContext&,
                   const natsrpc::FlatMessage<ev1::AddRequest>& req,
                   natsrpc::FlatMessage<ev1::AddReply>& reply) override {
    reply.Finish(ev1::CreateAddReply(reply.builder(), req->a() + req->b()));
    return absl::OkStatus();
  }
};

TEST_F(FbsCompileTest, Calculator) {
  ev1::Calculator::Client client(connection_, Options());
  ASSERT_TRUE(client.status().ok()) << client.status();
  auto req = Make<ev1::AddRequest>([](flatbuffers::FlatBufferBuilder& b) {
    return ev1::CreateAddRequest(b, 2, 3);
  });
  EXPECT_EQ(client.Add(req).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(LastSubject(), Subject("example_v1", "Calculator", "Add"));
  // An unfinished message is refused before anything is sent.
  EXPECT_EQ(
      client.Echo(natsrpc::FlatMessage<ev1::EchoMessage>()).status().code(),
      absl::StatusCode::kInternal);
  EXPECT_EQ(LastSubject(), "");

  CalculatorImpl impl;
  EXPECT_EQ(impl.service_name(), "Calculator");
  EXPECT_EQ(impl.default_app(), "example_v1");
  natsrpc::FlatMessage<ev1::AddReply> reply;
  ASSERT_TRUE(impl.Add(Context(), req, reply).ok());
  EXPECT_EQ(reply->sum(), 5);
  natsrpc::FlatMessage<ev1::DivideReply> quotient;
  EXPECT_EQ(impl.Divide(Context(), natsrpc::FlatMessage<ev1::DivideRequest>(),
                        quotient)
                .code(),
            absl::StatusCode::kUnimplemented);
}

// --- fbs/test/compile/nested.fbs ---------------------------------------------

TEST_F(FbsCompileTest, NestedNamespaces) {
  namespace deep = ::natsrpc_test::fbs::deep::a::b::c;
  deep::Deep::Client client(connection_, Options());
  auto req = Make<deep::DeepRequest>([](flatbuffers::FlatBufferBuilder& b) {
    return deep::CreateDeepRequest(b, 1);
  });
  EXPECT_FALSE(client.Call(req).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_deep_a_b_c", "Deep", "Call"));
  class Impl final : public deep::Deep::Service {};
  Impl impl;
  EXPECT_EQ(impl.default_app(), "natsrpc_test_fbs_deep_a_b_c");
}

// --- fbs/test/compile/includer.fbs + included.fbs
// -----------------------------

TEST_F(FbsCompileTest, IncludedSchemaAndForeignNamespace) {
  namespace other = ::natsrpc_test::fbs::other;
  namespace main_ns = ::natsrpc_test::fbs::main;
  main_ns::Uses::Client client(connection_, Options());
  auto ping = Make<other::Ping>([](flatbuffers::FlatBufferBuilder& b) {
    return other::CreatePingDirect(b, 7, "hi");
  });
  EXPECT_FALSE(client.Remote(ping).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_fbs_main", "Uses", "Remote"));
  class Impl final : public main_ns::Uses::Service {
   public:
    absl::Status Remote(natsrpc::ServerContext&,
                        const natsrpc::FlatMessage<other::Ping>& req,
                        natsrpc::FlatMessage<other::Pong>& reply) override {
      reply.Finish(other::CreatePong(reply.builder(), req->id()));
      return absl::OkStatus();
    }
  };
  Impl impl;
  natsrpc::FlatMessage<other::Pong> pong;
  ASSERT_TRUE(impl.Remote(Context(), ping, pong).ok());
  EXPECT_EQ(pong->id(), 7);
}

// --- fbs/test/compile/keywords.fbs -------------------------------------------

TEST_F(FbsCompileTest, KeywordNamesKeepWireNames) {
  namespace kw = ::natsrpc_test::fbs::keywords;
  kw::class_::Client client(connection_, Options());
  auto t = Make<kw::T>(
      [](flatbuffers::FlatBufferBuilder& b) { return kw::CreateT(b, 1); });
  absl::StatusOr<natsrpc::FlatMessage<kw::new_>> r = client.delete_(t);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_keywords", "class", "delete"));
  absl::Notification done;
  client.co_await_Async(Make<kw::new_>([](flatbuffers::FlatBufferBuilder& b) {
                          return kw::Createnew_(b, 3);
                        }),
                        [&done](absl::StatusOr<natsrpc::FlatMessage<kw::T>> r) {
                          EXPECT_FALSE(r.ok());
                          done.Notify();
                        });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_keywords", "class", "co_await"));
  EXPECT_FALSE(client.Client_(t).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_keywords", "class", "Client"));
  EXPECT_FALSE(client.requires_(t).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_keywords", "class", "requires"));

  kw::Service_::Client other(connection_, Options());
  EXPECT_FALSE(other.assert_(t).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_keywords", "Service", "assert"));
  class Impl final : public kw::class_::Service {};
  Impl impl;
  EXPECT_EQ(impl.service_name(), "class");
}

// --- fbs/test/compile/comments.fbs -------------------------------------------

TEST_F(FbsCompileTest, CommentsDoNotBreakTheCode) {
  namespace c = ::natsrpc_test::fbs::comments;
  c::Commented::Client client(connection_, Options());
  auto m = Make<c::Msg>(
      [](flatbuffers::FlatBufferBuilder& b) { return c::CreateMsg(b, 1); });
  EXPECT_FALSE(client.Call(m).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_comments", "Commented", "Call"));
  EXPECT_FALSE(client.Other(m).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_fbs_comments", "Commented", "Other"));
}

// --- fbs/test/compile/streaming.fbs -----------------------------------------

namespace fst = ::natsrpc_test::streaming;
using Tick = natsrpc::FlatMessage<fst::Tick>;
using Total = natsrpc::FlatMessage<fst::Total>;

// An endpoint for server stream objects handed to handlers directly: a
// stream that is already over, so reads and writes fail.
std::shared_ptr<natsrpc::internal::StreamEndpoint> OverStream() {
  return natsrpc::internal::FailedStream(absl::CancelledError("test"));
}

Tick MakeTick(int64_t n) {
  return Make<fst::Tick>(
      [n](flatbuffers::FlatBufferBuilder& b) { return fst::CreateTick(b, n); });
}

class WatchReactor final : public natsrpc::ClientReadReactor<Tick> {
 public:
  void OnDone(const absl::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  absl::Status Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return status_;
  }
  Tick tick;

 private:
  absl::Notification done_;
  absl::Status status_;
};

class SumReactor final : public natsrpc::ClientWriteReactor<Tick, Total> {
 public:
  void OnDone(absl::StatusOr<Total> result) override {
    status_ = result.status();
    done_.Notify();
  }
  absl::Status Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return status_;
  }

 private:
  absl::Notification done_;
  absl::Status status_;
};

template <typename Resp>
class ChatReactor final : public natsrpc::ClientBidiReactor<Tick, Resp> {
 public:
  void OnDone(const absl::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  absl::Status Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return status_;
  }
  Resp reply;

 private:
  absl::Notification done_;
  absl::Status status_;
};

class FbsStreamerImpl final : public fst::Streamer::Service {
 public:
  absl::Status Watch(
      natsrpc::ServerContext&, const Tick& req,
      natsrpc::ServerWriter<Tick, natsrpc::FlatBuffersCodec>&) override {
    return req->n() < 0 ? absl::InvalidArgumentError("negative")
                        : absl::OkStatus();
  }
  absl::Status Sum(natsrpc::ServerContext&,
                   natsrpc::ServerReader<Tick, natsrpc::FlatBuffersCodec>&,
                   Total& total) override {
    total.Finish(fst::CreateTotal(total.builder(), 42));
    return absl::OkStatus();
  }
  absl::Status Chat(
      natsrpc::ServerContext&,
      natsrpc::ServerReaderWriter<Tick, Total, natsrpc::FlatBuffersCodec>&)
      override {
    return absl::OkStatus();
  }
};

class FbsClassImpl final : public fst::class_::Service {
 public:
  absl::Status delete_(
      natsrpc::ServerContext&,
      natsrpc::ServerReaderWriter<Tick, Tick, natsrpc::FlatBuffersCodec>&)
      override {
    return absl::OkStatus();
  }
  absl::Status FooAsync_(
      natsrpc::ServerContext&,
      natsrpc::ServerReader<Tick, natsrpc::FlatBuffersCodec>&,
      Total&) override {
    return absl::OkStatus();
  }
};

TEST_F(FbsCompileTest, EveryStreamingKind) {
  fst::Streamer::Client client(connection_, Options());
  const std::string app = "natsrpc_test_streaming";
  const Tick tick = MakeTick(1);

  std::unique_ptr<natsrpc::ClientReader<Tick, natsrpc::FlatBuffersCodec>>
      watch = client.Watch(tick);
  ASSERT_NE(watch, nullptr);
  Tick got;
  EXPECT_FALSE(watch->Read(&got));
  EXPECT_FALSE(watch->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Watch"));

  std::unique_ptr<natsrpc::ClientWriter<Tick, Total, natsrpc::FlatBuffersCodec>>
      sum = client.Sum();
  ASSERT_NE(sum, nullptr);
  EXPECT_FALSE(sum->Write(tick));
  EXPECT_FALSE(sum->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Sum"));

  std::unique_ptr<
      natsrpc::ClientReaderWriter<Tick, Total, natsrpc::FlatBuffersCodec>>
      chat = client.Chat();
  ASSERT_NE(chat, nullptr);
  EXPECT_FALSE(chat->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Chat"));

  WatchReactor watch_reactor;
  client.WatchAsync(tick, &watch_reactor);
  watch_reactor.StartRead(&watch_reactor.tick);
  EXPECT_FALSE(watch_reactor.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Watch"));
  SumReactor sum_reactor;
  client.SumAsync(&sum_reactor);
  sum_reactor.StartWritesDone();
  EXPECT_FALSE(sum_reactor.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Sum"));
  ChatReactor<Total> chat_reactor;
  client.ChatAsync(&chat_reactor);
  chat_reactor.StartRead(&chat_reactor.reply);
  EXPECT_FALSE(chat_reactor.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Chat"));

  FbsStreamerImpl impl;
  EXPECT_EQ(impl.service_name(), "Streamer");
  natsrpc::ServerWriter<Tick, natsrpc::FlatBuffersCodec> writer(
      OverStream(), absl::InfiniteFuture());
  EXPECT_TRUE(impl.Watch(Context(), tick, writer).ok());
  EXPECT_EQ(impl.Watch(Context(), MakeTick(-1), writer).code(),
            absl::StatusCode::kInvalidArgument);
  natsrpc::ServerReader<Tick, natsrpc::FlatBuffersCodec> reader(
      OverStream(), absl::InfiniteFuture());
  Total total;
  ASSERT_TRUE(impl.Sum(Context(), reader, total).ok());
  EXPECT_EQ(total->sum(), 42);
}

TEST_F(FbsCompileTest, StreamingNamesKeepWireNames) {
  fst::class_::Client client(connection_, Options());
  const std::string app = "natsrpc_test_streaming";
  const Tick tick = MakeTick(2);
  EXPECT_FALSE(client.delete_()->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "delete"));
  EXPECT_FALSE(client.co_yield_(tick)->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "co_yield"));
  EXPECT_FALSE(client.FooAsync_()->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "FooAsync"));
  EXPECT_FALSE(client.Bar_(tick).ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "Bar"));
  EXPECT_FALSE(client.stream()->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "stream"));
  EXPECT_FALSE(client.reader()->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "reader"));
  WatchReactor foo;
  client.FooAsync(tick, &foo);
  foo.StartRead(&foo.tick);
  EXPECT_FALSE(foo.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "Foo"));
  SumReactor foo_async;
  client.FooAsync_Async(&foo_async);
  foo_async.StartWritesDone();
  EXPECT_FALSE(foo_async.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "class", "FooAsync"));

  FbsClassImpl impl;
  EXPECT_EQ(impl.service_name(), "class");
  natsrpc::ServerReaderWriter<Tick, Tick, natsrpc::FlatBuffersCodec> bidi(
      OverStream(), absl::InfiniteFuture());
  EXPECT_TRUE(impl.delete_(Context(), bidi).ok());
  EXPECT_EQ(impl.options(Context(), bidi).code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
