// Copyright 2026 The natsrpc Authors.
//
// Instance targeting, retries and wait-for-ready through the code generated
// from fbs/example/calculator.fbs (Add: the `idempotent` attribute; Echo:
// not idempotent). The cases: tests/integration/targeting_retry_cases.h.

#include <string>
#include <vector>

#include "calculator.natsrpc.h"
#include "natsrpc/flatbuffers_codec.h"
#include "targeting_retry_cases.h"

namespace natsrpc::targeting {
namespace {

namespace ev1 = ::example::v1;

struct FbsCalculator {
  using Calculator = ev1::Calculator;

  static FlatMessage<ev1::AddRequest> Add(int64_t a, int64_t b) {
    FlatMessage<ev1::AddRequest> m;
    m.Finish(ev1::CreateAddRequest(m.builder(), a, b));
    return m;
  }
  static int64_t Sum(const FlatMessage<ev1::AddReply>& r) { return r->sum(); }
  static FlatMessage<ev1::EchoMessage> Echo(std::string payload) {
    std::vector<uint8_t> bytes(payload.begin(), payload.end());
    FlatMessage<ev1::EchoMessage> m;
    m.Finish(ev1::CreateEchoMessageDirect(m.builder(), &bytes));
    return m;
  }
  static std::string Payload(const FlatMessage<ev1::EchoMessage>& m) {
    const auto* p = m->payload();
    return p == nullptr ? std::string() : std::string(p->begin(), p->end());
  }

  class Impl final : public ev1::Calculator::Service, public Behaviour {
   public:
    absl::Status Add(ServerContext&, const FlatMessage<ev1::AddRequest>& req,
                     FlatMessage<ev1::AddReply>& reply) override {
      if (absl::Status s = OnAdd(); !s.ok()) return s;
      reply.Finish(ev1::CreateAddReply(reply.builder(), req->a() + req->b()));
      return absl::OkStatus();
    }
    absl::Status Echo(ServerContext&, const FlatMessage<ev1::EchoMessage>& req,
                      FlatMessage<ev1::EchoMessage>& reply) override {
      if (absl::Status s = OnEcho(); !s.ok()) return s;
      const auto* in = req->payload();
      auto& b = reply.builder();
      reply.Finish(ev1::CreateEchoMessage(
          b, in == nullptr ? 0 : b.CreateVector(in->data(), in->size())));
      return absl::OkStatus();
    }
  };
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fbs, TargetingRetryTest, FbsCalculator);

}  // namespace
}  // namespace natsrpc::targeting
