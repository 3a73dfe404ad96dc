// Copyright 2026 The natsrpc Authors.
//
// Everything that depends on the protobuf version the plugin is built
// against. Our baseline is protobuf 3.21; a newer protobuf (string_view
// names, Printer::Emit, changed C++ naming) should only change this file.

#ifndef NATSRPC_PLUGIN_COMPAT_H_
#define NATSRPC_PLUGIN_COMPAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/common.h"

namespace natsrpc::gen::compat {

// How protoc's C++ generator spells one component of a package in a
// namespace. protoc 3.21 writes it unchanged, even a C++ keyword
// (`package delete.v1;` -> `namespace delete {`, which does not compile, in
// its own .pb.h first). tests/generator/names_test.cc (NamesTest.ProtocSpelling) checks this
// against the protoc on the machine.
inline std::string ProtocNamespaceComponent(absl::string_view part) {
  return std::string(part);
}

// Descriptor names are `const std::string&` in 3.21 and `absl::string_view`
// later; callers copy through this.
template <typename Name>
std::string ToString(const Name& name) {
  return std::string(name);
}

}  // namespace natsrpc::gen::compat

#endif  // NATSRPC_PLUGIN_COMPAT_H_
