// Copyright 2026 The natsrpc Authors.
//
// natsrpc as a user writes it: the generated example::v1::Calculator client
// (Echo, EchoAsync) against a Calculator::Service subclass served by
// natsrpc::Server, each on its own connection to the nats-server.

#include <atomic>
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
#include "example/v1/calculator.natsrpc.h"
#include "natsrpc/natsrpc.h"

namespace natsrpc_bench {
namespace {

using ::example::v1::Calculator;
using ::example::v1::EchoMessage;

class EchoService final : public Calculator::Service {
 public:
  absl::Status Echo(natsrpc::ServerContext&, const EchoMessage& request,
                    EchoMessage& response) override {
    response.set_payload(request.payload());
    return absl::OkStatus();
  }
};

class NatsrpcContender : public Contender {
 public:
  std::string family() const override { return "natsrpc"; }

  absl::Status Setup(const Env& env) override {
    // (Options are assigned member by member: GCC 12's -Wextra flags
    // designated initializers that leave members to their defaults.)
    natsrpc::ConnectOptions connect;
    connect.url = env.nats_url;
    connect.tuning.event_loop = env.event_loop;
    connect.tuning.write_now = env.write_now;
    connect.tuning.bursts = env.bursts;
    connect.tuning.nats_internals = env.nats_internals;
    connect.name = "bench-server";
    absl::StatusOr<natsrpc::Connection> server_conn = natsrpc::Connect(connect);
    if (!server_conn.ok()) return server_conn.status();
    connect.name = "bench-client";
    absl::StatusOr<natsrpc::Connection> client_conn = natsrpc::Connect(connect);
    if (!client_conn.ok()) return client_conn.status();
    server_conn_ = std::move(*server_conn);
    client_conn_ = std::move(*client_conn);

    natsrpc::ServerOptions server_options;
    // Each contender its own responder and requester: all contenders are
    // connected at once and must not answer each other's calls.
    server_options.responder = id();
    server_ = std::make_unique<natsrpc::Server>(*server_conn_, server_options);
    if (absl::Status s = server_->AddService(service_); !s.ok()) return s;
    natsrpc::ClientOptions client_options;
    client_options.requester = id();
    client_options.responder = id();
    client_ =
        std::make_unique<Calculator::Client>(*client_conn_, client_options);
    if (!client_->status().ok()) return client_->status();

    // The server's subscription reaches nats-server asynchronously: call
    // until it answers.
    EchoMessage probe;
    probe.set_payload("probe");
    natsrpc::CallOptions probe_options;
    probe_options.timeout = absl::Milliseconds(200);
    absl::Status last;
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<EchoMessage> r = client_->Echo(probe, probe_options);
      if (r.ok()) return absl::OkStatus();
      last = r.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::UnavailableError(
        absl::StrCat("natsrpc echo server never answered: ", last.ToString()));
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

  void SetPayload(size_t bytes) override {
    request_.set_payload(MakePayload(bytes));
  }

 protected:
  bool Intact(const absl::StatusOr<EchoMessage>& r) const {
    return r.ok() && r->payload().size() == request_.payload().size();
  }

  EchoService service_;
  std::optional<natsrpc::Connection> server_conn_;
  std::optional<natsrpc::Connection> client_conn_;
  std::unique_ptr<natsrpc::Server> server_;
  std::unique_ptr<Calculator::Client> client_;
  EchoMessage request_;
};

class NatsrpcBlocking final : public NatsrpcContender {
 public:
  ~NatsrpcBlocking() override { Teardown(); }
  std::string id() const override { return "natsrpc_blocking"; }
  std::string label() const override { return "natsrpc blocking"; }
  bool blocking() const override { return true; }

  bool Call() override { return Intact(client_->Echo(request_)); }
};

class NatsrpcAsync final : public NatsrpcContender {
 public:
  ~NatsrpcAsync() override { Teardown(); }
  std::string id() const override { return "natsrpc_async"; }
  std::string label() const override { return "natsrpc async"; }
  bool blocking() const override { return false; }

  void Prepare(uint32_t, CompletionSink* sink) override { sink_ = sink; }

  void Start(uint32_t slot) override {
    client_->EchoAsync(request_, [this, slot](absl::StatusOr<EchoMessage> r) {
      sink_->Done(slot, Intact(r));
    });
  }

 private:
  CompletionSink* sink_ = nullptr;
};

}  // namespace

std::string NatsrpcVersion() {
  return absl::StrCat(NATSRPC_VERSION_MAJOR, ".", NATSRPC_VERSION_MINOR, ".",
                      NATSRPC_VERSION_PATCH);
}

std::vector<ContenderFactory> NatsrpcContenders() {
  std::vector<ContenderFactory> all = {
      [] { return std::make_unique<NatsrpcBlocking>(); },
      [] { return std::make_unique<NatsrpcAsync>(); },
  };
  for (ContenderFactory& f : NatsrpcFlatBuffersContenders()) {
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace natsrpc_bench
