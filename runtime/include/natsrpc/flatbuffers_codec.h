// Copyright 2026 The natsrpc Authors.
//
// The FlatBuffers codec: zero-copy in both directions.
//
// A `FlatMessage<T>` is how generated FlatBuffers APIs pass a table of type
// `T`. Received, it is a verified view into the NATS message's own bytes and
// keeps that message alive (no copy). To send, build it in its
// `FlatBufferBuilder` and `Finish()` it; the finished bytes are handed to NATS
// without another copy.
//
//   // server handler
//   absl::Status Add(natsrpc::ServerContext& ctx,
//                    const natsrpc::FlatMessage<calc::AddRequest>& req,
//                    natsrpc::FlatMessage<calc::AddReply>& reply) override {
//     auto& b = reply.builder();
//     reply.Finish(calc::CreateAddReply(b, req->a() + req->b()));
//     return absl::OkStatus();
//   }
//
//   // client
//   natsrpc::FlatMessage<calc::AddRequest> req;
//   req.Finish(calc::CreateAddRequest(req.builder(), 2, 40));
//   absl::StatusOr<natsrpc::FlatMessage<calc::AddReply>> r = client.Add(req);
//   if (r.ok()) use((*r)->sum());

#ifndef NATSRPC_FLATBUFFERS_CODEC_H_
#define NATSRPC_FLATBUFFERS_CODEC_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "flatbuffers/flatbuffers.h"
#include "natsrpc/codec.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"

namespace natsrpc {

// The `Content-Type` of FlatBuffers payloads (docs/protocol.md section 3).
inline constexpr absl::string_view kFlatBuffersContentType =
    "application/x-flatbuffers";

// A received payload is read in place when its first byte has this
// alignment (that of FlatBuffers' largest scalars), else copied first.
inline constexpr uintptr_t kFlatBuffersPayloadAlignment = 8;

namespace internal {
inline std::atomic<uint64_t> flatbuffers_alignment_copies{0};
}  // namespace internal

// How many received FlatBuffers payloads this program had to copy because
// NATS delivered them misaligned (see kFlatBuffersPayloadAlignment).
inline uint64_t FlatBuffersAlignmentCopies() {
  return internal::flatbuffers_alignment_copies.load(std::memory_order_relaxed);
}

// Limits applied by the verifier to every received buffer.
inline constexpr flatbuffers::uoffset_t kFlatBuffersMaxDepth = 64;
inline constexpr flatbuffers::uoffset_t kFlatBuffersMaxTables = 1000000;

template <typename T>
class FlatMessage {
 public:
  FlatMessage() = default;

  // The builder to create the message in; made on first use.
  flatbuffers::FlatBufferBuilder& builder() {
    if (builder_ == nullptr) {
      builder_ = std::make_shared<flatbuffers::FlatBufferBuilder>();
    }
    return *builder_;
  }

  // Finishes the buffer with `root` as its root table; the message can then
  // be sent and read.
  void Finish(flatbuffers::Offset<T> root) {
    builder().Finish(root);
    data_ = builder_->GetBufferPointer();
    size_ = builder_->GetSize();
    message_.reset();
  }

  // True once the message was finished or received.
  bool has_value() const { return data_ != nullptr; }

  // The root table; null before Finish() or receipt.
  const T* get() const {
    return data_ == nullptr ? nullptr : flatbuffers::GetRoot<T>(data_);
  }
  const T* operator->() const { return get(); }
  const T& operator*() const { return *get(); }

  // The serialized buffer.
  absl::string_view bytes() const {
    return absl::string_view(reinterpret_cast<const char*>(data_), size_);
  }

  // The received message this view reads from (null if built locally or
  // copied); tests use it to show that no copy happened.
  const IncomingMessage* source_message() const { return message_.get(); }

 private:
  template <typename>
  friend struct FlatBuffersCodec;

  std::shared_ptr<flatbuffers::FlatBufferBuilder> builder_;
  MessagePtr message_;
  std::shared_ptr<const uint8_t[]> copy_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

namespace internal {

template <typename T>
std::string FlatTypeName() {
  if constexpr (requires { T::GetFullyQualifiedName(); }) {
    return T::GetFullyQualifiedName();
  } else {
    return "FlatBuffers table";
  }
}

}  // namespace internal

template <typename M>
struct FlatBuffersCodec;

// The codec of FlatMessage<T>.
template <typename T>
struct FlatBuffersCodec<FlatMessage<T>> {
  static constexpr absl::string_view kContentType = kFlatBuffersContentType;

  static absl::Status Encode(const FlatMessage<T>& message, Payload& out) {
    if (!message.has_value()) {
      return absl::InternalError(absl::StrCat(
          "the ", internal::FlatTypeName<T>(),
          " was never finished: call FlatMessage::Finish() before sending"));
    }
    // Shares the finished buffer (or the received message) with NATS.
    std::shared_ptr<const void> owner =
        message.builder_ != nullptr
            ? std::shared_ptr<const void>(message.builder_)
        : message.message_ != nullptr
            ? std::shared_ptr<const void>(message.message_)
            : std::shared_ptr<const void>(message.copy_);
    out = Payload(message.bytes(), std::move(owner));
    return absl::OkStatus();
  }

  static absl::Status Decode(const MessagePtr& message, FlatMessage<T>& out) {
    const absl::string_view data = message->data();
    const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
    std::shared_ptr<const uint8_t[]> copy;
    // FlatBuffers reads scalars in place, and NATS puts a payload at any
    // offset: reading a misaligned one is undefined behaviour (and a fault
    // on some CPUs). A payload whose start is not aligned for the largest
    // scalar is copied into aligned memory first; aligned ones are read
    // where they arrived. FlatBuffersAlignmentCopies() counts the copies.
    if (reinterpret_cast<uintptr_t>(bytes) % kFlatBuffersPayloadAlignment !=
        0) {
      std::shared_ptr<uint8_t[]> aligned(new uint8_t[data.size()]);
      std::memcpy(aligned.get(), bytes, data.size());
      bytes = aligned.get();
      copy = std::move(aligned);
      internal::flatbuffers_alignment_copies.fetch_add(
          1, std::memory_order_relaxed);
    }
    flatbuffers::Verifier::Options options;
    options.max_depth = kFlatBuffersMaxDepth;
    options.max_tables = kFlatBuffersMaxTables;
    flatbuffers::Verifier verifier(bytes, data.size(), options);
    if (data.size() < sizeof(flatbuffers::uoffset_t) ||
        !verifier.VerifyBuffer<T>(nullptr)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "payload of ", data.size(), " bytes is not a valid ",
          internal::FlatTypeName<T>(), " (FlatBuffers verifier rejected it)"));
    }
    out.builder_.reset();
    out.message_ = copy == nullptr ? message : nullptr;
    out.copy_ = std::move(copy);
    out.data_ = bytes;
    out.size_ = data.size();
    return absl::OkStatus();
  }
};

}  // namespace natsrpc

#endif  // NATSRPC_FLATBUFFERS_CODEC_H_
