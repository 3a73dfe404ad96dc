// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the server's receive path (runtime/src/server, runtime/src/stream)
// for unary requests, stream frames and cancels: a Server serving a unary
// and a streaming service over the in-memory transport
// (tests/support/in_memory_transport.h) gets the input's messages
// (fuzz_input.h: subject, reply-to, headers, payload) as if from NATS. In a
// subject, `$S` stands for the stream subject of the latest `accept` the
// server sent (empty before any), so that frames reach open streams.
//
// Besides "no crash, no undefined behaviour, no leak", it checks that the
// server survives (protocol: a server survives any payload, header and
// subject): after the input, a well-formed Echo call is still answered.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fuzz_input.h"
#include "in_memory_transport.h"
#include "natsrpc/testing/v1/stream_service.natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"

namespace natsrpc::fuzz {
namespace {

namespace tv1 = ::natsrpc::testing::v1;
using ::natsrpc::testing::InMemoryTransport;

// Handlers are quick and bounded whatever the request says: the fuzzer
// looks for what the runtime does with the bytes, not for slow handlers.
constexpr absl::Duration kMaxWait = absl::Milliseconds(5);

void AwaitCancellation(const ServerContext& ctx) {
  const absl::Time end = absl::Now() + kMaxWait;
  while (!ctx.IsCancelled() && absl::Now() < end) {
    absl::SleepFor(absl::Microseconds(200));
  }
}

class TestServiceImpl final : public tv1::TestService::Service {
 public:
  absl::Status Echo(ServerContext& ctx, const tv1::EchoRequest& req,
                    tv1::EchoReply& reply) override {
    const int repeat = std::clamp(req.repeat(), 1, 4);
    std::string payload;
    for (int i = 0; i < repeat; ++i) payload += req.payload();
    reply.set_payload(std::move(payload));
    reply.set_requester(std::string(ctx.requester()));
    reply.set_method(std::string(ctx.method()));
    for (const auto& [k, v] : ctx.all_metadata()) {
      (*reply.mutable_metadata())[k] = v;
    }
    ctx.AddResponseMetadata("x-echo", "1");
    return absl::OkStatus();
  }
  absl::Status Sleep(ServerContext& ctx, const tv1::SleepRequest&,
                     tv1::EchoReply&) override {
    AwaitCancellation(ctx);
    return absl::OkStatus();
  }
  absl::Status Fail(ServerContext&, const tv1::FailRequest& req,
                    tv1::EchoReply&) override {
    if (req.throw_exception()) throw std::runtime_error(req.message());
    return absl::Status(static_cast<absl::StatusCode>(req.code()),
                        req.message());
  }
};

class StreamServiceImpl final : public tv1::StreamService::Service {
 public:
  absl::Status Count(ServerContext& ctx, const tv1::CountRequest& req,
                     ServerWriter<tv1::Item, ProtobufCodec>& writer) override {
    const int64_t count = std::clamp<int64_t>(req.count(), 0, 4);
    const std::string payload(
        static_cast<size_t>(std::clamp(req.payload_size(), 0, 64)), 'x');
    for (int64_t i = 1; i <= count; ++i) {
      if (req.fail_after() > 0 && i > req.fail_after()) {
        return absl::AbortedError(req.fail_message());
      }
      tv1::Item item;
      item.set_seq(i);
      item.set_payload(payload);
      if (!writer.Write(item)) return absl::CancelledError("stream over");
    }
    if (req.hold_open()) AwaitCancellation(ctx);
    return absl::OkStatus();
  }
  absl::Status Sum(ServerContext& ctx,
                   ServerReader<tv1::Item, ProtobufCodec>& reader,
                   tv1::Summary& summary) override {
    tv1::Item item;
    int64_t count = 0, sum = 0;
    while (reader.Read(&item)) {
      ++count;
      sum += item.seq() % 1000;
    }
    summary.set_count(count);
    summary.set_sum(sum);
    summary.set_tag(std::string(ctx.metadata("x-tag").value_or("")));
    return absl::OkStatus();
  }
  absl::Status Echo(ServerContext&,
                    ServerReaderWriter<tv1::Item, tv1::Item, ProtobufCodec>&
                        stream) override {
    tv1::Item item;
    while (stream.Read(&item)) {
      if (item.seq() < 0) return absl::AbortedError("negative seq");
      if (!stream.Write(item)) break;
    }
    return absl::OkStatus();
  }
  absl::Status Block(ServerContext& ctx, const tv1::CountRequest&,
                     tv1::Summary&) override {
    AwaitCancellation(ctx);
    return absl::CancelledError("blocked until cancelled");
  }
};

// The stream subject of the latest `accept` among `sent` (its reply-to).
std::string LatestStreamSubject(
    const std::vector<InMemoryTransport::Sent>& sent) {
  for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
    if (it->Header("Natsrpc-Stream") == "accept") return it->reply;
  }
  return "";
}

// A well-formed Echo call; true if answered within a bound.
bool ServerStillAnswers(InMemoryTransport& transport) {
  constexpr absl::string_view kReply =
      "responses.alice.bob.natsrpc_testing_v1.zzfuzzcheck.1";
  absl::Notification answered;
  auto sub = transport.Subscribe(kReply, "", [&](MessagePtr) {
    if (!answered.HasBeenNotified()) answered.Notify();
  });
  if (!sub.ok()) return false;
  tv1::EchoRequest req;
  req.set_payload("still there?");
  transport.Inject(
      {"requests.alice.bob.natsrpc_testing_v1.TestService.Echo",
       std::string(kReply),
       {{"Natsrpc-Timeout", "10S"}, {"Content-Type", "application/protobuf"}},
       req.SerializeAsString()});
  return answered.WaitForNotificationWithTimeout(absl::Seconds(10));
}

}  // namespace
}  // namespace natsrpc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace natsrpc::fuzz;
  std::vector<FuzzMessage> messages = ParseFuzzMessages(data, size);

  auto transport = std::make_shared<InMemoryTransport>();
  natsrpc::Connection connection(transport);
  TestServiceImpl unary;
  StreamServiceImpl streams;
  {
    natsrpc::Server server(
        connection,
        natsrpc::ServerOptions{.responder = "bob",
                               .num_workers = 2,
                               .max_open_streams = 16,
                               .stream_window = 4,
                               .min_stream_heartbeat = absl::Seconds(1)});
    if (!server.AddService(unary).ok() || !server.AddService(streams).ok()) {
      std::fprintf(stderr, "server_receive_fuzzer: cannot add services\n");
      std::abort();
    }
    // The client side: someone listens on the reply subjects (else the
    // transport answers an `accept` with a no-responders message to the
    // stream subject, as NATS does, and every stream ends at once).
    auto replies =
        transport->Subscribe("responses.>", "", [](natsrpc::MessagePtr) {});
    if (!replies.ok()) std::abort();
    for (FuzzMessage& m : messages) {
      const std::string stream = LatestStreamSubject(transport->sent());
      transport->Inject({Substitute(m.subject, {{"$S", stream}}),
                         Substitute(m.reply, {{"$S", stream}}),
                         std::move(m.headers), std::move(m.payload)});
    }
    if (!ServerStillAnswers(*transport)) {
      std::fprintf(stderr,
                   "server_receive_fuzzer: the server no longer answers a "
                   "well-formed call after this input\n");
      std::abort();
    }
    server.Shutdown();
  }
  return 0;
}
