// Copyright 2026 The natsrpc Authors.
//
// FlatBuffers services for the natsrpc tool: a binary schema (`.bfbs`,
// reflection.fbs's Schema, what a FlatBuffers service sends as its schema,
// docs/protocol.md section 12) described in .fbs syntax, and JSON turned into
// and out of its tables with flatbuffers' Parser loaded from the same schema
// (Parser::Deserialize).

#ifndef NATSRPC_TOOLS_NATSRPC_FBS_SCHEMA_H_
#define NATSRPC_TOOLS_NATSRPC_FBS_SCHEMA_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reflection {
struct Schema;
}  // namespace reflection

namespace natsrpc::cli {

class FbsSchema {
 public:
  struct Method {
    std::string name;
    std::string request_type;  // fully qualified, e.g. example.v1.AddRequest
    std::string response_type;
    // The `streaming` attribute's value ("server", "client", "bidi"), empty
    // for a unary method.
    std::string streaming;
  };

  // INVALID_ARGUMENT if `bytes` is not a valid binary schema.
  static absl::StatusOr<std::unique_ptr<FbsSchema>> FromBinarySchema(
      std::string bytes);

  // A method of `service` (full or simple name). NOT_FOUND naming the
  // services or methods there are.
  absl::StatusOr<Method> FindMethod(absl::string_view service,
                                    absl::string_view method) const;
  // The service (or one method, if `method` is not empty) and the tables
  // its methods use, in .fbs syntax.
  absl::StatusOr<std::string> Describe(absl::string_view service,
                                       absl::string_view method) const;
  // JSON -> a finished buffer of table `type`; INVALID_ARGUMENT with the
  // parser's message.
  absl::StatusOr<std::string> JsonToBinary(absl::string_view type,
                                           absl::string_view json) const;
  // A buffer of table `type` -> one line of JSON; INVALID_ARGUMENT if the
  // buffer does not verify.
  absl::StatusOr<std::string> BinaryToJson(absl::string_view type,
                                           absl::string_view bytes) const;

 private:
  explicit FbsSchema(std::string bytes);
  const reflection::Schema& schema() const;

  std::string bytes_;
};

}  // namespace natsrpc::cli

#endif  // NATSRPC_TOOLS_NATSRPC_FBS_SCHEMA_H_
