// Copyright 2026 The natsrpc Authors.
//
// The runtime's way into a ServerContext (natsrpc/server.h): what users must
// not touch.

#ifndef NATSRPC_SRC_SERVER_SERVER_CONTEXT_ACCESS_H_
#define NATSRPC_SRC_SERVER_SERVER_CONTEXT_ACCESS_H_

#include <atomic>
#include <utility>

#include "natsrpc/server.h"

namespace natsrpc::internal {

class ServerContextAccess {
 public:
  // The flag behind IsCancelled(); it must outlive the context.
  static void SetCancelFlag(ServerContext& context,
                            const std::atomic<bool>* flag) {
    context.cancelled_ = flag;
  }
  // ServerContext::EndGather() was called.
  static bool end_gather(const ServerContext& context) {
    return context.end_gather_;
  }
  // The call's span (natsrpc/trace.h).
  static void SetTrace(ServerContext& context, TraceContext trace) {
    context.trace_ = std::move(trace);
  }
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_SERVER_CONTEXT_ACCESS_H_
