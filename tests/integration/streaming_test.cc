// Copyright 2026 The natsrpc Authors.
//
// Streaming RPCs through the generated API against a real nats-server that
// this binary starts on a free loopback port (docs/protocol.md section 9):
// flow control with a slow reader, ordering and counts, cancellation from
// both sides, a server process killed mid-stream, deadlines, no responders,
// unary cancellation reaching the handler, the callback reactors, and the
// per-user permissions of protocol section 2.
//
// The binary doubles as the server process of the kill test:
//   natsrpc_streaming_test --serve_streams=nats://127.0.0.1:PORT
// serves StreamService as responder "bob" and prints "ready" once it does.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "exact_status.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/stream.h"
#include "natsrpc/testing/v1/stream_service.natsrpc.h"
#include "test_connect.h"

extern char** environ;

namespace natsrpc {
namespace {

using ::testing::HasSubstr;
namespace tv1 = ::natsrpc::testing::v1;

constexpr absl::Duration kWait = absl::Seconds(20);  // bound on any wait
constexpr uint32_t kWindow = 16;

tv1::Item MakeItem(int64_t seq) {
  tv1::Item item;
  item.set_seq(seq);
  return item;
}

// Counts events and lets a test wait (bounded) for a number of them.
class Counter {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++n_;
  }
  int Get() {
    absl::MutexLock lock(&mu_);
    return n_;
  }
  bool WaitFor(int n, absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto reached = [&] {
      mu_.AssertHeld();
      return n_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  absl::Mutex mu_;
  int n_ = 0;
};

// Waits in a handler until the call is cancelled (bounded).
bool AwaitCancellation(const ServerContext& ctx) {
  const absl::Time end = absl::Now() + absl::Seconds(30);
  while (!ctx.IsCancelled()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

class StreamServiceImpl final : public tv1::StreamService::Service {
 public:
  explicit StreamServiceImpl(std::string id) : id_(std::move(id)) {}

  absl::Status Count(ServerContext& ctx, const tv1::CountRequest& req,
                     ServerWriter<tv1::Item, ProtobufCodec>& writer) override {
    const std::string payload(static_cast<size_t>(req.payload_size()), 'x');
    for (int64_t i = 1; i <= req.count(); ++i) {
      if (req.fail_after() > 0 && i > req.fail_after()) {
        if (!req.fail_message().empty()) {
          return testing::WithPayloads(absl::AbortedError(req.fail_message()));
        }
        return absl::AbortedError("failing as asked");
      }
      tv1::Item item = MakeItem(i);
      item.set_payload(payload);
      if (!writer.Write(item)) {
        if (ctx.IsCancelled()) cancelled_seen.Add();
        return absl::CancelledError("the stream is over");
      }
      count_sent.store(i, std::memory_order_release);
    }
    if (req.hold_open()) {
      if (AwaitCancellation(ctx)) cancelled_seen.Add();
      return absl::CancelledError("held open until cancelled");
    }
    return absl::OkStatus();
  }

  absl::Status Sum(ServerContext& ctx,
                   ServerReader<tv1::Item, ProtobufCodec>& reader,
                   tv1::Summary& summary) override {
    tv1::Item item;
    int64_t count = 0, sum = 0;
    while (reader.Read(&item)) {
      if (item.seq() != count + 1) {
        return absl::DataLossError(absl::StrCat("item ", item.seq(), " where ",
                                                count + 1, " was expected"));
      }
      ++count;
      sum += item.seq();
    }
    summary.set_count(count);
    summary.set_sum(sum);
    summary.set_server_id(id_);
    summary.set_tag(std::string(ctx.metadata("x-tag").value_or("")));
    return absl::OkStatus();
  }

  absl::Status Echo(ServerContext& ctx,
                    ServerReaderWriter<tv1::Item, tv1::Item, ProtobufCodec>&
                        stream) override {
    tv1::Item item;
    while (stream.Read(&item)) {
      if (item.seq() < 0) return absl::AbortedError("negative seq");
      if (!stream.Write(item)) break;
    }
    if (ctx.IsCancelled()) {
      cancelled_seen.Add();
      return absl::CancelledError("cancelled");
    }
    return absl::OkStatus();
  }

  absl::Status Block(ServerContext& ctx, const tv1::CountRequest&,
                     tv1::Summary&) override {
    block_started.Add();
    if (AwaitCancellation(ctx)) block_saw_cancel.Add();
    return absl::CancelledError("blocked until cancelled");
  }

  std::atomic<int64_t> count_sent{0};
  Counter cancelled_seen;
  Counter block_started;
  Counter block_saw_cancel;

 private:
  std::string id_;
};

// Implements nothing: every method answers UNIMPLEMENTED.
class EmptyStreamService final : public tv1::StreamService::Service {};

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAll(testing::NatsServer::Options(), {}, {}); }

  void StartAll(testing::NatsServer::Options nats_options,
                ConnectOptions client_connect, ConnectOptions server_connect) {
    auto nats = testing::NatsServer::Start(std::move(nats_options));
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    client_connect.url = nats_->url();
    server_connect.url = nats_->url();
    auto server_conn = testing::ConnectForTest(server_connect);
    ASSERT_TRUE(server_conn.ok()) << server_conn.status();
    server_conn_.emplace(*std::move(server_conn));
    auto client_conn = testing::ConnectForTest(client_connect);
    ASSERT_TRUE(client_conn.ok()) << client_conn.status();
    client_conn_.emplace(*std::move(client_conn));
    server_ = std::make_unique<Server>(
        *server_conn_,
        ServerOptions{.responder = "bob",
                      .min_stream_heartbeat = absl::Milliseconds(50)});
    ASSERT_TRUE(server_->AddService(impl_).ok());
    client_ = NewClient("bob");
  }

  std::unique_ptr<tv1::StreamService::Client> NewClient(
      std::string responder, absl::Duration heartbeat = absl::Seconds(5)) {
    return std::make_unique<tv1::StreamService::Client>(
        *client_conn_, ClientOptions{.requester = "alice",
                                     .responder = std::move(responder),
                                     .stream_window = kWindow,
                                     .stream_heartbeat = heartbeat});
  }

  void TearDown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown();
  }

  std::unique_ptr<testing::NatsServer> nats_;
  std::optional<Connection> server_conn_;
  std::optional<Connection> client_conn_;
  StreamServiceImpl impl_{"server-1"};
  std::unique_ptr<Server> server_;
  std::unique_ptr<tv1::StreamService::Client> client_;
};

TEST_F(StreamingTest, ServerStreamOf100kWithSlowReaderStaysInsideTheWindow) {
  constexpr int64_t kCount = 100000;
  tv1::CountRequest req;
  req.set_count(kCount);
  req.set_payload_size(16);
  auto reader = client_->Count(req);
  tv1::Item item;
  int64_t n = 0;
  int64_t most_ahead = 0;  // messages the server wrote beyond our reads
  while (reader->Read(&item)) {
    ++n;
    ASSERT_EQ(item.seq(), n);
    most_ahead = std::max(most_ahead,
                          impl_.count_sent.load(std::memory_order_acquire) - n);
    // A slow reader: the server fills the window during each pause and then
    // must wait for credit.
    if (n % 1000 == 0) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, kCount);
  // The server never had more than the window of unread messages at the
  // reader, and it did fill it.
  EXPECT_EQ(most_ahead, static_cast<int64_t>(kWindow));
  const StreamStats stats = reader->stats();
  EXPECT_EQ(stats.window, kWindow);
  EXPECT_LE(stats.max_buffered, kWindow);
  EXPECT_EQ(stats.received, static_cast<uint64_t>(kCount));
  // Stated in bytes (revision 5, docs/protocol.md 9.5.1): at most the byte
  // window plus one message of payload; here the message window binds.
  EXPECT_EQ(stats.window_bytes, 1u << 20);
  EXPECT_LE(stats.max_buffered_bytes,
            kWindow * static_cast<uint64_t>(item.ByteSizeLong() + 8));
  std::cout << "100k stream: most written ahead of the reader " << most_ahead
            << ", most buffered " << stats.max_buffered << " messages, "
            << stats.max_buffered_bytes << " bytes (window " << kWindow
            << ")\n";
}

// Revision 5 with the default windows (1024 messages, 1 MiB): a slow reader
// of 16 KB messages holds at most 1 MiB plus one message, the server stops
// there, and nothing is lost.
TEST_F(StreamingTest, SlowReaderOfLargeMessagesIsBoundedInBytes) {
  constexpr int64_t kCount = 400;
  constexpr uint64_t kWindowBytes = uint64_t{1} << 20;
  tv1::StreamService::Client client(
      *client_conn_,
      ClientOptions{.requester = "alice", .responder = "bob"});  // defaults
  tv1::CountRequest req;
  req.set_count(kCount);
  req.set_payload_size(16384);
  auto reader = client.Count(req);
  // Read nothing until the server stops for lack of byte credit: 64
  // messages of a little over 16 KB reach 1 MiB (the 16 of the open's
  // message credit are raised once the first message is read).
  tv1::Item item;
  ASSERT_TRUE(reader->Read(&item));
  // 1 read + 64 buffered: 64 * 16389 B >= 1 MiB + 16389 B granted.
  const absl::Time until = absl::Now() + kWait;
  while (reader->stats().received < 65 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(reader->stats().received, 65u)
      << "the server never filled the byte window";
  // And it stopped there (it may be blocked in its 66th Write).
  EXPECT_LE(impl_.count_sent.load(std::memory_order_acquire), 65);
  int64_t n = 1;
  int64_t most_ahead = 0;
  while (reader->Read(&item)) {
    ++n;
    ASSERT_EQ(item.seq(), n);
    most_ahead = std::max(most_ahead,
                          impl_.count_sent.load(std::memory_order_acquire) - n);
    if (n % 64 == 0) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, kCount);
  const StreamStats stats = reader->stats();
  EXPECT_EQ(stats.window, 1024u);
  EXPECT_EQ(stats.window_bytes, kWindowBytes);
  const uint64_t message = item.ByteSizeLong();
  EXPECT_LE(stats.max_buffered_bytes, kWindowBytes + message);
  EXPECT_GE(stats.max_buffered_bytes, kWindowBytes - message);
  EXPECT_LE(most_ahead, static_cast<int64_t>(kWindowBytes / message) + 1);
  std::cout << "16 KB stream: most buffered " << stats.max_buffered
            << " messages, " << stats.max_buffered_bytes
            << " bytes (byte window " << kWindowBytes << ")\n";
}

TEST_F(StreamingTest, ClientStreamArrivesInOrderAndCounted) {
  auto writer = client_->Sum();
  for (int64_t i = 1; i <= 1000; ++i) ASSERT_TRUE(writer->Write(MakeItem(i)));
  absl::StatusOr<tv1::Summary> summary = writer->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->count(), 1000);
  EXPECT_EQ(summary->sum(), 500500);
  EXPECT_EQ(summary->server_id(), "server-1");
}

TEST_F(StreamingTest, RequestMetadataReachesTheStreamHandler) {
  auto writer = client_->Sum(CallOptions{.metadata = {{"x-tag", "t-42"}}});
  ASSERT_TRUE(writer->Write(MakeItem(1)));
  absl::StatusOr<tv1::Summary> summary = writer->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->tag(), "t-42");
}

TEST_F(StreamingTest, ServerShutdownEndsOpenStreamsWithUnavailable) {
  tv1::CountRequest req;
  req.set_count(3);
  req.set_hold_open(true);
  auto reader = client_->Count(req);
  tv1::Item item;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader->Read(&item));
  server_->Shutdown();  // returns once the handler has ended
  EXPECT_EQ(impl_.cancelled_seen.Get(), 1);
  EXPECT_FALSE(reader->Read(&item));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kUnavailable);
}

