// Copyright 2026 The natsrpc Authors.
//
// natsrpc with FlatBuffers (zero-copy payloads): the generated
// natsrpc_bench::fbs::Echoer client (EchoAsync) against an Echoer::Service
// subclass served by natsrpc::Server, each on its own connection. The
// handler reads the request in place and builds the reply in the runtime's
// FlatBufferBuilder; the client gets a verified view of the reply message.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "contender.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc_bench_echo.natsrpc.h"

namespace natsrpc_bench {
namespace {

using ::natsrpc::FlatMessage;
using ::natsrpc_bench::fbs::Echoer;
using EchoMsg = ::natsrpc_bench::fbs::EchoMessage;

class EchoService final : public Echoer::Service {
 public:
  absl::Status Echo(natsrpc::ServerContext&,
                    const FlatMessage<EchoMsg>& request,
                    FlatMessage<EchoMsg>& response) override {
    const flatbuffers::Vector<uint8_t>* in = request->payload();
    auto& b = response.builder();
    response.Finish(fbs::CreateEchoMessage(
        b, in == nullptr ? 0 : b.CreateVector(in->data(), in->size())));
    return absl::OkStatus();
  }
};

class NatsrpcFbsAsync final : public Contender {
 public:
  ~NatsrpcFbsAsync() override { Teardown(); }
  std::string id() const override { return "natsrpc_fbs_async"; }
  std::string label() const override { return "natsrpc async (FlatBuffers)"; }
  std::string family() const override { return "natsrpc"; }
  bool blocking() const override { return false; }

  absl::Status Setup(const Env& env) override {
    natsrpc::ConnectOptions connect;
    connect.url = env.nats_url;
    connect.tuning.event_loop = env.event_loop;
    connect.tuning.write_now = env.write_now;
    connect.tuning.bursts = env.bursts;
    connect.tuning.nats_internals = env.nats_internals;
    connect.name = "bench-fbs-server";
    absl::StatusOr<natsrpc::Connection> server_conn = natsrpc::Connect(connect);
    if (!server_conn.ok()) return server_conn.status();
    connect.name = "bench-fbs-client";
    absl::StatusOr<natsrpc::Connection> client_conn = natsrpc::Connect(connect);
    if (!client_conn.ok()) return client_conn.status();
    server_conn_ = std::move(*server_conn);
    client_conn_ = std::move(*client_conn);

    natsrpc::ServerOptions server_options;
    server_options.responder = id();
    server_ = std::make_unique<natsrpc::Server>(*server_conn_, server_options);
    if (absl::Status s = server_->AddService(service_); !s.ok()) return s;
    natsrpc::ClientOptions client_options;
    client_options.requester = id();
    client_options.responder = id();
    client_ = std::make_unique<Echoer::Client>(*client_conn_, client_options);
    if (!client_->status().ok()) return client_->status();

    // The server's subscription reaches nats-server asynchronously: call
    // until it answers.
    SetPayload(5);
    natsrpc::CallOptions probe_options;
    probe_options.timeout = absl::Milliseconds(200);
    absl::Status last;
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<FlatMessage<EchoMsg>> r =
          client_->Echo(request_, probe_options);
      if (r.ok()) return absl::OkStatus();
      last = r.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::UnavailableError(absl::StrCat(
        "natsrpc FlatBuffers echo server never answered: ", last.ToString()));
  }

  void Teardown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    if (client_conn_) client_conn_->Close();
    if (server_conn_) server_conn_->Close();
    client_conn_.reset();
    server_conn_.reset();
  }

  // Built once; every call shares the finished buffer (no copy per call).
  void SetPayload(size_t bytes) override {
    const std::string payload = MakePayload(bytes);
    request_ = FlatMessage<EchoMsg>();
    auto& b = request_.builder();
    request_.Finish(fbs::CreateEchoMessage(
        b, b.CreateVector(reinterpret_cast<const uint8_t*>(payload.data()),
                          payload.size())));
    size_ = bytes;
  }

  void Prepare(uint32_t, CompletionSink* sink) override { sink_ = sink; }

  void Start(uint32_t slot) override {
    client_->EchoAsync(
        request_, [this, slot](absl::StatusOr<FlatMessage<EchoMsg>> r) {
          sink_->Done(slot, r.ok() && (*r)->payload() != nullptr &&
                                (*r)->payload()->size() == size_);
        });
  }

 private:
  EchoService service_;
  std::optional<natsrpc::Connection> server_conn_;
  std::optional<natsrpc::Connection> client_conn_;
  std::unique_ptr<natsrpc::Server> server_;
  std::unique_ptr<Echoer::Client> client_;
  FlatMessage<EchoMsg> request_;
  size_t size_ = 0;
  CompletionSink* sink_ = nullptr;
};

}  // namespace

std::vector<ContenderFactory> NatsrpcFlatBuffersContenders() {
  return {[] { return std::make_unique<NatsrpcFbsAsync>(); }};
}

}  // namespace natsrpc_bench
