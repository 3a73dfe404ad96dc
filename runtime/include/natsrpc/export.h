// Copyright 2026 The natsrpc Authors.
//
// NATSRPC_EXPORT marks what libnatsrpc exports: the library is built with
// -fvisibility=hidden, so only the classes and functions of natsrpc's
// headers that carry this macro are visible to programs that link it.

#ifndef NATSRPC_EXPORT_H_
#define NATSRPC_EXPORT_H_

#if defined(NATSRPC_STATIC_DEFINE)
#define NATSRPC_EXPORT
#else
#define NATSRPC_EXPORT __attribute__((visibility("default")))
#endif

#endif  // NATSRPC_EXPORT_H_
