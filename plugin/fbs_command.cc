// Copyright 2026 The natsrpc Authors.

#include "fbs_command.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cpp_emitter.h"
#include "fbs_front_end.h"
#include "natsrpc/version.h"

namespace natsrpc::gen {
namespace {

constexpr char kUsage[] =
    "usage: natsrpc-fbs [-I <dir>]... [-o <dir>] [--generate-mock-code]\n"
    "                   <schema.fbs>...\n"
    "Generates <name>.natsrpc.h and <name>.natsrpc.cc (natsrpc client stubs\n"
    "and service skeletons) for each schema's rpc_services, beside the\n"
    "<name>_generated.h of `flatc --cpp --gen-name-strings` run with the\n"
    "same arguments.\n"
    "  -I <dir>     include directory (searched in order, then the schema's\n"
    "               own directory)\n"
    "  -o <dir>     output directory (default: .)\n"
    "  --generate-mock-code\n"
    "               also the ClientInterface and <name>.natsrpc_mock.h\n"
    "               (gMock mocks of the clients)\n"
    "  -h, --help   this text\n"
    "  --version    print the version\n";

absl::Status WriteFile(const std::filesystem::path& path,
                       const std::string& content) {
  const std::filesystem::path tmp =
      path.string() + absl::StrCat(".tmp", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      return absl::UnavailableError(
          absl::StrCat(tmp.string(), ": cannot write the file"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::UnavailableError(
        absl::StrCat(path.string(), ": cannot write the file"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FbsCommandLine> ParseFbsCommandLine(
    absl::Span<const std::string> args) {
  FbsCommandLine line;
  bool out_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](absl::string_view flag) -> absl::StatusOr<std::string> {
      if (arg.size() > flag.size()) return arg.substr(flag.size());
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option ", flag, " needs a directory"));
      }
      return args[++i];
    };
    if (arg == "-h" || arg == "--help") {
      line.help = true;
    } else if (arg == "--version") {
      line.version = true;
    } else if (arg == "--generate-mock-code") {
      line.generate_mock_code = true;
    } else if (absl::StartsWith(arg, "-I")) {
      absl::StatusOr<std::string> dir = value("-I");
      if (!dir.ok()) return dir.status();
      line.include_dirs.push_back(*dir);
    } else if (absl::StartsWith(arg, "-o")) {
      if (out_given) {
        return absl::InvalidArgumentError("option -o given twice");
      }
      absl::StatusOr<std::string> dir = value("-o");
      if (!dir.ok()) return dir.status();
      line.out_dir = *dir;
      out_given = true;
    } else if (absl::StartsWith(arg, "-") && arg != "-") {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
    } else {
      line.schemas.push_back(arg);
    }
  }
  if (line.schemas.empty() && !line.help && !line.version) {
    return absl::InvalidArgumentError("no schema files given");
  }
  return line;
}

int RunFbsCommand(absl::Span<const std::string> args, std::ostream& out,
                  std::ostream& err) {
  absl::StatusOr<FbsCommandLine> line = ParseFbsCommandLine(args);
  if (!line.ok()) {
    err << "natsrpc-fbs: " << line.status().message() << "\n" << kUsage;
    return 2;
  }
  if (line->help) {
    out << kUsage;
    return 0;
  }
  if (line->version) {
    out << "natsrpc-fbs " << NATSRPC_VERSION_MAJOR << "."
        << NATSRPC_VERSION_MINOR << "." << NATSRPC_VERSION_PATCH << "\n";
    return 0;
  }

  // Everything in memory first: a bad schema writes nothing.
  std::vector<GeneratedFiles> generated;
  bool failed = false;
  for (const std::string& schema : line->schemas) {
    absl::StatusOr<ServiceModel> model =
        BuildFbsModel(schema, line->include_dirs);
    if (!model.ok()) {
      err << model.status().message() << "\n";
      failed = true;
      continue;
    }
    absl::StatusOr<GeneratedFiles> files =
        EmitCpp(*model, {.mock_code = line->generate_mock_code});
    if (!files.ok()) {
      err << files.status().message() << "\n";
      failed = true;
      continue;
    }
    for (const GeneratedFiles& g : generated) {
      if (g.header_name == files->header_name) {
        err << schema << ": its outputs " << files->header_name << " and "
            << files->source_name
            << " are also those of another schema given (outputs are named "
               "after the schema's base name, as flatc's)\n";
        failed = true;
      }
    }
    generated.push_back(*std::move(files));
  }
  if (failed) return 1;

  const std::filesystem::path dir(line->out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    err << line->out_dir
        << ": cannot create the output directory: " << ec.message() << "\n";
    return 1;
  }
  for (const GeneratedFiles& g : generated) {
    for (const auto& [name, content] :
         {std::pair{&g.header_name, &g.header},
          std::pair{&g.source_name, &g.source},
          std::pair{&g.mock_header_name, &g.mock_header}}) {
      if (name->empty()) continue;  // no mock header asked for
      if (absl::Status s = WriteFile(dir / *name, *content); !s.ok()) {
        err << s.message() << "\n";
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace natsrpc::gen
