// The streaming example server: example.v1.FileStore (a server stream and a
// client stream) and example.v1.ChatRoom (a bidi stream) for one responder,
// until Ctrl-C or SIGTERM.
//
// Start a NATS server, then this program (scripts/demo.sh does all of it):
//
//   nats-server -a 127.0.0.1 -p 4222 &
//   build/examples/streaming_server --url nats://127.0.0.1:4222 --responder bob
//
// It serves one file, sample.bin (1 MiB), keeps uploaded files in memory,
// and prints one line when it is ready and one per stream it ends, e.g. for
// streaming_client:
//
//   streaming_server: bob serving FileStore and ChatRoom on
//   nats://127.0.0.1:4222 alice: Download(sample.bin) sent 1048576 bytes in 64
//   chunks alice: Upload(copy.bin) stored 1048576 bytes in 32 chunks alice:
//   Download(copy.bin) sent 1048576 bytes in 64 chunks alice: Chat ended after
//   3 messages alice: Download(missing.txt) -> NOT_FOUND: no file named
//   "missing.txt" alice: Download(sample.bin) -> CANCELLED: the client went
//   away

#include <pthread.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "checksum.h"
#include "example/v1/streaming.natsrpc.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222", "NATS server URL");
ABSL_FLAG(std::string, responder, "bob", "who this server answers for");

namespace {

using ::example::v1::ChatMessage;
using ::example::v1::ChatRoom;
using ::example::v1::Chunk;
using ::example::v1::DownloadRequest;
using ::example::v1::FileStore;
using ::example::v1::UploadReply;
using ::example_streaming::Fnv1a;
using ::natsrpc::ProtobufCodec;

void Print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

absl::Status Log(const natsrpc::ServerContext& context, const std::string& call,
                 absl::Status status, const std::string& result) {
  Print(absl::StrCat(context.requester(), ": ", call, " ",
                     status.ok() ? result : "-> " + status.ToString()));
  return status;
}

class FileStoreImpl final : public FileStore::Service {
 public:
  FileStoreImpl() {
    files_["sample.bin"] = std::make_shared<const std::string>(
        example_streaming::SampleFile(1 << 20));
  }

  absl::Status Download(
      natsrpc::ServerContext& context, const DownloadRequest& request,
      natsrpc::ServerWriter<Chunk, ProtobufCodec>& writer) override {
    const std::string call = absl::StrCat("Download(", request.name(), ")");
    std::shared_ptr<const std::string> file;
    {
      absl::MutexLock lock(&mu_);
      auto it = files_.find(request.name());
      if (it != files_.end()) file = it->second;
    }
    if (file == nullptr) {
      return Log(context, call,
                 absl::NotFoundError(
                     absl::StrCat("no file named \"", request.name(), "\"")),
                 "");
    }
    const size_t chunk_size = request.chunk_size() > 0
                                  ? static_cast<size_t>(request.chunk_size())
                                  : 16384;
    int chunks = 0;
    for (size_t offset = 0; offset < file->size(); offset += chunk_size) {
      Chunk chunk;
      chunk.set_offset(static_cast<int64_t>(offset));
      chunk.set_data(file->substr(offset, chunk_size));
      // Waits while the client has a window of unread chunks; false once
      // the client cancelled or went away.
      if (!writer.Write(chunk)) {
        return Log(context, call, absl::CancelledError("the client went away"),
                   "");
      }
      ++chunks;
    }
    return Log(
        context, call, absl::OkStatus(),
        absl::StrCat("sent ", file->size(), " bytes in ", chunks, " chunks"));
  }

  absl::Status Upload(natsrpc::ServerContext& context,
                      natsrpc::ServerReader<Chunk, ProtobufCodec>& reader,
                      UploadReply& reply) override {
    const std::string name(context.metadata("x-file-name").value_or(""));
    const std::string call = absl::StrCat("Upload(", name, ")");
    if (name.empty()) {
      return Log(context, call,
                 absl::InvalidArgumentError("no x-file-name metadata"), "");
    }
    std::string data;
    Fnv1a checksum;
    Chunk chunk;
    int chunks = 0;
    while (reader.Read(&chunk)) {
      if (chunk.offset() != static_cast<int64_t>(data.size())) {
        return Log(context, call,
                   absl::InvalidArgumentError(
                       absl::StrCat("chunk at offset ", chunk.offset(),
                                    ", expected ", data.size())),
                   "");
      }
      data += chunk.data();
      checksum.Add(chunk.data());
      ++chunks;
    }
    if (context.IsCancelled()) {
      return Log(context, call, absl::CancelledError("upload abandoned"), "");
    }
    reply.set_size(static_cast<int64_t>(data.size()));
    reply.set_checksum(checksum.Hex());
    {
      absl::MutexLock lock(&mu_);
      files_[name] = std::make_shared<const std::string>(std::move(data));
    }
    return Log(
        context, call, absl::OkStatus(),
        absl::StrCat("stored ", reply.size(), " bytes in ", chunks, " chunks"));
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const std::string>> files_
      ABSL_GUARDED_BY(mu_);
};

class ChatRoomImpl final : public ChatRoom::Service {
 public:
  absl::Status Chat(
      natsrpc::ServerContext& context,
      natsrpc::ServerReaderWriter<ChatMessage, ChatMessage, ProtobufCodec>&
          stream) override {
    ChatMessage in;
    int count = 0;
    while (stream.Read(&in)) {
      ++count;
      const size_t words =
          std::vector<std::string>(
              absl::StrSplit(in.text(), ' ', absl::SkipEmpty()))
              .size();
      ChatMessage out;
      out.set_from("bot");
      out.set_text(absl::StrCat("heard ", in.from(), " say ", words,
                                words == 1 ? " word" : " words"));
      if (!stream.Write(out)) break;
    }
    absl::Status status = context.IsCancelled()
                              ? absl::CancelledError("the client went away")
                              : absl::OkStatus();
    return Log(context, "Chat", status,
               absl::StrCat("ended after ", count, " messages"));
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves example.v1.FileStore and example.v1.ChatRoom over NATS.");
  absl::ParseCommandLine(argc, argv);
  const std::string url = absl::GetFlag(FLAGS_url);
  const std::string responder = absl::GetFlag(FLAGS_responder);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<natsrpc::Connection> connection =
      natsrpc::Connect(natsrpc::ConnectOptions{.url = url});
  if (!connection.ok()) {
    Print(absl::StrCat("streaming_server: cannot connect to ", url, ": ",
                       connection.status().ToString()));
    return 1;
  }
  FileStoreImpl files;  // the services must outlive the server
  ChatRoomImpl chat;
  natsrpc::Server server(*connection,
                         natsrpc::ServerOptions{.responder = responder});
  for (natsrpc::Service* service :
       std::initializer_list<natsrpc::Service*>{&files, &chat}) {
    if (absl::Status status = server.AddService(*service); !status.ok()) {
      Print(absl::StrCat("streaming_server: ", status.ToString()));
      return 1;
    }
  }
  Print(absl::StrCat("streaming_server: ", responder,
                     " serving FileStore and ChatRoom on ", url));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Shutdown();
  Print(absl::StrCat("streaming_server: stopped by signal ", signal_number));
  return 0;
}