TEST_F(StreamingTest, EmptyClientStream) {
  auto writer = client_->Sum();
  absl::StatusOr<tv1::Summary> summary = writer->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->count(), 0);
}

TEST_F(StreamingTest, BidiEchoKeepsOrderAndCount) {
  constexpr int64_t kCount = 5000;
  auto stream = client_->Echo();
  std::thread writer([&] {
    for (int64_t i = 1; i <= kCount; ++i) {
      if (!stream->Write(MakeItem(i))) return;
    }
    stream->WritesDone();
  });
  tv1::Item item;
  int64_t n = 0;
  int64_t out_of_order = 0;
  while (stream->Read(&item)) {
    ++n;
    if (item.seq() != n && out_of_order++ == 0) {
      ADD_FAILURE() << "item " << item.seq() << " where " << n
                    << " was expected";
    }
  }
  writer.join();
  EXPECT_EQ(out_of_order, 0);
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(n, kCount);
  EXPECT_EQ(stream->stats().sent, static_cast<uint64_t>(kCount));
  EXPECT_LE(stream->stats().max_buffered, kWindow);
}

TEST_F(StreamingTest, ClientCancelReachesTheServerHandler) {
  tv1::CountRequest req;
  req.set_count(1000000000);
  auto reader = client_->Count(req);
  tv1::Item item;
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(reader->Read(&item));
    EXPECT_EQ(item.seq(), i);
  }
  reader->Cancel();
  while (reader->Read(&item)) {
  }
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kCancelled);
  // The handler's writer fails and its context reports the cancellation.
  EXPECT_TRUE(impl_.cancelled_seen.WaitFor(1));
}

