// Copyright 2026 The natsrpc Authors.
//
// The untyped bridge between natsrpc/stream.h and the stream core.

#include "natsrpc/stream.h"

#include <utility>

#include "stream_core.h"

namespace natsrpc::internal {

absl::Status StreamWriteBytes(StreamEndpoint& e, absl::string_view bytes,
                              absl::Time deadline) {
  return e.Write(bytes, nullptr, deadline);
}

absl::Status StreamReadMessage(StreamEndpoint& e, absl::Time deadline,
                               MessagePtr& out) {
  StreamRead r = e.Read(deadline);
  out = std::move(r.message);
  return out != nullptr ? absl::OkStatus() : r.status;
}

absl::Status StreamSendEnd(StreamEndpoint& e, const absl::Status& status,
                           const Metadata* trailers, absl::Time deadline) {
  return e.WritesDone(status, trailers, deadline);
}

void StreamCancel(StreamEndpoint& e, absl::Status why) {
  e.Cancel(std::move(why));
}

absl::Status StreamFailure(const StreamEndpoint& e) { return e.failure(); }

}  // namespace natsrpc::internal
