// Copyright 2026 The natsrpc Authors.
//
// The default app of an IDL package (docs/protocol.md section 1). Header-only
// so that the generator (plugin/) and the runtime share this one rule.

#ifndef NATSRPC_SRC_WIRE_APP_H_
#define NATSRPC_SRC_WIRE_APP_H_

#include <string>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace natsrpc::wire {

// The app of a service whose IDL and run-time options name none: the
// package with every '.' replaced by '_', or "default" without a package.
//
//   DefaultApp("example.v1") -> "example_v1"
//   DefaultApp("")           -> "default"
inline std::string DefaultApp(absl::string_view package) {
  if (package.empty()) return "default";
  return absl::StrReplaceAll(package, {{".", "_"}});
}

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_APP_H_
