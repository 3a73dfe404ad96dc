// The streaming example client: downloads a file (server stream, blocking
// and with a callback reactor), uploads it back (client stream), chats with
// the server's bot (bidi stream) and cancels a download midway.
//
// With streaming_server running (see server.cc; scripts/demo.sh does all of
// it):
//
//   build/examples/streaming_client --url nats://127.0.0.1:4222 --requester
//   alice --responder bob
//
// prints
//
//   Download(sample.bin): 1048576 bytes in 64 chunks, fnv1a fa97863250cb6cdd
//   Upload(copy.bin): 1048576 bytes in 32 chunks, server's fnv1a matches
//   DownloadAsync(copy.bin): 1048576 bytes in 64 chunks, fnv1a matches
//   Chat: bot: heard alice say 1 word
//   Chat: bot: heard alice say 3 words
//   Chat: bot: heard alice say 5 words
//   Chat: OK
//   Download(missing.txt) -> NOT_FOUND: no file named "missing.txt" (as
//   expected) Download(sample.bin) cancelled after 3 chunks -> CANCELLED (as
//   expected)
//
// and exits 0. Any other outcome exits 1.

#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "checksum.h"
#include "example/v1/streaming.natsrpc.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222", "NATS server URL");
ABSL_FLAG(std::string, requester, "alice", "who calls");
ABSL_FLAG(std::string, responder, "bob", "who is called");

namespace {

using ::example::v1::ChatMessage;
using ::example::v1::ChatRoom;
using ::example::v1::Chunk;
using ::example::v1::DownloadRequest;
using ::example::v1::FileStore;
using ::example::v1::UploadReply;
using ::example_streaming::Fnv1a;

bool failed = false;

void Print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

void Fail(const std::string& line) {
  Print(line);
  failed = true;
}

DownloadRequest Request(const std::string& name, int chunk_size = 0) {
  DownloadRequest request;
  request.set_name(name);
  request.set_chunk_size(chunk_size);
  return request;
}

// The callback form: the runtime calls OnReadDone per chunk and OnDone once.
class Downloader final : public natsrpc::ClientReadReactor<Chunk> {
 public:
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the end; OnDone follows
    data += chunk_.data();
    ++chunks;
    StartRead(&chunk_);
  }
  void OnDone(const absl::Status& s) override {
    status = s;
    done.Notify();
  }
  void Begin() { StartRead(&chunk_); }

  std::string data;
  int chunks = 0;
  absl::Status status;
  absl::Notification done;

 private:
  Chunk chunk_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Calls example.v1.FileStore and example.v1.ChatRoom over NATS.");
  absl::ParseCommandLine(argc, argv);
  const std::string url = absl::GetFlag(FLAGS_url);

  absl::StatusOr<natsrpc::Connection> connection =
      natsrpc::Connect(natsrpc::ConnectOptions{.url = url});
  if (!connection.ok()) {
    Print(absl::StrCat("cannot connect to ", url, ": ",
                       connection.status().ToString()));
    return 1;
  }
  const natsrpc::ClientOptions options{
      .requester = absl::GetFlag(FLAGS_requester),
      .responder = absl::GetFlag(FLAGS_responder)};
  FileStore::Client files(*connection, options);
  ChatRoom::Client chat(*connection, options);

  // 1. Server stream, blocking: read chunks until Read() returns false, then
  //    Finish() gives the server's status.
  std::string data;
  int chunks = 0;
  {
    auto reader = files.Download(Request("sample.bin"));
    Chunk chunk;
    while (reader->Read(&chunk)) {
      if (chunk.offset() != static_cast<int64_t>(data.size())) {
        Fail(absl::StrCat("chunk at ", chunk.offset(), ", expected ",
                          data.size()));
      }
      data += chunk.data();
      ++chunks;
    }
    absl::Status status = reader->Finish();
    if (!status.ok()) {
      Fail(absl::StrCat("Download(sample.bin) -> ", status.ToString()));
      return 1;
    }
  }
  Fnv1a checksum;
  checksum.Add(data);
  Print(absl::StrCat("Download(sample.bin): ", data.size(), " bytes in ",
                     chunks, " chunks, fnv1a ", checksum.Hex()));

