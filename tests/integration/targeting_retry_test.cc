// Copyright 2026 The natsrpc Authors.
//
// Instance targeting, retries and wait-for-ready through the code generated
// from proto/example/v1/calculator.proto (Add: idempotency_level
// NO_SIDE_EFFECTS; Echo: not idempotent). The cases:
// targeting_retry_cases.h.

#include <string>

#include "example/v1/calculator.natsrpc.h"
#include "targeting_retry_cases.h"

namespace natsrpc::targeting {
namespace {

namespace ev1 = ::example::v1;

struct ProtoCalculator {
  using Calculator = ev1::Calculator;

  static ev1::AddRequest Add(int64_t a, int64_t b) {
    ev1::AddRequest r;
    r.set_a(a);
    r.set_b(b);
    return r;
  }
  static int64_t Sum(const ev1::AddReply& r) { return r.sum(); }
  static ev1::EchoMessage Echo(std::string payload) {
    ev1::EchoMessage m;
    m.set_payload(std::move(payload));
    return m;
  }
  static std::string Payload(const ev1::EchoMessage& m) { return m.payload(); }

  class Impl final : public ev1::Calculator::Service, public Behaviour {
   public:
    absl::Status Add(ServerContext&, const ev1::AddRequest& req,
                     ev1::AddReply& reply) override {
      if (absl::Status s = OnAdd(); !s.ok()) return s;
      reply.set_sum(req.a() + req.b());
      return absl::OkStatus();
    }
    absl::Status Echo(ServerContext&, const ev1::EchoMessage& req,
                      ev1::EchoMessage& reply) override {
      if (absl::Status s = OnEcho(); !s.ok()) return s;
      reply.set_payload(req.payload());
      return absl::OkStatus();
    }
  };
};

INSTANTIATE_TYPED_TEST_SUITE_P(Proto, TargetingRetryTest, ProtoCalculator);

}  // namespace
}  // namespace natsrpc::targeting
