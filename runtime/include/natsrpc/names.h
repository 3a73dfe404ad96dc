// Copyright 2026 The natsrpc Authors.
//
// The subjects of protocol v1 (docs/protocol.md, sections 1 and 2) for the
// configuration around natsrpc: NATS permissions, monitoring, logs. natsrpc's
// clients and servers build their subjects themselves; these functions give
// the same strings (runtime/src/wire/subjects.h spells each rule once).

#ifndef NATSRPC_NAMES_H_
#define NATSRPC_NAMES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "natsrpc/export.h"

namespace natsrpc {

// True if `token` is one NATS subject token of the form `[A-Za-z0-9_-]+`.
//
//   IsValidToken("alice") -> true;  IsValidToken("a.b"), IsValidToken("") -> false
NATSRPC_EXPORT bool IsValidToken(absl::string_view token);

// OK if `value` is a valid token, else INVALID_ARGUMENT naming `field`, the
// value and the first bad character.
NATSRPC_EXPORT absl::Status ValidateToken(absl::string_view field,
                                          absl::string_view value);

// The app of an IDL package when no option names one:
//
//   DefaultApp("example.v1") -> "example_v1";  DefaultApp("") -> "default"
NATSRPC_EXPORT std::string DefaultApp(absl::string_view package);

// requests.<requester>.<responder>.<app>.<service>.<method>
//
//   RequestSubject("alice", "bob", "example_v1", "Calculator", "Add")
//     -> "requests.alice.bob.example_v1.Calculator.Add"
NATSRPC_EXPORT std::string RequestSubject(absl::string_view requester,
                                          absl::string_view responder,
                                          absl::string_view app,
                                          absl::string_view service,
                                          absl::string_view method);

// What a server instance of `responder` subscribes to for one service:
//
//   ServiceWildcard("bob", "example_v1", "Calculator")
//     -> "requests.*.bob.example_v1.Calculator.*"
NATSRPC_EXPORT std::string ServiceWildcard(absl::string_view responder,
                                           absl::string_view app,
                                           absl::string_view service);

// The queue group all instances of one responder share for one app:
//
//   DefaultQueueGroup("bob", "example_v1") -> "natsrpc.bob.example_v1"
NATSRPC_EXPORT std::string DefaultQueueGroup(absl::string_view responder,
                                             absl::string_view app);

}  // namespace natsrpc

#endif  // NATSRPC_NAMES_H_
