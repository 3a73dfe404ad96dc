// Copyright 2026 The natsrpc Authors.
//
// natsrpc-fbs: the FlatBuffers counterpart of protoc-gen-natsrpc. flatc has
// no plugin mechanism, so this is a command of its own that takes flatc's
// arguments and runs next to `flatc --cpp`:
//
//   flatc --cpp --gen-name-strings -I fbs -o gen fbs/example/calculator.fbs
//   natsrpc-fbs -I fbs -o gen fbs/example/calculator.fbs
//
// writes gen/calculator.natsrpc.{h,cc} beside flatc's
// gen/calculator_generated.h (always both files, also for a schema without
// rpc_service; see cpp_emitter.h).
//
//   -I <dir>, -I<dir>   include directory, searched in order (then the
//                       schema's own directory, as flatc does)
//   -o <dir>, -o<dir>   output directory (default: the current directory;
//                       created if missing)
//   --generate-mock-code  also write <name>.natsrpc_mock.h and the
//                       ClientInterface (protoc-gen-natsrpc's
//                       generate_mock_code=true; see cpp_emitter.h)
//   -h, --help          usage
//   --version           the natsrpc version
//
// Every schema is parsed and generated before anything is written, so a bad
// schema leaves existing outputs untouched; each file is written to a
// temporary name and renamed into place. Errors go to stderr, one line each,
// starting with the file (and line where known); the exit status is then 1
// (2 for bad usage).

#ifndef NATSRPC_PLUGIN_FBS_COMMAND_H_
#define NATSRPC_PLUGIN_FBS_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace natsrpc::gen {

struct FbsCommandLine {
  std::vector<std::string> include_dirs;
  std::string out_dir = ".";
  std::vector<std::string> schemas;
  bool generate_mock_code = false;
  bool help = false;
  bool version = false;
};

// Parses the arguments after the program name. Unknown options are errors
// naming them.
absl::StatusOr<FbsCommandLine> ParseFbsCommandLine(
    absl::Span<const std::string> args);

// The whole command; returns the exit status.
int RunFbsCommand(absl::Span<const std::string> args, std::ostream& out,
                  std::ostream& err);

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_FBS_COMMAND_H_
