// Copyright 2026 The natsrpc Authors.
//
// FlatBuffers services (fbs/example/calculator.fbs) against a real
// nats-server that this binary starts on a free loopback port: round trips
// (blocking and async), zero copy on both sides, the verifier's rejection of
// corrupt buffers sent with plain nats.c, and the rows of docs/protocol.md's
// status table that apply to a FlatBuffers service.

#include <nats/nats.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "calculator.natsrpc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/natsrpc.h"

namespace natsrpc {
namespace {

using ::testing::HasSubstr;
namespace ev1 = ::example::v1;

constexpr absl::Duration kWait = absl::Seconds(20);

// True if `view` lies within the received message's payload.
template <typename T>
bool PointsIntoSource(const FlatMessage<T>& m) {
  if (m.source_message() == nullptr) return false;
  const absl::string_view data = m.source_message()->data();
  return m.bytes().data() >= data.data() &&
         m.bytes().data() + m.bytes().size() <= data.data() + data.size();
}

// True if `m` is read where NATS delivered it or, when that was misaligned,
// from an aligned copy (natsrpc/flatbuffers_codec.h).
template <typename T>
bool InPlaceOrAlignedCopy(const FlatMessage<T>& m) {
  if (m.source_message() != nullptr) return PointsIntoSource(m);
  return reinterpret_cast<uintptr_t>(m.bytes().data()) %
             kFlatBuffersPayloadAlignment ==
         0;
}

FlatMessage<ev1::AddRequest> AddRequest(int64_t a, int64_t b) {
  FlatMessage<ev1::AddRequest> m;
  m.Finish(ev1::CreateAddRequest(m.builder(), a, b));
  return m;
}

FlatMessage<ev1::EchoMessage> EchoRequest(size_t size) {
  std::vector<uint8_t> payload(size);
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(i * 7);
  FlatMessage<ev1::EchoMessage> m;
  m.Finish(ev1::CreateEchoMessageDirect(m.builder(), &payload));
  return m;
}

class CalculatorImpl final : public ev1::Calculator::Service {
 public:
  absl::Status Add(ServerContext&, const FlatMessage<ev1::AddRequest>& req,
                   FlatMessage<ev1::AddReply>& reply) override {
    // The request is read in place from the received NATS message.
    request_zero_copy.store(InPlaceOrAlignedCopy(req));
    if (req->a() == 666) throw std::runtime_error("the number of the beast");
    if (req->a() == 13) return absl::OkStatus();  // never finished
    reply.Finish(ev1::CreateAddReply(reply.builder(), req->a() + req->b()));
    return absl::OkStatus();
  }
  absl::Status Divide(ServerContext& ctx,
                      const FlatMessage<ev1::DivideRequest>& req,
                      FlatMessage<ev1::DivideReply>& reply) override {
    if (req->divisor() == 0) {
      return absl::InvalidArgumentError("division by zero");
    }
    if (req->divisor() < 0) {  // sleeps until the caller gave up
      absl::SleepFor(ctx.deadline() - absl::Now() + absl::Milliseconds(50));
    }
    reply.Finish(ev1::CreateDivideReply(reply.builder(),
                                        req->dividend() / req->divisor(),
                                        req->dividend() % req->divisor()));
    return absl::OkStatus();
  }
  absl::Status Echo(ServerContext&, const FlatMessage<ev1::EchoMessage>& req,
                    FlatMessage<ev1::EchoMessage>& reply) override {
    request_zero_copy.store(InPlaceOrAlignedCopy(req));
    auto& b = reply.builder();
    const flatbuffers::Vector<uint8_t>* in = req->payload();
    reply.Finish(ev1::CreateEchoMessage(
        b, in == nullptr ? 0 : b.CreateVector(in->data(), in->size())));
    return absl::OkStatus();
  }

  std::atomic<bool> request_zero_copy{false};
};

class FbsIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::NatsServer>> s =
        testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = s->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    absl::StatusOr<Connection> c = Connect(ConnectOptions{.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::make_unique<Connection>(*c);
    server_ =
        std::make_unique<Server>(*conn_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(impl_).ok());
  }

  ev1::Calculator::Client Client(std::string responder = "bob") {
    return ev1::Calculator::Client(
        *conn_,
        ClientOptions{.requester = "alice", .responder = std::move(responder)});
  }

  static testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  CalculatorImpl impl_;
  std::unique_ptr<Server> server_;
};

testing::NatsServer* FbsIntegrationTest::nats_ = nullptr;

TEST_F(FbsIntegrationTest, RoundTripBlockingAndAsync) {
  ev1::Calculator::Client calc = Client();
  absl::StatusOr<FlatMessage<ev1::AddReply>> r = calc.Add(AddRequest(2, 40));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->sum(), 42);