TEST_F(StreamingTest, ClientCancelOfBidiReachesTheServerHandler) {
  auto stream = client_->Echo();
  ASSERT_TRUE(stream->Write(MakeItem(1)));
  tv1::Item item;
  ASSERT_TRUE(stream->Read(&item));
  stream->Cancel();
  EXPECT_FALSE(stream->Write(MakeItem(2)));
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(impl_.cancelled_seen.WaitFor(1));
}

TEST_F(StreamingTest, ServerEndsTheStreamEarlyWithAnError) {
  tv1::CountRequest req;
  req.set_count(1000);
  req.set_fail_after(50);
  auto reader = client_->Count(req);
  tv1::Item item;
  int n = 0;
  while (reader->Read(&item)) ++n;
  EXPECT_EQ(n, 50);
  absl::Status s = reader->Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(s.message(), "failing as asked");

  // The exact status of a stream's end (docs/protocol.md 4.1).
  req.set_fail_message(std::string(testing::kSpecialStatusMessage));
  auto exact = client_->Count(req);
  while (exact->Read(&item)) {
  }
  testing::ExpectExact(exact->Finish(), absl::StatusCode::kAborted,
                       testing::kSpecialStatusMessage);

  // Bidi: the handler gives up while the client still writes.
  auto stream = client_->Echo();
  ASSERT_TRUE(stream->Write(MakeItem(-1)));
  EXPECT_FALSE(stream->Read(&item));
  EXPECT_FALSE(stream->Write(MakeItem(2)));
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kAborted);
}

