// Copyright 2026 The natsrpc Authors.

#include "generator_options.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/compiler/code_generator.h"

namespace natsrpc::gen {

absl::StatusOr<GeneratorOptions> GeneratorOptions::Parse(
    absl::string_view parameter) {
  GeneratorOptions options;
  std::vector<std::pair<std::string, std::string>> pairs;
  google::protobuf::compiler::ParseGeneratorParameter(std::string(parameter),
                                                      &pairs);
  for (const auto& [key, value] : pairs) {
    if (key == "message_header_extension") {
      if (value.empty() ||
          value.find_first_of("\"\\<>\n\r") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--natsrpc_opt key \"message_header_extension\": \"", value,
            "\" is not a header file suffix such as \".pb.h\""));
      }
      options.message_header_extension = value;
    } else if (key == "generate_mock_code") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("--natsrpc_opt key \"generate_mock_code\": \"", value,
                         "\" is not true or false"));
      }
      options.generate_mock_code = value == "true";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown --natsrpc_opt key \"", key,
                       "\" (known keys: message_header_extension, "
                       "generate_mock_code)"));
    }
  }
  return options;
}

}  // namespace natsrpc::gen