  FlatMessage<ev1::DivideRequest> div;
  div.Finish(ev1::CreateDivideRequest(div.builder(), 17, 5));
  absl::StatusOr<FlatMessage<ev1::DivideReply>> d = calc.Divide(div);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->quotient(), 3);
  EXPECT_EQ((*d)->remainder(), 2);

  constexpr int kCalls = 200;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  absl::Notification all;
  for (int i = 0; i < kCalls; ++i) {
    calc.AddAsync(
        AddRequest(1000 + i, 1),
        [&, i](absl::StatusOr<FlatMessage<ev1::AddReply>> r) {
          if (r.ok() && (*r)->sum() == 1001 + i && InPlaceOrAlignedCopy(*r)) {
            ok.fetch_add(1);
          }
          if (done.fetch_add(1) + 1 == kCalls) all.Notify();
        });
  }
  ASSERT_TRUE(all.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(ok.load(), kCalls);
}

// No payload copy on either side: the server handler's request and the
// client's reply are views into the received NATS messages, and the reply
// the handler built is handed to the transport as the builder's own bytes.
TEST_F(FbsIntegrationTest, PayloadsAreNotCopied) {
  ev1::Calculator::Client calc = Client();
  for (size_t size : {size_t{100}, size_t{64 * 1024}}) {
    SCOPED_TRACE(size);
    impl_.request_zero_copy.store(false);
    FlatMessage<ev1::EchoMessage> req = EchoRequest(size);
    absl::StatusOr<FlatMessage<ev1::EchoMessage>> r = calc.Echo(req);
    ASSERT_TRUE(r.ok()) << r.status();
    // In place, unless NATS delivered the payload misaligned: then a copy,
    // counted (FlatBuffersAlignmentCopies()) and aligned.
    if (r->source_message() != nullptr) {
      EXPECT_TRUE(PointsIntoSource(*r));
    } else {
      EXPECT_GT(FlatBuffersAlignmentCopies(), 0u);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(r->bytes().data()) %
                    kFlatBuffersPayloadAlignment,
                0u);
    }
    EXPECT_TRUE(impl_.request_zero_copy.load());
    ASSERT_EQ((*r)->payload()->size(), size);
    EXPECT_TRUE(std::equal((*r)->payload()->begin(), (*r)->payload()->end(),
                           req->payload()->begin()));
  }

  // Encoding shares the finished builder's buffer: no copy before NATS.
  FlatMessage<ev1::EchoMessage> built = EchoRequest(64 * 1024);
  Payload payload;
  ASSERT_TRUE(
      FlatBuffersCodec<FlatMessage<ev1::EchoMessage>>::Encode(built, payload)
          .ok());
  EXPECT_EQ(payload.view().data(), built.bytes().data());
  EXPECT_EQ(payload.view().data(),
            reinterpret_cast<const char*>(built.builder().GetBufferPointer()));
  EXPECT_EQ(payload.view().size(), built.builder().GetSize());
}

// Plain nats.c, no natsrpc: corrupt buffers are answered INVALID_ARGUMENT by
// the verifier before the handler runs; a valid one is served.
class RawNats {
 public:
  explicit RawNats(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&nc_, url.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_SubscribeSync(
                  &sub_, nc_, "responses.alice.bob.example_v1.raw.*"),
              NATS_OK);
  }
  ~RawNats() {
    natsSubscription_Destroy(sub_);
    natsConnection_Destroy(nc_);
  }

  // Sends `data` to Calculator.<method> and returns the reply (owned).
  natsMsg* Call(const std::string& method, const std::string& data) {
    const std::string reply =
        absl::StrCat("responses.alice.bob.example_v1.raw.", ++seq_);
    EXPECT_EQ(
        natsConnection_PublishRequest(
            nc_, ("requests.alice.bob.example_v1.Calculator." + method).c_str(),
            reply.c_str(), data.data(), static_cast<int>(data.size())),
        NATS_OK);
    natsMsg* msg = nullptr;
    EXPECT_EQ(natsSubscription_NextMsg(&msg, sub_, 20000), NATS_OK);
    return msg;
  }

  static std::string Header(natsMsg* msg, const char* key) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, key, &value) != NATS_OK) return "<none>";
    return value;
  }

 private:
  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
  int seq_ = 0;
};

