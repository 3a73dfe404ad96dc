// Copyright 2026 The natsrpc Authors.
//
// The C++ emitter: prints `foo.natsrpc.h` and `foo.natsrpc.cc` from a
// ServiceModel (model.h), whichever IDL it came from.
//
// Output contract (build systems rely on it): every IDL file yields both
// files, always. A file without services yields a header that only includes
// the message header (so `foo.natsrpc.h` always gives what `foo.pb.h` gives)
// and a source that only includes it, so the outputs of a generation step
// are predictable from the input names alone.
//
// Each method is rendered once into a MethodText (its pieces for every
// section), then the sections are assembled. What a method becomes depends
// only on its StreamingKind (the API is listed in plugin/README.md): unary
// methods get a blocking call returning the response, an asynchronous call
// taking a callback and a handler filling the response; streaming methods
// get a blocking call returning a stream object (natsrpc/stream.h), an
// asynchronous call taking a reactor and a handler given the server's stream
// object. A header with streaming methods also includes <memory> and
// "natsrpc/stream.h"; one without is unchanged by them. Templates are fixed
// whole blocks; user text (doc comments, file names) only ever enters as a
// variable value, never as a template, and is made safe by names.h.

#ifndef NATSRPC_PLUGIN_CPP_EMITTER_H_
#define NATSRPC_PLUGIN_CPP_EMITTER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model.h"

namespace natsrpc::gen {

struct GeneratedFiles {
  std::string header_name;  // model.header_file
  std::string header;
  std::string source_name;  // model.source_file
  std::string source;
  // With EmitOptions::mock_code only (else both empty): the gMock header,
  // MockHeaderName(model.header_file).
  std::string mock_header_name;
  std::string mock_header;
};

// What the emitter prints besides the client and service classes; set from
// the generator's options (`--natsrpc_opt`, natsrpc-fbs flags), never from
// the IDL kind.
struct EmitOptions {
  // `Svc::ClientInterface` (which `Svc::Client` implements: pure virtual
  // unary and asynchronous calls, and for streaming calls a non-virtual
  // `M` returning natsrpc/stream.h's stream interface through the private
  // virtual `MRaw`), plus `Svc::MockClient`, a gMock mock of it, in a
  // third output `foo.natsrpc_mock.h` (MockHeaderName) that only tests
  // include. Off: the output is unchanged by this option.
  bool mock_code = false;
};

// The gMock header beside a generated header.
//
//   MockHeaderName("example/v1/calculator.natsrpc.h")
//       -> "example/v1/calculator.natsrpc_mock.h"
std::string MockHeaderName(absl::string_view header_file);

// Checks what the emitter cannot print: includes it cannot quote and apps
// that are not subject tokens. Errors start with the IDL file and name the
// service:
//
//   x.proto: service a.S: app "a.b" is not a valid subject token: character
//   '.' at offset 1 is not one of [A-Za-z0-9_-]
//
// Every streaming kind (model.h) can be printed.
absl::Status ValidateModel(const ServiceModel& model);

// ValidateModel(), then both files (three with options.mock_code).
absl::StatusOr<GeneratedFiles> EmitCpp(const ServiceModel& model,
                                       const EmitOptions& options = {});

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_CPP_EMITTER_H_
