// Builds a client and a server of consumer.v1.Greeter against an installed
// natsrpc, without a NATS server: the transport below is never connected.
// Prints what it did and exits 0, or says what is wrong and exits 1.
//
//   ./natsrpc_consumer
//   -> consumer: client requests.alice.bob.greet.Greeter.SayHello ended UNAVAILABLE: ...
//      consumer: stream SayHellos ended UNAVAILABLE: ...
//      consumer: server added Greeter
//      consumer: server added Pinger (FlatBuffers)
//      consumer: OK

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "consumer/v1/greeter.natsrpc.h"
#include "consumer/v1/types.natsrpc.h"
#include "ping.natsrpc.h"

namespace {

// A transport that is never connected: publishing fails, subscribing works.
class OfflineTransport final : public natsrpc::Transport {
 public:
  absl::Status Publish(const natsrpc::OutgoingMessage&) override {
    return absl::UnavailableError("offline transport");
  }
  absl::StatusOr<std::unique_ptr<natsrpc::Subscription>> Subscribe(
      absl::string_view, absl::string_view, MessageHandler) override {
    return std::make_unique<natsrpc::Subscription>();
  }
  int64_t max_payload() const override { return 1 << 20; }
  bool connected() const override { return false; }
  uint64_t AddEventListener(EventListener) override { return ++listeners_; }
  void RemoveEventListener(uint64_t) override {}
  void Close() override {}

 private:
  uint64_t listeners_ = 0;
};

class GreeterImpl final : public consumer::v1::Greeter::Service {
 public:
  absl::Status SayHellos(
      natsrpc::ServerContext&, const consumer::v1::HelloRequest&,
      natsrpc::ServerWriter<consumer::v1::HelloReply, natsrpc::ProtobufCodec>&)
      override {
    return absl::OkStatus();
  }
  absl::Status SayHello(natsrpc::ServerContext& context,
                        const consumer::v1::HelloRequest& request,
                        consumer::v1::HelloReply& reply) override {
    reply.set_greeting("hello " + request.name() + " from " +
                       std::string(context.responder()));
    return absl::OkStatus();
  }
};

class PingerImpl final : public consumer::fbs::Pinger::Service {
 public:
  absl::Status Ping(
      natsrpc::ServerContext&,
      const natsrpc::FlatMessage<consumer::fbs::PingRequest>& request,
      natsrpc::FlatMessage<consumer::fbs::PingReply>& reply) override {
    reply.Finish(consumer::fbs::CreatePingReply(reply.builder(), request->n()));
    return absl::OkStatus();
  }
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  static_assert(NATSRPC_PROTOCOL_VERSION == 1);
  // The file option app: "greet" must reach the generated code.
  if (absl::string_view(consumer::v1::Greeter::kDefaultApp) != "greet") {
    return Fail(std::string("kDefaultApp is ") +
                consumer::v1::Greeter::kDefaultApp + ", want greet");
  }

  natsrpc::Connection connection(std::make_shared<OfflineTransport>());

  natsrpc::ClientOptions client_options;
  client_options.requester = "alice";
  client_options.responder = "bob";
  consumer::v1::Greeter::Client client(connection, client_options);
  if (!client.status().ok()) {
    return Fail("client: " + client.status().ToString());
  }
  consumer::v1::HelloRequest request;
  request.set_name("consumer");
  natsrpc::CallOptions call_options;
  call_options.timeout = absl::Milliseconds(200);
  absl::StatusOr<consumer::v1::HelloReply> reply =
      client.SayHello(request, call_options);
  if (reply.ok()) return Fail("a call over an offline transport succeeded");
  std::printf("consumer: client %s ended %s\n",
              natsrpc::RequestSubject("alice", "bob", "greet", "Greeter",
                                      "SayHello")
                  .c_str(),
              reply.status().ToString().c_str());

  // A stream over the offline transport fails at once, and says why.
  auto hellos = client.SayHellos(request, call_options);
  consumer::v1::HelloReply hello;
  if (hellos->Read(&hello)) return Fail("a stream over an offline transport");
  std::printf("consumer: stream SayHellos ended %s\n",
              hellos->Finish().ToString().c_str());

  natsrpc::ServerOptions server_options;
  server_options.responder = "bob";
  natsrpc::Server server(connection, server_options);
  GreeterImpl impl;
  if (absl::Status s = server.AddService(impl); !s.ok()) {
    return Fail("AddService: " + s.ToString());
  }
  std::printf("consumer: server added %s\n",
              std::string(impl.service_name()).c_str());

  // The FlatBuffers service (fbs/ping.fbs).
  if (absl::string_view(consumer::fbs::Pinger::kDefaultApp) != "ping") {
    return Fail("Pinger::kDefaultApp is not ping");
  }
  consumer::fbs::Pinger::Client pinger(connection, client_options);
  natsrpc::FlatMessage<consumer::fbs::PingRequest> ping;
  ping.Finish(consumer::fbs::CreatePingRequest(ping.builder(), 7));
  absl::StatusOr<natsrpc::FlatMessage<consumer::fbs::PingReply>> pong =
      pinger.Ping(ping, call_options);
  if (pong.ok()) return Fail("a Ping over an offline transport succeeded");
  PingerImpl pinger_impl;
  if (absl::Status s = server.AddService(pinger_impl); !s.ok()) {
    return Fail("AddService(Pinger): " + s.ToString());
  }
  std::printf("consumer: server added %s (FlatBuffers)\n",
              std::string(pinger_impl.service_name()).c_str());
  server.Shutdown();

  std::printf("consumer: OK\n");
  return 0;
}