TEST_F(FbsIntegrationTest, VerifierRejectsCorruptBuffersFromPlainNatsC) {
  impl_.request_zero_copy.store(false);
  RawNats raw(nats_->url());
  const std::string valid(AddRequest(20, 22).bytes());
  std::string bad_root = valid;
  bad_root[0] = '\xff';  // root offset far beyond the buffer
  bad_root[1] = '\xff';
  const std::vector<std::string> corrupt = {
      "",                                 // empty
      "\x01\x02\x03",                     // shorter than an offset
      bad_root,                           // bad root offset
      valid.substr(0, valid.size() - 6),  // truncated
      std::string(64, '\xee'),            // noise
  };
  for (const std::string& data : corrupt) {
    SCOPED_TRACE(absl::CHexEscape(data));
    natsMsg* m = raw.Call("Add", data);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(RawNats::Header(m, "Nats-Service-Error-Code"), "3");
    EXPECT_THAT(RawNats::Header(m, "Nats-Service-Error"),
                HasSubstr("example.v1.AddRequest"));
    EXPECT_THAT(RawNats::Header(m, "Nats-Service-Error"),
                HasSubstr("verifier"));
    natsMsg_Destroy(m);
  }
  EXPECT_FALSE(impl_.request_zero_copy.load());  // the handler never ran

  natsMsg* m = raw.Call("Add", valid);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(RawNats::Header(m, "Nats-Service-Error-Code"), "<none>");
  EXPECT_EQ(RawNats::Header(m, "Content-Type"), "application/x-flatbuffers");
  // nats.c puts the payload at any offset: copy it into aligned memory
  // before FlatBuffers reads it in place, as natsrpc's codec does.
  const auto* data = reinterpret_cast<const uint8_t*>(natsMsg_GetData(m));
  const std::vector<uint8_t> aligned(
      data, data + static_cast<size_t>(natsMsg_GetDataLength(m)));
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  ASSERT_TRUE(verifier.VerifyBuffer<ev1::AddReply>(nullptr));
  EXPECT_EQ(flatbuffers::GetRoot<ev1::AddReply>(aligned.data())->sum(), 42);
  natsMsg_Destroy(m);
}

// A reply that does not verify ends the call with INTERNAL at the client.
TEST_F(FbsIntegrationTest, CorruptReplyIsInternal) {
  absl::StatusOr<std::unique_ptr<Subscription>> fake =
      conn_->transport().Subscribe(
          "requests.alice.mallory.example_v1.Calculator.Add", "",
          [this](MessagePtr m) {
            const HeaderRef ct{"Content-Type", kFlatBuffersContentType};
            (void)conn_->transport().Publish(
                OutgoingMessage{m->reply(), "", absl::MakeConstSpan(&ct, 1),
                                nullptr, "\xff\xff\xff\x7f garbage"});
          });
  ASSERT_TRUE(fake.ok());
  absl::StatusOr<FlatMessage<ev1::AddReply>> r =
      Client("mallory").Add(AddRequest(1, 2));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("example.v1.AddReply"));
}

TEST_F(FbsIntegrationTest, StatusRows) {
  ev1::Calculator::Client calc = Client();

  // The handler returned a status.
  FlatMessage<ev1::DivideRequest> div;
  div.Finish(ev1::CreateDivideRequest(div.builder(), 1, 0));
  absl::StatusOr<FlatMessage<ev1::DivideReply>> d = calc.Divide(div);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(), "division by zero");

  // The handler threw.
  absl::StatusOr<FlatMessage<ev1::AddReply>> r = calc.Add(AddRequest(666, 0));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(r.status().message(), HasSubstr("the number of the beast"));

  // The handler returned OK without finishing its reply.
  r = calc.Add(AddRequest(13, 0));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("never finished"));

  // The caller's request was never finished: nothing is sent.
  r = calc.Add(FlatMessage<ev1::AddRequest>());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);

  // The service does not implement the method.
  class Partial final : public ev1::Calculator::Service {};
  Partial partial;
  Server other(*conn_, ServerOptions{.responder = "carol"});
  ASSERT_TRUE(other.AddService(partial).ok());
  r = Client("carol").Add(AddRequest(1, 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);

  // No responders.
  r = Client("nobody").Add(AddRequest(1, 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);

  // No reply by the deadline.
  div.Finish(ev1::CreateDivideRequest(div.builder(), 1, -1));
  d = calc.Divide(div, CallOptions{.timeout = absl::Milliseconds(100)});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDeadlineExceeded);

  // Larger than max_payload: nothing sent.
  absl::StatusOr<FlatMessage<ev1::EchoMessage>> e =
      calc.Echo(EchoRequest(2 * 1024 * 1024));
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);

  // Cancelled by the caller.
  absl::Notification cancelled;
  absl::Status status;
  div.Finish(ev1::CreateDivideRequest(div.builder(), 1, -1));
  CallHandle h = calc.DivideAsync(
      div,
      [&](absl::StatusOr<FlatMessage<ev1::DivideReply>> r) {
        status = r.status();
        cancelled.Notify();
      },
      CallOptions{.timeout = absl::Milliseconds(500)});
  h.Cancel();
  ASSERT_TRUE(cancelled.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace natsrpc
