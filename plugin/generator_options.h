// Copyright 2026 The natsrpc Authors.
//
// The options of protoc-gen-natsrpc, given to protoc as
// `--natsrpc_opt=key=value,key=value` (or `--natsrpc_out=key=value:dir`).
// They are parsed once into GeneratorOptions; an unknown key is an error that
// names it, so a typo never goes unnoticed.

#ifndef NATSRPC_PLUGIN_GENERATOR_OPTIONS_H_
#define NATSRPC_PLUGIN_GENERATOR_OPTIONS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace natsrpc::gen {

struct GeneratorOptions {
  // `message_header_extension=.proto.h`: the suffix of the message headers
  // protoc's C++ generator (or a build system's rule) writes, included by
  // the generated header in place of `foo.pb.h`. Same key as gRPC's C++
  // plugin. Default ".pb.h".
  std::string message_header_extension = ".pb.h";

  // `generate_mock_code=true`: also emit `Svc::ClientInterface`, which the
  // generated Client implements, and a third output `foo.natsrpc_mock.h`
  // with `Svc::MockClient`, a gMock mock of it (see EmitOptions in
  // cpp_emitter.h). Same key as gRPC's C++ plugin. Default false.
  bool generate_mock_code = false;

  // Parses protoc's parameter string. Errors name the offending key:
  //
  //   Parse("")                                  -> defaults
  //   Parse("message_header_extension=.proto.h") -> {".proto.h"}
  //   Parse("generate_mock_code=true")         -> mocks on
  //   Parse("generate_mock_code=yes") -> INVALID_ARGUMENT: ... "yes" is not
  //                     true or false
  //   Parse("lite")  -> INVALID_ARGUMENT: unknown --natsrpc_opt key "lite"
  //                     (known keys: message_header_extension,
  //                     generate_mock_code)
  static absl::StatusOr<GeneratorOptions> Parse(absl::string_view parameter);
};

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_GENERATOR_OPTIONS_H_
