// Copyright 2026 The natsrpc Authors.
//
// The runtime's version. Generated code checks it at compile time so that a
// mismatch between protoc-gen-natsrpc and libnatsrpc fails the build with a
// clear message instead of misbehaving at run time.

#ifndef NATSRPC_VERSION_H_
#define NATSRPC_VERSION_H_

#define NATSRPC_VERSION_MAJOR 0
#define NATSRPC_VERSION_MINOR 5
#define NATSRPC_VERSION_PATCH 0

// MAJOR * 1000000 + MINOR * 1000 + PATCH.
#define NATSRPC_VERSION 5000

// Generated code requires a runtime whose version is at least the generator's
// and shares its major version. It is written `NATSRPC_GENCODE_VERSION`.
#define NATSRPC_MIN_GENCODE_VERSION 5000

// Version of the wire protocol in docs/protocol.md.
#define NATSRPC_PROTOCOL_VERSION 1
// Its revision (docs/protocol.md): 2 adds streams and cancellation; 3 adds
// the exact status in the body of error replies and `Natsrpc-Revision`; 4
// adds metadata back to the caller (initial and trailers) and W3C trace
// context; 5 adds the lean unary form (3.3), byte credit on streams (9.5.1),
// addressing one instance (2.1), events and scatter-gather (13) and durable
// requests on JetStream (14).
#define NATSRPC_PROTOCOL_REVISION 5

#endif  // NATSRPC_VERSION_H_
