// Copyright 2026 The natsrpc Authors.
//
// What the harness needs from one way of making echo calls (a "contender"):
// raw nats.c, natsrpc, gRPC C++. A contender is either asynchronous (the
// harness keeps N calls in flight through Start()/CompletionSink::Done()) or
// blocking (the harness runs N threads that each call Call() in a loop).

#ifndef NATSRPC_BENCH_CONTENDER_H_
#define NATSRPC_BENCH_CONTENDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace natsrpc_bench {

// Where the contenders find their peers.
struct Env {
  std::string nats_url;  // the nats-server the harness started
  // natsrpc::TransportTuning for natsrpc's connections (--tuning), for A/B
  // runs of the transport's write path.
  bool event_loop = true;
  bool write_now = true;
  bool bursts = true;
  bool nats_internals = true;
};

// Receives the completion of asynchronous calls.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  // Call `slot` ended; `ok` false for an error or a wrong reply. May run on
  // any thread, and may call Contender::Start() for the same slot.
  virtual void Done(uint32_t slot, bool ok) = 0;
};

class Contender {
 public:
  virtual ~Contender() = default;

  // Stable identifier used in JSON, e.g. "raw_buffered".
  virtual std::string id() const = 0;
  // Human-readable name, e.g. "raw nats.c (buffered)".
  virtual std::string label() const = 0;
  // "raw", "natsrpc" or "grpc": whom the ratios compare against.
  virtual std::string family() const = 0;
  virtual bool blocking() const = 0;

  // Connects, starts its server side. Called once per repetition.
  virtual absl::Status Setup(const Env& env) = 0;
  // Undoes Setup(); no call is in flight.
  virtual void Teardown() = 0;

  // Builds the request every following call sends (`bytes` of payload).
  virtual void SetPayload(size_t bytes) = 0;

  // Asynchronous contenders: up to `slots` calls will be in flight, each
  // reported to `sink`.
  virtual void Prepare(uint32_t slots, CompletionSink* sink) {
    (void)slots;
    (void)sink;
  }
  // Starts one call for `slot`; its end is reported with sink->Done(slot).
  virtual void Start(uint32_t slot) { (void)slot; }

  // Blocking contenders: one call; true if it returned the echo. Called from
  // several threads at once.
  virtual bool Call() { return false; }
};

using ContenderFactory = std::function<std::unique_ptr<Contender>()>;

// Registries of each contender family (their .cc files define them).
std::vector<ContenderFactory> RawNatsContenders();
std::vector<ContenderFactory> GrpcContenders();
std::vector<ContenderFactory> NatsrpcContenders();  // empty if not built
// natsrpc with FlatBuffers payloads; NatsrpcContenders() includes them.
std::vector<ContenderFactory> NatsrpcFlatBuffersContenders();

// Versions of the libraries, for the report ("" if not built).
std::string GrpcVersion();
std::string NatsrpcVersion();

// Bytes of the echo payload: deterministic, not compressible.
std::string MakePayload(size_t bytes);

}  // namespace natsrpc_bench

#endif  // NATSRPC_BENCH_CONTENDER_H_
