// Copyright 2026 The natsrpc Authors.
//
// Codec traits (layer 1 of the runtime): how a message type becomes payload
// bytes and back. A codec is a class template `Codec<T>` with
//
//   static constexpr absl::string_view kContentType;
//   static absl::Status Encode(const T& message, Payload& out);
//   static absl::Status Decode(const MessagePtr& message, T& out);
//
// Decode may keep `message` (a zero-copy codec holds the received bytes
// alive inside `out`); a codec that copies does not.
// Generated code names the codec of each message type; the rest of the
// runtime never looks inside a payload.

#ifndef NATSRPC_CODEC_H_
#define NATSRPC_CODEC_H_

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"

namespace natsrpc {

// Bytes to publish: either a string the payload owns, or a view kept valid by
// an owner (for example a finished FlatBuffers buffer), so encoders need not
// copy.
class Payload {
 public:
  Payload() = default;
  explicit Payload(std::string bytes) : bytes_(std::move(bytes)) {}
  Payload(absl::string_view view, std::shared_ptr<const void> owner)
      : view_(view), owner_(std::move(owner)), has_view_(true) {}

  absl::string_view view() const {
    return has_view_ ? view_ : absl::string_view(bytes_);
  }
  // The owned string, to serialize into. Drops any external view.
  std::string& mutable_bytes() {
    has_view_ = false;
    owner_.reset();
    return bytes_;
  }

 private:
  std::string bytes_;
  absl::string_view view_;
  std::shared_ptr<const void> owner_;
  bool has_view_ = false;
};

// The `Content-Type` of protobuf payloads (docs/protocol.md section 3).
inline constexpr absl::string_view kProtobufContentType =
    "application/protobuf";

// The codec of protobuf messages (full or lite runtime).
template <typename T>
struct ProtobufCodec {
  static_assert(std::is_base_of_v<google::protobuf::MessageLite, T>,
                "ProtobufCodec<T> needs a protobuf message type");

  static constexpr absl::string_view kContentType = kProtobufContentType;
  // From this size on, Encode serializes into an uninitialized buffer (one
  // more small allocation, but no zero-fill of the whole message).
  static constexpr size_t kUninitializedBufferFrom = 4096;

  static absl::Status Encode(const T& message, Payload& out) {
    if (!message.IsInitialized()) {
      return absl::InternalError(absl::StrCat("cannot serialize ",
                                              message.GetTypeName(),
                                              ": required fields are missing"));
    }
    const size_t size = message.ByteSizeLong();
    if (size > static_cast<size_t>(INT_MAX)) {
      return absl::InternalError(absl::StrCat("cannot serialize ",
                                              message.GetTypeName(), ": ", size,
                                              " bytes is more than 2 GiB"));
    }
    if (size < kUninitializedBufferFrom) {
      std::string& bytes = out.mutable_bytes();
      bytes.resize(size);
      message.SerializeWithCachedSizesToArray(
          reinterpret_cast<uint8_t*>(bytes.data()));
      return absl::OkStatus();
    }
    // A large message goes into a buffer that is not zero-filled first, as
    // std::string::resize would (docs/benchmarks.md, entry 14).
    std::shared_ptr<char[]> buffer(new char[size]);
    message.SerializeWithCachedSizesToArray(
        reinterpret_cast<uint8_t*>(buffer.get()));
    const absl::string_view view(buffer.get(), size);
    out = Payload(view, std::shared_ptr<const void>(std::move(buffer)));
    return absl::OkStatus();
  }

  static absl::Status Decode(const MessagePtr& message, T& out) {
    const absl::string_view data = message->data();
    if (!out.ParsePartialFromArray(data.data(),
                                   static_cast<int>(data.size()))) {
      return absl::InvalidArgumentError(absl::StrCat("payload of ", data.size(),
                                                     " bytes is not a valid ",
                                                     out.GetTypeName()));
    }
    if (!out.IsInitialized()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "payload is a ", out.GetTypeName(), " missing required fields"));
    }
    return absl::OkStatus();
  }
};

}  // namespace natsrpc

#endif  // NATSRPC_CODEC_H_