  // 2. Client stream: write chunks, then Finish() gives the one reply. The
  //    file name travels as request metadata.
  {
    auto writer = files.Upload(
        natsrpc::CallOptions{.timeout = absl::Seconds(30),
                             .metadata = {{"x-file-name", "copy.bin"}}});
    constexpr size_t kChunk = 32768;
    int sent = 0;
    for (size_t offset = 0; offset < data.size(); offset += kChunk) {
      Chunk chunk;
      chunk.set_offset(static_cast<int64_t>(offset));
      chunk.set_data(data.substr(offset, kChunk));
      if (!writer->Write(chunk)) break;  // Finish() tells why
      ++sent;
    }
    absl::StatusOr<UploadReply> reply = writer->Finish();
    if (!reply.ok()) {
      Fail(absl::StrCat("Upload(copy.bin) -> ", reply.status().ToString()));
    } else if (reply->checksum() != checksum.Hex() ||
               reply->size() != static_cast<int64_t>(data.size())) {
      Fail(absl::StrCat("Upload(copy.bin): server has ", reply->size(),
                        " bytes, fnv1a ", reply->checksum()));
    } else {
      Print(absl::StrCat("Upload(copy.bin): ", reply->size(), " bytes in ",
                         sent, " chunks, server's fnv1a matches"));
    }
  }

  // 3. Server stream, callback form.
  {
    Downloader downloader;
    files.DownloadAsync(Request("copy.bin"), &downloader);
    downloader.Begin();
    if (!downloader.done.WaitForNotificationWithTimeout(absl::Seconds(30))) {
      Fail("DownloadAsync(copy.bin): no end within 30 s");
      return 1;
    }
    if (!downloader.status.ok() || downloader.data != data) {
      Fail(absl::StrCat("DownloadAsync(copy.bin) -> ",
                        downloader.status.ToString(), ", ",
                        downloader.data.size(), " bytes"));
    } else {
      Print(absl::StrCat("DownloadAsync(copy.bin): ", downloader.data.size(),
                         " bytes in ", downloader.chunks,
                         " chunks, fnv1a matches"));
    }
  }

  // 4. Bidi stream: a writer and a reader on one stream; here one thread
  //    alternates, another program could read on a second thread.
  {
    auto stream = chat.Chat();
    for (const char* text :
         {"hello", "how are you", "one two three four five"}) {
      ChatMessage out;
      out.set_from(options.requester);
      out.set_text(text);
      ChatMessage in;
      if (!stream->Write(out) || !stream->Read(&in)) break;
      Print(absl::StrCat("Chat: ", in.from(), ": ", in.text()));
    }
    stream->WritesDone();
    absl::Status status = stream->Finish();
    if (status.ok()) {
      Print("Chat: OK");
    } else {
      Fail(absl::StrCat("Chat -> ", status.ToString()));
    }
  }

  // 5. The server's error ends the stream.
  {
    auto reader = files.Download(Request("missing.txt"));
    Chunk chunk;
    while (reader->Read(&chunk)) {
    }
    absl::Status status = reader->Finish();
    if (status.code() == absl::StatusCode::kNotFound) {
      Print(absl::StrCat("Download(missing.txt) -> ", status.ToString(),
                         " (as expected)"));
    } else {
      Fail(absl::StrCat("Download(missing.txt) -> ", status.ToString()));
    }
  }

  // 6. Cancelling midway: the server's writer fails and its handler ends.
  {
    auto reader = files.Download(Request("sample.bin", 1024));
    Chunk chunk;
    int read = 0;
    while (read < 3 && reader->Read(&chunk)) ++read;
    reader->Cancel();
    absl::Status status = reader->Finish();
    if (status.code() == absl::StatusCode::kCancelled && read == 3) {
      Print(absl::StrCat("Download(sample.bin) cancelled after ", read,
                         " chunks -> ", absl::StatusCodeToString(status.code()),
                         " (as expected)"));
    } else {
      Fail(absl::StrCat("Download(sample.bin) cancel -> ", status.ToString(),
                        " after ", read, " chunks"));
    }
  }
  return failed ? 1 : 0;
}
