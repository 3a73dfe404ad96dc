// Copyright 2026 The natsrpc Authors.
//
// Test helpers for the typed stream objects run without a Server: the end a
// server side sends when its handler returns, as runtime/src/server does it.

#ifndef NATSRPC_TESTS_SUPPORT_STREAM_TESTING_H_
#define NATSRPC_TESTS_SUPPORT_STREAM_TESTING_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "natsrpc/codec.h"
#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/metadata.h"
#include "natsrpc/status_macros.h"

namespace natsrpc::testing {

// The end with `status`.
inline absl::Status FinishServerStream(internal::StreamEndpoint& e,
                                       const absl::Status& status,
                                       const Metadata* trailers = nullptr) {
  return internal::StreamSendEnd(e, status, trailers);
}

// A client stream's server side: the one reply, then the end (or only the
// end with a non-OK `status`).
template <typename Resp, template <typename> class Codec>
absl::Status FinishClientStream(internal::StreamEndpoint& e,
                                const absl::Status& status, const Resp& reply,
                                const Metadata* trailers = nullptr,
                                absl::Time deadline = absl::InfiniteFuture()) {
  if (!status.ok()) return internal::StreamSendEnd(e, status, trailers);
  Payload payload;
  if (absl::Status s = Codec<Resp>::Encode(reply, payload); !s.ok()) {
    return internal::StreamSendEnd(e, absl::InternalError(s.message()),
                                   trailers);
  }
  NATSRPC_RETURN_IF_ERROR(
      internal::StreamWriteBytes(e, payload.view(), deadline));
  return internal::StreamSendEnd(e, absl::OkStatus(), trailers);
}

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_SUPPORT_STREAM_TESTING_H_
