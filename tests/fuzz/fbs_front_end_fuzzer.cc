// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the `.fbs` front end (plugin/fbs_front_end.h) on arbitrary schema
// text, and the C++ emitter (plugin/cpp_emitter.h) on every model it
// builds. The schema is named tests/fuzz/fbs_include/fuzz.fbs, so
// `include "shared.fbs";` finds tests/fuzz/fbs_include/shared.fbs. Inputs
// that quote a path leaving that directory ('/', '\\' or a leading '.' in a
// string literal) are skipped: the fuzzer must not read arbitrary files
// (/dev/zero never ends).
//
// Checks: an error names the schema; the emitter either prints a model the
// front end built or says why it cannot.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "cpp_emitter.h"
#include "fbs_front_end.h"

#ifndef NATSRPC_FUZZ_FBS_DIR
#error "NATSRPC_FUZZ_FBS_DIR must name tests/fuzz/fbs_include"
#endif

namespace {

// True if a string literal of `text` could name a file outside the
// schema's directory.
bool QuotesAPath(absl::string_view text) {
  bool in_string = false;
  bool at_start = false;
  for (char c : text) {
    if (c == '"') {
      in_string = !in_string;
      at_start = in_string;
      continue;
    }
    if (!in_string) continue;
    if (c == '/' || c == '\\' || (at_start && c == '.')) return true;
    at_start = false;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (QuotesAPath(text)) return 0;
  const std::string path = std::string(NATSRPC_FUZZ_FBS_DIR) + "/fuzz.fbs";
  absl::StatusOr<natsrpc::gen::ServiceModel> model =
      natsrpc::gen::BuildFbsModelFromSource(text, path, {});
  if (!model.ok()) {
    if (!absl::StrContains(model.status().message(), "fuzz.fbs")) {
      std::fprintf(stderr, "fbs_front_end_fuzzer: error without the file: %s\n",
                   model.status().ToString().c_str());
      std::abort();
    }
    return 0;
  }
  absl::StatusOr<natsrpc::gen::GeneratedFiles> files =
      natsrpc::gen::EmitCpp(*model);
  if (files.ok() && (files->header.empty() || files->source.empty())) {
    std::fprintf(stderr, "fbs_front_end_fuzzer: emitted an empty file\n");
    std::abort();
  }
  return 0;
}
