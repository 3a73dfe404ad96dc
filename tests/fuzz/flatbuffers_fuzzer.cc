// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the FlatBuffers codec's receive side (natsrpc/flatbuffers_codec.h):
// FlatBuffersCodec::Decode verifies the payload of a received message and
// gives a FlatMessage that reads it. The input's first byte chooses where
// the payload starts relative to 8-byte alignment (NATS puts a payload at
// any offset); the rest is the payload. A payload the verifier accepts is
// then read completely (every field, recursively): any read outside the
// buffer or misaligned is an ASan/UBSan error.
//
// The schema is tests/fuzz/fuzz_types.fbs (every kind of field); the
// calculator's AddRequest (fbs/example/calculator.fbs) is decoded too.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "calculator_generated.h"
#include "fuzz_types_generated.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/transport.h"

namespace natsrpc::fuzz {
namespace {

// A received message whose payload starts at a chosen offset.
class PayloadMessage final : public IncomingMessage {
 public:
  PayloadMessage(absl::string_view payload, size_t misalignment)
      : storage_(new char[payload.size() + 16]) {
    char* base = storage_.get();
    // new[] gives at least 16-byte alignment; misalign on purpose.
    char* start = base + (misalignment % 8);
    if (!payload.empty()) std::memcpy(start, payload.data(), payload.size());
    data_ = absl::string_view(start, payload.size());
  }
  absl::string_view subject() const override { return "s"; }
  absl::string_view reply() const override { return ""; }
  absl::string_view data() const override { return data_; }
  std::optional<absl::string_view> header(absl::string_view) const override {
    return std::nullopt;
  }
  Metadata headers() const override { return {}; }
  bool is_no_responders() const override { return false; }

 private:
  std::unique_ptr<char[]> storage_;
  absl::string_view data_;
};

uint64_t sink = 0;

// Doubles may be NaN or huge: add their bits (a cast would be UB).
uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof(u));
  return u;
}

void Touch(const flatbuffers::String* s) {
  if (s == nullptr) return;
  for (char c : s->string_view()) sink += static_cast<unsigned char>(c);
}

// KNOWN GAP (reported with issue 11): the FlatBuffers 2.0.8 verifier checks
// a vector's alignment for its 4-byte length only, so it accepts a vector of
// 8-byte elements ([long], [double], structs holding one) whose elements
// are 4 mod 8; reading them through the generated accessors is then a
// misaligned load (UBSan: flatbuffers/buffer.h:77). The payload's own
// alignment is natsrpc's (flatbuffers_codec.h); this one is not handled
// yet. Until it is, such vectors are not read here, so that the fuzzer
// keeps looking for other bugs; tests/fuzz/corpus/flatbuffers/
// known-misaligned-long-vector reproduces it with this check removed.
bool Aligned8(const void* p) { return reinterpret_cast<uintptr_t>(p) % 8 == 0; }

void ReadLeaf(const natsrpc_fuzz::Leaf* leaf) {
  if (leaf == nullptr) return;
  Touch(leaf->name());
  if (leaf->values() != nullptr && Aligned8(leaf->values()->data())) {
    for (int64_t v : *leaf->values()) sink += static_cast<uint64_t>(v);
  }
}

void ReadNode(const natsrpc_fuzz::Node* node, int depth) {
  if (node == nullptr || depth > 64) return;
  sink += node->id() + static_cast<uint64_t>(node->color());
  if (const natsrpc_fuzz::Point* p = node->at()) {
    sink += static_cast<uint64_t>(p->x()) + Bits(p->y());
  }
  Touch(node->label());
  if (node->blob() != nullptr) {
    for (uint8_t b : *node->blob()) sink += b;
  }
  if (node->points() != nullptr && Aligned8(node->points()->data())) {
    for (const natsrpc_fuzz::Point* p : *node->points()) {
      sink += static_cast<uint64_t>(p->x()) + Bits(p->y());
    }
  }
  if (node->names() != nullptr) {
    for (const flatbuffers::String* s : *node->names()) Touch(s);
  }
  if (node->children() != nullptr) {
    for (const natsrpc_fuzz::Node* c : *node->children()) {
      ReadNode(c, depth + 1);
    }
  }
  ReadLeaf(node->leaf());
  switch (node->any_type()) {
    case natsrpc_fuzz::Any_Leaf:
      ReadLeaf(node->any_as_Leaf());
      break;
    case natsrpc_fuzz::Any_Other:
      if (const natsrpc_fuzz::Other* o = node->any_as_Other()) {
        sink += o->flag();
        if (o->tags() != nullptr) {
          for (const flatbuffers::String* s : *o->tags()) Touch(s);
        }
      }
      break;
    default:
      break;
  }
}

}  // namespace
}  // namespace natsrpc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace natsrpc;
  using namespace natsrpc::fuzz;
  if (size == 0) return 0;
  const absl::string_view payload(reinterpret_cast<const char*>(data) + 1,
                                  size - 1);
  MessagePtr message = std::make_shared<PayloadMessage>(payload, data[0]);

  FlatMessage<natsrpc_fuzz::Node> node;
  if (FlatBuffersCodec<FlatMessage<natsrpc_fuzz::Node>>::Decode(message, node)
          .ok()) {
    ReadNode(node.get(), 0);
    // A received message can be sent on as it is.
    Payload out;
    if (!FlatBuffersCodec<FlatMessage<natsrpc_fuzz::Node>>::Encode(node, out)
             .ok() ||
        out.view() != payload) {
      std::abort();
    }
  }
  FlatMessage<example::v1::AddRequest> add;
  if (FlatBuffersCodec<FlatMessage<example::v1::AddRequest>>::Decode(message,
                                                                     add)
          .ok()) {
    sink += static_cast<uint64_t>(add->a()) + static_cast<uint64_t>(add->b());
  }
  return 0;
}
