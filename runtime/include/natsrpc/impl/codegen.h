// Copyright 2026 The natsrpc Authors.
//
// Everything a generated `.natsrpc.h` / `.natsrpc.cc` needs: the public API
// (natsrpc/natsrpc.h) and the impl/ headers that are stable for generated
// code but not meant for people.

#ifndef NATSRPC_IMPL_CODEGEN_H_
#define NATSRPC_IMPL_CODEGEN_H_

#include "natsrpc/async.h"
#include "natsrpc/coro.h"
#include "natsrpc/durable.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/impl/method_handler.h"
#include "natsrpc/impl/stream_calls.h"
#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/impl/stream_handlers.h"
#include "natsrpc/natsrpc.h"

#endif  // NATSRPC_IMPL_CODEGEN_H_
