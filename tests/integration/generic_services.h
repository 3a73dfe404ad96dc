// Copyright 2026 The natsrpc Authors.
//
// The example services (proto/example/v1/{calculator,streaming}.proto) as the
// generic client's tests serve them in-process (generic_client_test.cc,
// cli_test.cc): the calculator of examples/calculator, a file store and a
// chat room like examples/streaming, and an Echo that answers only once the
// test releases it (for deadlines).

#ifndef NATSRPC_TESTS_INTEGRATION_GENERIC_SERVICES_H_
#define NATSRPC_TESTS_INTEGRATION_GENERIC_SERVICES_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "example/v1/calculator.natsrpc.h"
#include "example/v1/streaming.natsrpc.h"
#include "natsrpc/natsrpc.h"

namespace natsrpc::generic_testing {

class Calculator final : public example::v1::Calculator::Service {
 public:
  absl::Status Add(ServerContext&, const example::v1::AddRequest& req,
                   example::v1::AddReply& reply) override {
    reply.set_sum(req.a() + req.b());
    return absl::OkStatus();
  }
  absl::Status Divide(ServerContext&, const example::v1::DivideRequest& req,
                      example::v1::DivideReply& reply) override {
    if (req.divisor() == 0) {
      return absl::InvalidArgumentError("division by zero");
    }
    reply.set_quotient(req.dividend() / req.divisor());
    reply.set_remainder(req.dividend() % req.divisor());
    return absl::OkStatus();
  }
  // Answers once Release() was called (or after 30 s): calls with a shorter
  // deadline end DEADLINE_EXCEEDED.
  absl::Status Echo(ServerContext&, const example::v1::EchoMessage& req,
                    example::v1::EchoMessage& reply) override {
    release_.WaitForNotificationWithTimeout(absl::Seconds(30));
    reply = req;
    return absl::OkStatus();
  }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  absl::Notification release_;
};

// Download sends a file in chunks; Upload stores one under the
// `x-file-name` metadata. "abc.txt" holds "abcdefghij".
class FileStore final : public example::v1::FileStore::Service {
 public:
  FileStore() { files_["abc.txt"] = "abcdefghij"; }

  absl::Status Download(
      ServerContext&, const example::v1::DownloadRequest& req,
      ServerWriter<example::v1::Chunk, ProtobufCodec>& writer) override {
    std::string file;
    {
      absl::MutexLock lock(&mu_);
      auto it = files_.find(req.name());
      if (it == files_.end()) {
        return absl::NotFoundError(
            absl::StrCat("no file named \"", req.name(), "\""));
      }
      file = it->second;
    }
    const size_t size = req.chunk_size() > 0 ? req.chunk_size() : 16384;
    for (size_t offset = 0; offset < file.size(); offset += size) {
      example::v1::Chunk chunk;
      chunk.set_offset(static_cast<int64_t>(offset));
      chunk.set_data(file.substr(offset, size));
      if (!writer.Write(chunk)) return absl::CancelledError("client gone");
    }
    return absl::OkStatus();
  }

  absl::Status Upload(ServerContext& ctx,
                      ServerReader<example::v1::Chunk, ProtobufCodec>& reader,
                      example::v1::UploadReply& reply) override {
    const std::string name(ctx.metadata("x-file-name").value_or(""));
    if (name.empty()) return absl::InvalidArgumentError("no x-file-name");
    std::string data;
    example::v1::Chunk chunk;
    while (reader.Read(&chunk)) data += chunk.data();
    reply.set_size(static_cast<int64_t>(data.size()));
    reply.set_checksum(absl::StrCat("chunks-of-", name));
    absl::MutexLock lock(&mu_);
    files_[name] = std::move(data);
    return absl::OkStatus();
  }

  std::string File(const std::string& name) {
    absl::MutexLock lock(&mu_);
    return files_[name];
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> files_ ABSL_GUARDED_BY(mu_);
};

// Answers every message with "heard <from> say <n> words".
class ChatRoom final : public example::v1::ChatRoom::Service {
 public:
  absl::Status Chat(
      ServerContext&,
      ServerReaderWriter<example::v1::ChatMessage, example::v1::ChatMessage,
                         ProtobufCodec>& stream) override {
    example::v1::ChatMessage in;
    while (stream.Read(&in)) {
      const size_t words =
          std::vector<std::string>(
              absl::StrSplit(in.text(), ' ', absl::SkipEmpty()))
              .size();
      example::v1::ChatMessage out;
      out.set_from("bot");
      out.set_text(absl::StrCat("heard ", in.from(), " say ", words, " words"));
      if (!stream.Write(out)) break;
    }
    return absl::OkStatus();
  }
};

}  // namespace natsrpc::generic_testing

#endif  // NATSRPC_TESTS_INTEGRATION_GENERIC_SERVICES_H_