TEST_F(StreamingTest, StreamDeadline) {
  tv1::CountRequest req;
  req.set_count(3);
  req.set_hold_open(true);
  const absl::Time start = absl::Now();
  auto reader =
      client_->Count(req, CallOptions{.timeout = absl::Milliseconds(300)});
  tv1::Item item;
  int n = 0;
  while (reader->Read(&item)) ++n;
  EXPECT_EQ(n, 3);
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kDeadlineExceeded);
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(5));
  // The server's handler is cancelled too.
  EXPECT_TRUE(impl_.cancelled_seen.WaitFor(1));
}

TEST_F(StreamingTest, NoRespondersAtOpen) {
  auto nobody = NewClient("nobody");
  tv1::CountRequest req;
  req.set_count(1);
  const absl::Time start = absl::Now();
  auto reader = nobody->Count(req);
  tv1::Item item;
  EXPECT_FALSE(reader->Read(&item));
  absl::Status s = reader->Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr("no responders"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  auto writer = nobody->Sum();
  EXPECT_EQ(writer->Finish().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(StreamingTest, UnimplementedStreamingMethods) {
  EmptyStreamService empty;
  Server other(*server_conn_, ServerOptions{.responder = "empty"});
  ASSERT_TRUE(other.AddService(empty).ok());
  auto client = NewClient("empty");
  auto reader = client->Count(tv1::CountRequest());
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kUnimplemented);
  auto writer = client->Sum();
  EXPECT_EQ(writer->Finish().status().code(), absl::StatusCode::kUnimplemented);
  auto stream = client->Echo();
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(StreamingTest, UnaryCancelIsSeenByTheRunningHandler) {
  absl::Notification done;
  absl::Status result;
  CallHandle handle = client_->BlockAsync(
      tv1::CountRequest(),
      [&](absl::StatusOr<tv1::Summary> r) {
        result = r.status();
        done.Notify();
      },
      CallOptions{.timeout = absl::Seconds(30)});
  ASSERT_TRUE(impl_.block_started.WaitFor(1));
  EXPECT_TRUE(handle.Cancel());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(impl_.block_saw_cancel.WaitFor(1));
  EXPECT_GE(server_->stats().cancelled, 1u);
}

// The reactors: every call completes through OnDone exactly once.
class CountReader final : public ClientReadReactor<tv1::Item> {
 public:
  void OnReadDone(bool ok) override {
    if (!ok) return;
    ++n;
    if (item.seq() != n) in_order = false;
    StartRead(&item);
  }
  void OnDone(const absl::Status& s) override {
    status = s;
    done.Notify();
  }
  tv1::Item item;
  int64_t n = 0;
  bool in_order = true;
  absl::Status status;
  absl::Notification done;
};

class SumWriter final : public ClientWriteReactor<tv1::Item, tv1::Summary> {
 public:
  explicit SumWriter(int64_t count) : count_(count) {}
  void Begin() { Next(); }
  void OnWriteDone(bool ok) override {
    if (ok) Next();
  }
  void OnDone(absl::StatusOr<tv1::Summary> r) override {
    result = std::move(r);
    done.Notify();
  }
  absl::StatusOr<tv1::Summary> result;
  absl::Notification done;

 private:
  void Next() {
    if (written_ == count_) {
      StartWritesDone();
      return;
    }
    StartWrite(MakeItem(++written_));
  }
  const int64_t count_;
  int64_t written_ = 0;
};

class EchoBidi final : public ClientBidiReactor<tv1::Item, tv1::Item> {
 public:
  explicit EchoBidi(int64_t count) : count_(count) {}
  void Begin() {
    StartRead(&in_);
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (ok) Next();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    ++read;
    if (in_.seq() != read) in_order = false;
    StartRead(&in_);
  }
  void OnDone(const absl::Status& s) override {
    status = s;
    done.Notify();
  }
  int64_t read = 0;
  bool in_order = true;
  absl::Status status;
  absl::Notification done;

 private:
  void Next() {
    if (written_ == count_) {
      StartWritesDone();
      return;
    }
    StartWrite(MakeItem(++written_));
  }
  const int64_t count_;
  int64_t written_ = 0;
  tv1::Item in_;
};

TEST_F(StreamingTest, CallbackReactors) {
  tv1::CountRequest req;
  req.set_count(2000);
  CountReader reader;
  client_->CountAsync(req, &reader);
  reader.StartRead(&reader.item);
  ASSERT_TRUE(reader.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(reader.status.ok()) << reader.status;
  EXPECT_EQ(reader.n, 2000);
  EXPECT_TRUE(reader.in_order);

  SumWriter writer(500);
  client_->SumAsync(&writer);
  writer.Begin();
  ASSERT_TRUE(writer.done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(writer.result.ok()) << writer.result.status();
  EXPECT_EQ(writer.result->count(), 500);
  EXPECT_EQ(writer.result->sum(), 500 * 501 / 2);

  EchoBidi bidi(1000);
  client_->EchoAsync(&bidi);
  bidi.Begin();
  ASSERT_TRUE(bidi.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(bidi.status.ok()) << bidi.status;
  EXPECT_EQ(bidi.read, 1000);
  EXPECT_TRUE(bidi.in_order);

  // A reactor on a responder nobody serves ends at once with UNAVAILABLE.
  auto nobody = NewClient("nobody");
  CountReader lost;
  nobody->CountAsync(req, &lost);
  lost.StartRead(&lost.item);
  ASSERT_TRUE(lost.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(lost.status.code(), absl::StatusCode::kUnavailable);
}

// A line from `fd`, waiting at most `timeout`.
absl::StatusOr<std::string> ReadLine(int fd, absl::Duration timeout) {
  std::string line;
  const absl::Time end = absl::Now() + timeout;
  while (true) {
    const int left = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(end - absl::Now())));
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) {
      return absl::DeadlineExceededError("no line from the child process");
    }
    char c;
    if (read(fd, &c, 1) != 1) {
      return absl::UnavailableError("the child process closed its output");
    }
    if (c == '\n') return line;
    line += c;
  }
}

TEST_F(StreamingTest, ServerProcessKilledMidStreamIsUnavailableWithinLiveness) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  const std::string self = "/proc/self/exe";
  const std::string flag = absl::StrCat("--serve_streams=", nats_->url());
  char* argv[] = {const_cast<char*>(self.c_str()),
                  const_cast<char*>(flag.c_str()), nullptr};
  pid_t child = -1;
  ASSERT_EQ(posix_spawn(&child, self.c_str(), &actions, nullptr, argv, environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  absl::StatusOr<std::string> ready = ReadLine(out[0], kWait);
  close(out[0]);
  ASSERT_TRUE(ready.ok()) << ready.status();
  ASSERT_EQ(*ready, "ready");

  // The child serves responder "child"; heartbeats every 100 ms, so the
  // liveness timeout is 300 ms.
  constexpr absl::Duration kHeartbeat = absl::Milliseconds(100);
  auto client = NewClient("child", kHeartbeat);
  tv1::CountRequest req;
  req.set_count(1000000000);
  auto reader = client->Count(req);
  tv1::Item item;
  for (int i = 1; i <= 100; ++i) ASSERT_TRUE(reader->Read(&item));

  ASSERT_EQ(kill(child, SIGKILL), 0);
  const absl::Time killed = absl::Now();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  while (reader->Read(&item)) {
  }
  const absl::Duration took = absl::Now() - killed;
  absl::Status s = reader->Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // Liveness (3 heartbeats) plus the 100 ms tick and scheduling slack.
  EXPECT_LT(took, 3 * kHeartbeat + absl::Seconds(1));
  std::cout << "server killed: the client saw " << s << " after "
            << absl::FormatDuration(took) << " (liveness timeout "
            << absl::FormatDuration(3 * kHeartbeat) << ")\n";
}

// Collects the messages of one raw subscription.
class RawInbox {
 public:
  absl::Status Subscribe(Transport& transport, const std::string& subject) {
    // A handler that already started may still run after the subscription
    // is destroyed (transport.h): it keeps the state it touches alive.
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        transport.Subscribe(subject, "", [state = state_](MessagePtr m) {
          absl::MutexLock lock(&state->mu);
          state->messages[std::string(m->subject())] = std::move(m);
        });
    if (!sub.ok()) return sub.status();
    sub_ = *std::move(sub);
    return absl::OkStatus();
  }
  // The message received on `subject`, waiting at most kWait.
  MessagePtr Await(const std::string& subject) {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    auto arrived = [&] {
      s.mu.AssertHeld();
      return s.messages.contains(subject);
    };
    if (!s.mu.AwaitWithTimeout(absl::Condition(&arrived), kWait)) {
      return nullptr;
    }
    return s.messages[subject];
  }

 private:
  struct State {
    absl::Mutex mu;
    std::map<std::string, MessagePtr> messages ABSL_GUARDED_BY(mu);
  };
  const std::shared_ptr<State> state_ = std::make_shared<State>();
  std::unique_ptr<Subscription> sub_;
};

TEST_F(StreamingTest,
       MalformedStreamTrafficIsRefusedOrDroppedAndTheServerGoesOn) {
  RawInbox inbox;
  ASSERT_TRUE(
      inbox.Subscribe(client_conn_->transport(), "responses.alice.bob.>").ok());
  const std::string app = tv1::StreamService::kDefaultApp;
  const std::string prefix =
      absl::StrCat("requests.alice.bob.", app, ".StreamService.");
  const std::string reply = absl::StrCat("responses.alice.bob.", app, ".raw.");
  Transport& t = client_conn_->transport();
  const HeaderRef open[] = {{"Natsrpc-Stream", "open"},
                            {"Natsrpc-Credit", "16"}};
  auto code_of = [](const MessagePtr& m) {
    return std::string(m->header("Nats-Service-Error-Code").value_or(""));
  };

  // An open of a unary method: refused with an end, UNIMPLEMENTED (12).
  ASSERT_TRUE(
      t.Publish({prefix + "Block", reply + "1", open, nullptr, ""}).ok());
  MessagePtr m = inbox.Await(reply + "1");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->header("Natsrpc-Stream"), "end");
  EXPECT_EQ(m->header("Natsrpc-Count"), "0");
  EXPECT_EQ(code_of(m), "12");

  // A unary request to a streaming method: a unary error, UNIMPLEMENTED.
  ASSERT_TRUE(t.Publish({prefix + "Count", reply + "2", {}, nullptr, ""}).ok());
  m = inbox.Await(reply + "2");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->header("Natsrpc-Stream").has_value());
  EXPECT_EQ(code_of(m), "12");

  // An open without a credit: refused, INVALID_ARGUMENT (3).
  const HeaderRef no_credit[] = {{"Natsrpc-Stream", "open"}};
  ASSERT_TRUE(
      t.Publish({prefix + "Count", reply + "3", no_credit, nullptr, ""}).ok());
  m = inbox.Await(reply + "3");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(code_of(m), "3");

  // Frames that do not belong on a method subject, and garbage on the
  // instance's stream subjects and the cancel subjects: dropped.
  const HeaderRef msg[] = {{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", "1"}};
  const HeaderRef bogus[] = {{"Natsrpc-Stream", "bogus"}};
  for (const std::string& subject :
       {prefix + "Count", prefix + "Count.someinstance.1",
        prefix + "Count.cancel.x.1", prefix + "Count.cancel.raw.99",
        prefix + "Sum.x.y"}) {
    for (absl::Span<const HeaderRef> headers :
         {absl::Span<const HeaderRef>(msg), absl::Span<const HeaderRef>(bogus),
          absl::Span<const HeaderRef>()}) {
      ASSERT_TRUE(
          t.Publish({subject, reply + "4", headers, nullptr, "\x01\x02junk"})
              .ok());
    }
  }

  // The server still serves, and answered none of the garbage.
  auto writer = client_->Sum();
  ASSERT_TRUE(writer->Write(MakeItem(1)));
  EXPECT_TRUE(writer->Finish().ok());
  EXPECT_EQ(server_->stats().streams_refused, 2u);
  EXPECT_GE(server_->stats().rejected_invalid, 3u);
}

TEST_F(StreamingTest, TooManyOpenStreamsAreRefused) {
  Server tiny(*server_conn_,
              ServerOptions{.responder = "tiny", .max_open_streams = 1});
  StreamServiceImpl impl("tiny");
  ASSERT_TRUE(tiny.AddService(impl).ok());
  auto client = NewClient("tiny");
  tv1::CountRequest req;
  req.set_count(1);
  req.set_hold_open(true);
  auto first = client->Count(req);
  tv1::Item item;
  ASSERT_TRUE(first->Read(&item));
  auto second = client->Count(req);
  EXPECT_FALSE(second->Read(&item));
  EXPECT_EQ(second->Finish().code(), absl::StatusCode::kResourceExhausted);
  first->Cancel();
  EXPECT_TRUE(impl.cancelled_seen.WaitFor(1));
}

// The users and grants of docs/protocol.md section 2, nothing more.
constexpr char kPermissions[] = R"(
authorization {
  users: [
    {user: alice, password: a, permissions: {
      publish: {allow: ["requests.alice.>"]}
      subscribe: {allow: ["responses.alice.>"]}}}
    {user: bob, password: b, permissions: {
      subscribe: {allow: ["requests.*.bob.>"]}
      publish: {allow: ["responses.*.bob.>"]}}}
  ]
}
)";

class StreamingPermissionsTest : public StreamingTest {
 protected:
  void SetUp() override {
    testing::NatsServer::Options options;
    options.config = kPermissions;
    StartAll(std::move(options), {.user = "alice", .password = "a"},
             {.user = "bob", .password = "b"});
    for (Connection* c : {&*client_conn_, &*server_conn_}) {
      c->transport().AddEventListener([this](const TransportEvent& e) {
        // Discovery and health (docs/protocol.md section 11) need grants
        // beyond these; their refused subscriptions are expected.
        if (e.kind == TransportEvent::Kind::kPermissionDenied &&
            !absl::StartsWith(e.subject, "$SRV.") &&
            !absl::StartsWith(e.subject, "natsrpc.health.")) {
          denied_.Add();
        }
      });
    }
  }
  Counter denied_;
};

TEST_F(StreamingPermissionsTest, AllThreeKindsAndCancelWorkUnderTheGrants) {
  tv1::CountRequest req;
  req.set_count(200);
  auto reader = client_->Count(req);
  tv1::Item item;
  int n = 0;
  while (reader->Read(&item)) ++n;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 200);

  auto writer = client_->Sum();
  for (int64_t i = 1; i <= 100; ++i) ASSERT_TRUE(writer->Write(MakeItem(i)));
  absl::StatusOr<tv1::Summary> summary = writer->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->sum(), 5050);

  auto stream = client_->Echo();
  for (int64_t i = 1; i <= 100; ++i) {
    ASSERT_TRUE(stream->Write(MakeItem(i)));
    ASSERT_TRUE(stream->Read(&item));
    EXPECT_EQ(item.seq(), i);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // Cancellation of a stream and of a unary call.
  req.set_count(1000000);
  auto cancelled = client_->Count(req);
  ASSERT_TRUE(cancelled->Read(&item));
  cancelled->Cancel();
  EXPECT_TRUE(impl_.cancelled_seen.WaitFor(1));
  absl::Notification done;
  CallHandle handle = client_->BlockAsync(
      tv1::CountRequest(), [&](absl::StatusOr<tv1::Summary>) { done.Notify(); },
      CallOptions{.timeout = absl::Seconds(30)});
  ASSERT_TRUE(impl_.block_started.WaitFor(1));
  handle.Cancel();
  EXPECT_TRUE(impl_.block_saw_cancel.WaitFor(1));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));

  EXPECT_EQ(denied_.Get(), 0);
}

// The child process of the kill test.
int ServeStreams(const std::string& url) {
  absl::StatusOr<Connection> conn = testing::ConnectForTest({.url = url});
  if (!conn.ok()) {
    std::cerr << conn.status() << "\n";
    return 1;
  }
  StreamServiceImpl impl("child");
  Server server(*conn,
                ServerOptions{.responder = "child",
                              .min_stream_heartbeat = absl::Milliseconds(50)});
  if (absl::Status s = server.AddService(impl); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  // Until the test kills us (or gives up on us).
  absl::SleepFor(absl::Seconds(120));
  return 0;
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  constexpr char kServe[] = "--serve_streams=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kServe, sizeof(kServe) - 1) == 0) {
      return natsrpc::ServeStreams(argv[i] + sizeof(kServe) - 1);
    }
  }
  // Unbuffered, so that a crash still leaves the test's output behind.
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
