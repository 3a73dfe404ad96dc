// Copyright 2026 The natsrpc Authors.
//
// gRPC C++ peers over a localhost TCP port (no broker hop): a blocking stub
// against a synchronous server, and the callback API on both sides (the
// fastest asynchronous style measured on this platform), over one channel as
// most users write it and over four channels (four TCP connections, calls
// spread by slot), which serves many calls in flight better.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "contender.h"
#include "natsrpc_bench/echo.grpc.pb.h"
#include "natsrpc_bench/echo.pb.h"

namespace natsrpc_bench {
namespace {

constexpr auto kCallDeadline = std::chrono::seconds(30);

class SyncEchoService final : public EchoService::Service {
  grpc::Status Echo(grpc::ServerContext*, const EchoMessage* request,
                    EchoMessage* response) override {
    response->set_payload(request->payload());
    return grpc::Status::OK;
  }
};

class CallbackEchoService final : public EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoMessage* request,
                                 EchoMessage* response) override {
    response->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class GrpcContender : public Contender {
 public:
  explicit GrpcContender(int channels = 1) : num_channels_(channels) {}
  std::string family() const override { return "grpc"; }

  absl::Status Setup(const Env&) override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service());
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port == 0) {
      return absl::UnavailableError("gRPC server did not start");
    }
    for (int i = 0; i < num_channels_; ++i) {
      // A local subchannel pool gives each channel its own TCP connection.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      std::shared_ptr<grpc::Channel> channel =
          grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                    grpc::InsecureChannelCredentials(), args);
      if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                     std::chrono::seconds(5))) {
        return absl::UnavailableError("gRPC channel did not connect");
      }
      stubs_.push_back(EchoService::NewStub(channel));
      channels_.push_back(std::move(channel));
    }
    return absl::OkStatus();
  }

  void Teardown() override {
    stubs_.clear();
    channels_.clear();
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() +
                        std::chrono::seconds(2));
      server_->Wait();
      server_.reset();
    }
  }

  void SetPayload(size_t bytes) override {
    request_.set_payload(MakePayload(bytes));
  }

 protected:
  virtual grpc::Service* service() = 0;

  const int num_channels_;
  EchoMessage request_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<EchoService::Stub>> stubs_;
};

class GrpcBlocking final : public GrpcContender {
 public:
  ~GrpcBlocking() override { Teardown(); }
  std::string id() const override { return "grpc_blocking"; }
  std::string label() const override { return "gRPC C++ blocking"; }
  bool blocking() const override { return true; }

  bool Call() override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    EchoMessage response;
    grpc::Status s = stubs_[0]->Echo(&context, request_, &response);
    return s.ok() && response.payload().size() == request_.payload().size();
  }

 private:
  grpc::Service* service() override { return &service_; }
  SyncEchoService service_;
};

class GrpcCallback final : public GrpcContender {
 public:
  explicit GrpcCallback(int channels) : GrpcContender(channels) {}
  ~GrpcCallback() override { Teardown(); }
  std::string id() const override {
    return num_channels_ == 1
               ? "grpc_async"
               : absl::StrCat("grpc_async_", num_channels_, "ch");
  }
  std::string label() const override {
    return num_channels_ == 1
               ? "gRPC C++ async (callback)"
               : absl::StrCat("gRPC C++ async, ", num_channels_, " channels");
  }
  bool blocking() const override { return false; }

  void Prepare(uint32_t, CompletionSink* sink) override { sink_ = sink; }

  void Start(uint32_t slot) override {
    // A ClientContext serves one call; both live until the callback.
    struct Call {
      grpc::ClientContext context;
      EchoMessage response;
    };
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() +
                               kCallDeadline);
    stubs_[slot % stubs_.size()]->async()->Echo(
        &call->context, &request_, &call->response,
        [this, call, slot](grpc::Status s) {
          const bool ok = s.ok() && call->response.payload().size() ==
                                        request_.payload().size();
          delete call;
          sink_->Done(slot, ok);
        });
  }

 private:
  grpc::Service* service() override { return &service_; }
  CallbackEchoService service_;
  CompletionSink* sink_ = nullptr;
};

}  // namespace

std::string GrpcVersion() { return grpc::Version(); }

std::vector<ContenderFactory> GrpcContenders() {
  return {
      [] { return std::make_unique<GrpcBlocking>(); },
      [] { return std::make_unique<GrpcCallback>(1); },
      [] { return std::make_unique<GrpcCallback>(4); },
  };
}

}  // namespace natsrpc_bench
