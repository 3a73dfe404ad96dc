// Copyright 2026 The natsrpc Authors.
//
// natsrpc_stream_bench: streams through natsrpc and gRPC C++ (server, client
// and bidi streams), beside raw nats.c one-way publish -> subscriber of the
// same messages, on loopback. See docs/benchmarks.md ("Streams").
//
//   natsrpc_stream_bench [--reps N] [--quick] [--small N] [--large N]
//                        [--no-window16] [--json FILE] [--note TEXT]
//                        [--nats-server PATH]
//   experiments: [--only natsrpc,natsrpc_w16,grpc,raw_oneway,raw_echo]
//                [--kinds server,client,bidi,slow] [--payloads 100,16384]
//                [--window N] [--window-bytes N] (natsrpc's windows)
//
// Each row moves a fixed number of messages through one stream (one call)
// and times it from the call's start to its end: messages/s, MB/s (payload
// bytes) and CPU per message (this process, both ends, + nats-server). A bidi
// row counts the messages the client sends (the server echoes each one);
// its raw nats.c counterpart publishes to an echo subscriber. The
// slow-reader rows read a 16 KB server stream with a pause every 64 messages
// and report the peak growth of this process's resident memory (both ends:
// Linux's VmHWM, reset before the row) and, for natsrpc, the most payload
// bytes the reader held. natsrpc is also measured with a 16-message window
// on both ends (revision 4's credit; --no-window16 skips it), and its rows
// count the writes that waited for credit: flow control's round trips.

#include <nats/nats.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "contender.h"
#include "grpcpp/grpcpp.h"
#include "json_writer.h"
#include "nats_server_process.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc_bench/grpc_stream.grpc.pb.h"
#include "natsrpc_bench/stream.natsrpc.h"

namespace natsrpc_bench {
namespace {

namespace gs = ::natsrpc_bench::grpcstream;
namespace ns = ::natsrpc_bench::stream;

constexpr size_t kSmall = 100;
constexpr size_t kLarge = 16384;
// Slow reader: a pause of this long every kSlowEvery messages.
constexpr auto kSlowPause = std::chrono::milliseconds(1);
constexpr int kSlowEvery = 64;
constexpr int64_t kSlowCount = 4000;  // 16 KB messages: 64 MB in all

int64_t SelfCpuMicros() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000LL +
         u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

// kB of this process's /proc/self/status field `name` ("VmHWM", "VmRSS").
int64_t StatusKb(const std::string& name) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      return std::atoll(line.c_str() + name.size() + 1);
    }
  }
  return -1;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false if not possible.
bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// One measured stream.
struct Result {
  bool ok = false;
  std::string error;
  int64_t messages = 0;
  int64_t bytes = 0;
  double seconds = 0;
  int64_t cpu_us = 0;  // this process + nats-server
  // Slow-reader rows.
  int64_t peak_rss_growth_kb = -1;
  int64_t max_buffered_bytes = -1;  // natsrpc's reader
  int64_t dropped = 0;              // raw nats.c: slow-consumer drops
  // natsrpc: writes that waited for the reader's credit (both ends), the
  // round trips flow control cost.
  int64_t credit_stalls = -1;
};

// What each contender can do; every function runs one stream.
class StreamContender {
 public:
  virtual ~StreamContender() = default;
  virtual std::string id() const = 0;
  virtual std::string label() const = 0;
  virtual absl::Status Setup(const std::string& nats_url) = 0;
  virtual void Teardown() = 0;
  // false: the kind is not measured (raw nats.c has one-way only).
  virtual bool Supports(const std::string& kind) const = 0;
  // kind: "server", "client", "bidi", "slow".
  virtual Result Run(const std::string& kind, int64_t count,
                     const std::string& payload) = 0;
};

// ---------------------------------------------------------------- natsrpc

class NatsrpcStreamService final : public ns::StreamBench::Service {
 public:
  void set_payload(std::string p) { payload_.set_payload(std::move(p)); }

  absl::Status ServerStream(
      natsrpc::ServerContext&, const ns::StreamRequest& request,
      natsrpc::ServerWriter<ns::StreamItem, natsrpc::ProtobufCodec>& writer)
      override {
    ns::StreamItem item;
    item.set_payload(std::string(request.payload_size(), 'x'));
    for (int64_t i = 0; i < request.count(); ++i) {
      if (!writer.Write(item)) return absl::CancelledError("write failed");
    }
    return absl::OkStatus();
  }

  absl::Status ClientStream(
      natsrpc::ServerContext&,
      natsrpc::ServerReader<ns::StreamItem, natsrpc::ProtobufCodec>& reader,
      ns::StreamSummary& summary) override {
    ns::StreamItem item;
    int64_t n = 0, bytes = 0;
    while (reader.Read(&item)) {
      ++n;
      bytes += item.payload().size();
    }
    summary.set_count(n);
    summary.set_bytes(bytes);
    return absl::OkStatus();
  }

  absl::Status Bidi(
      natsrpc::ServerContext&,
      natsrpc::ServerReaderWriter<ns::StreamItem, ns::StreamItem,
                                  natsrpc::ProtobufCodec>& stream) override {
    ns::StreamItem item;
    while (stream.Read(&item)) {
      if (!stream.Write(item)) break;
    }
    return absl::OkStatus();
  }

 private:
  ns::StreamItem payload_;
};

class NatsrpcStreams final : public StreamContender {
 public:
  // window16: both ends set stream_window = 16, which is revision 4's
  // message credit (the 1 MiB byte window never binds at 16 messages): the
  // flow control before revision 5, for an A/B in one run.
  explicit NatsrpcStreams(bool window16 = false, uint32_t window = 0,
                          uint64_t window_bytes = 0)
      : window16_(window16), window_(window), window_bytes_(window_bytes) {}
  std::string id() const override {
    return window16_ ? "natsrpc_w16" : "natsrpc";
  }
  std::string label() const override {
    return window16_ ? "natsrpc, window 16 msgs (revision-4 credit)"
                     : "natsrpc";
  }
  bool Supports(const std::string&) const override { return true; }

  absl::Status Setup(const std::string& url) override {
    natsrpc::ConnectOptions connect;
    connect.url = url;
    connect.name = "stream-bench-server";
    absl::StatusOr<natsrpc::Connection> sc = natsrpc::Connect(connect);
    if (!sc.ok()) return sc.status();
    connect.name = "stream-bench-client";
    absl::StatusOr<natsrpc::Connection> cc = natsrpc::Connect(connect);
    if (!cc.ok()) return cc.status();
    server_conn_ = std::move(*sc);
    client_conn_ = std::move(*cc);
    natsrpc::ServerOptions so;
    so.responder = "stream-bench";
    so.stream_window = window16_ ? 16 : window_;
    so.stream_window_bytes = window_bytes_;
    server_ = std::make_unique<natsrpc::Server>(*server_conn_, so);
    if (absl::Status s = server_->AddService(service_); !s.ok()) return s;
    natsrpc::ClientOptions co;
    co.requester = "stream-bench";
    co.responder = "stream-bench";
    co.stream_window = window16_ ? 16 : window_;
    co.stream_window_bytes = window_bytes_;
    client_ = std::make_unique<ns::StreamBench::Client>(*client_conn_, co);
    if (!client_->status().ok()) return client_->status();
    // The server's subscription reaches nats-server asynchronously.
    absl::Status last;
    for (int i = 0; i < 100; ++i) {
      Result r = Run("server", 1, std::string(1, 'x'));
      if (r.ok) return absl::OkStatus();
      last = absl::UnavailableError(r.error);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }

  void Teardown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    if (client_conn_) client_conn_->Close();
    if (server_conn_) server_conn_->Close();
    client_conn_.reset();
    server_conn_.reset();
  }

  Result Run(const std::string& kind, int64_t count,
             const std::string& payload) override {
    Result r;
    ns::StreamItem item;
    item.set_payload(payload);
    const int64_t server_stalls0 = ServerStalls();
    int64_t client_stalls = 0;
    if (kind == "server" || kind == "slow") {
      ns::StreamRequest req;
      req.set_count(count);
      req.set_payload_size(static_cast<int32_t>(payload.size()));
      auto reader = client_->ServerStream(req);
      ns::StreamItem in;
      while (reader->Read(&in)) {
        ++r.messages;
        r.bytes += in.payload().size();
        if (kind == "slow" && r.messages % kSlowEvery == 0) {
          std::this_thread::sleep_for(kSlowPause);
        }
      }
      absl::Status s = reader->Finish();
      r.max_buffered_bytes =
          static_cast<int64_t>(reader->stats().max_buffered_bytes);
      if (!s.ok()) r.error = s.ToString();
    } else if (kind == "client") {
      auto writer = client_->ClientStream();
      for (int64_t i = 0; i < count; ++i) {
        if (!writer->Write(item)) break;
      }
      absl::StatusOr<ns::StreamSummary> sum = writer->Finish();
      client_stalls = static_cast<int64_t>(writer->stats().credit_stalls);
      if (!sum.ok()) {
        r.error = sum.status().ToString();
      } else {
        r.messages = sum->count();
        r.bytes = sum->bytes();
      }
    } else {  // bidi
      auto stream = client_->Bidi();
      std::thread w([&] {
        for (int64_t i = 0; i < count; ++i) {
          if (!stream->Write(item)) break;
        }
        stream->WritesDone();
      });
      ns::StreamItem in;
      while (stream->Read(&in)) {
        ++r.messages;
        r.bytes += in.payload().size();
      }
      w.join();
      absl::Status s = stream->Finish();
      client_stalls = static_cast<int64_t>(stream->stats().credit_stalls);
      if (!s.ok()) r.error = s.ToString();
    }
    r.credit_stalls = ServerStalls() - server_stalls0 + client_stalls;
    r.ok = r.error.empty() && r.messages == count;
    if (r.ok == false && r.error.empty()) {
      r.error = absl::StrCat(r.messages, " of ", count, " messages");
    }
    return r;
  }

 private:
  int64_t ServerStalls() const {
    int64_t n = 0;
    for (const natsrpc::MethodStats& m : server_->method_stats()) {
      n += static_cast<int64_t>(m.credit_stalls);
    }
    return n;
  }

  const bool window16_;
  const uint32_t window_;        // 0: the default
  const uint64_t window_bytes_;  // 0: the default
  NatsrpcStreamService service_;
  std::optional<natsrpc::Connection> server_conn_, client_conn_;
  std::unique_ptr<natsrpc::Server> server_;
  std::unique_ptr<ns::StreamBench::Client> client_;
};

// ---------------------------------------------------------------- gRPC

class GrpcStreamService final : public gs::StreamBench::Service {
 public:
  grpc::Status ServerStream(
      grpc::ServerContext*, const gs::StreamRequest* req,
      grpc::ServerWriter<gs::StreamItem>* writer) override {
    gs::StreamItem item;
    item.set_payload(std::string(req->payload_size(), 'x'));
    for (int64_t i = 0; i < req->count(); ++i) {
      if (!writer->Write(item)) return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }
  grpc::Status ClientStream(grpc::ServerContext*,
                            grpc::ServerReader<gs::StreamItem>* reader,
                            gs::StreamSummary* summary) override {
    gs::StreamItem item;
    int64_t n = 0, bytes = 0;
    while (reader->Read(&item)) {
      ++n;
      bytes += item.payload().size();
    }
    summary->set_count(n);
    summary->set_bytes(bytes);
    return grpc::Status::OK;
  }
  grpc::Status Bidi(grpc::ServerContext*,
                    grpc::ServerReaderWriter<gs::StreamItem, gs::StreamItem>*
                        stream) override {
    gs::StreamItem item;
    while (stream->Read(&item)) {
      if (!stream->Write(item)) break;
    }
    return grpc::Status::OK;
  }
};

class GrpcStreams final : public StreamContender {
 public:
  std::string id() const override { return "grpc"; }
  std::string label() const override { return "gRPC C++ (sync)"; }
  bool Supports(const std::string&) const override { return true; }

  absl::Status Setup(const std::string&) override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port == 0) {
      return absl::UnavailableError("gRPC server did not start");
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ =
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                  grpc::InsecureChannelCredentials(), args);
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() +
                                    std::chrono::seconds(5))) {
      return absl::UnavailableError("gRPC channel did not connect");
    }
    stub_ = gs::StreamBench::NewStub(channel_);
    return absl::OkStatus();
  }

  void Teardown() override {
    stub_.reset();
    channel_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
  }

  Result Run(const std::string& kind, int64_t count,
             const std::string& payload) override {
    Result r;
    gs::StreamItem item;
    item.set_payload(payload);
    grpc::ClientContext ctx;
    grpc::Status s;
    if (kind == "server" || kind == "slow") {
      gs::StreamRequest req;
      req.set_count(count);
      req.set_payload_size(static_cast<int32_t>(payload.size()));
      auto reader = stub_->ServerStream(&ctx, req);
      gs::StreamItem in;
      while (reader->Read(&in)) {
        ++r.messages;
        r.bytes += in.payload().size();
        if (kind == "slow" && r.messages % kSlowEvery == 0) {
          std::this_thread::sleep_for(kSlowPause);
        }
      }
      s = reader->Finish();
    } else if (kind == "client") {
      gs::StreamSummary sum;
      auto writer = stub_->ClientStream(&ctx, &sum);
      for (int64_t i = 0; i < count; ++i) {
        if (!writer->Write(item)) break;
      }
      writer->WritesDone();
      s = writer->Finish();
      r.messages = sum.count();
      r.bytes = sum.bytes();
    } else {
      auto stream = stub_->Bidi(&ctx);
      std::thread w([&] {
        for (int64_t i = 0; i < count; ++i) {
          if (!stream->Write(item)) break;
        }
        stream->WritesDone();
      });
      gs::StreamItem in;
      while (stream->Read(&in)) {
        ++r.messages;
        r.bytes += in.payload().size();
      }
      w.join();
      s = stream->Finish();
    }
    if (!s.ok()) r.error = s.error_message();
    r.ok = r.error.empty() && r.messages == count;
    if (!r.ok && r.error.empty()) {
      r.error = absl::StrCat(r.messages, " of ", count, " messages");
    }
    return r;
  }

 private:
  GrpcStreamService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gs::StreamBench::Stub> stub_;
};

// ---------------------------------------------------------------- raw

// One-way publish -> subscriber on two connections: no flow control, no
// acknowledgement; the floor of what a stream over NATS can cost. With
// `echo`, the bidi row's counterpart: publish -> an echo subscriber on a
// third connection, which publishes each message again -> subscriber, so
// that every message crosses NATS twice, as in a bidi echo stream.
class RawOneWay final : public StreamContender {
 public:
  explicit RawOneWay(bool echo = false) : echo_(echo) {}
  std::string id() const override { return echo_ ? "raw_echo" : "raw_oneway"; }
  std::string label() const override {
    return echo_ ? "raw nats.c publish -> echo -> subscriber"
                 : "raw nats.c one-way publish -> subscriber";
  }
  bool Supports(const std::string& kind) const override {
    if (echo_) return kind == "bidi";
    return kind == "server" || kind == "slow";
  }

  absl::Status Setup(const std::string& url) override {
    if (natsConnection_ConnectTo(&pub_, url.c_str()) != NATS_OK ||
        natsConnection_ConnectTo(&sub_conn_, url.c_str()) != NATS_OK ||
        (echo_ &&
         natsConnection_ConnectTo(&echo_conn_, url.c_str()) != NATS_OK)) {
      return absl::UnavailableError("raw nats.c did not connect");
    }
    return absl::OkStatus();
  }

  void Teardown() override {
    if (pub_ != nullptr) natsConnection_Destroy(pub_);
    if (sub_conn_ != nullptr) natsConnection_Destroy(sub_conn_);
    if (echo_conn_ != nullptr) natsConnection_Destroy(echo_conn_);
    pub_ = sub_conn_ = echo_conn_ = nullptr;
  }

  Result Run(const std::string& kind, int64_t count,
             const std::string& payload) override {
    Result r;
    State st;
    st.slow = kind == "slow";
    const std::string subject = absl::StrCat("stream-bench.raw.", ++runs_);
    const std::string echoed = subject + ".echo";
    natsSubscription* sub = nullptr;
    if (natsConnection_Subscribe(&sub, sub_conn_,
                                 echo_ ? echoed.c_str() : subject.c_str(),
                                 &OnMsg, &st) != NATS_OK) {
      r.error = "subscribe failed";
      return r;
    }
    // A fast reader gets no pending limit (nothing dropped); the slow one
    // keeps nats.c's defaults, which drop beyond them.
    if (!st.slow) natsSubscription_SetPendingLimits(sub, -1, -1);
    natsConnection_Flush(sub_conn_);
    Echo echo{echo_conn_, echoed};
    natsSubscription* echo_sub = nullptr;
    if (echo_) {
      if (natsConnection_Subscribe(&echo_sub, echo_conn_, subject.c_str(),
                                   &OnEcho, &echo) != NATS_OK) {
        natsSubscription_Destroy(sub);
        r.error = "subscribe failed";
        return r;
      }
      natsSubscription_SetPendingLimits(echo_sub, -1, -1);
      natsConnection_Flush(echo_conn_);
    }
    for (int64_t i = 0; i < count; ++i) {
      natsConnection_Publish(pub_, subject.c_str(), payload.data(),
                             static_cast<int>(payload.size()));
    }
    natsConnection_Flush(pub_);
    {
      std::unique_lock<std::mutex> lock(st.mu);
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (st.messages < count) {
        int64_t dropped = 0;
        natsSubscription_GetDropped(sub, &dropped);
        if (st.messages + dropped >= count) break;
        if (st.cv.wait_until(lock, until) == std::cv_status::timeout) break;
        if (st.slow) {
          lock.unlock();
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          lock.lock();
        }
      }
      r.messages = st.messages;
      r.bytes = st.bytes;
    }
    natsSubscription_GetDropped(sub, &r.dropped);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (echo_sub != nullptr) {
      natsSubscription_Unsubscribe(echo_sub);
      natsSubscription_Destroy(echo_sub);
    }
    r.ok = r.messages + r.dropped == count && (st.slow || r.dropped == 0);
    if (!r.ok) {
      r.error = absl::StrCat(r.messages, " of ", count, " messages, ",
                             r.dropped, " dropped");
    }
    return r;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int64_t messages = 0;
    int64_t bytes = 0;
    bool slow = false;
  };
  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg,
                    void* closure) {
    auto* st = static_cast<State*>(closure);
    const int len = natsMsg_GetDataLength(msg);
    natsMsg_Destroy(msg);
    int64_t n;
    {
      std::lock_guard<std::mutex> lock(st->mu);
      n = ++st->messages;
      st->bytes += len;
    }
    st->cv.notify_one();
    if (st->slow && n % kSlowEvery == 0)
      std::this_thread::sleep_for(kSlowPause);
  }

  struct Echo {
    natsConnection* conn;
    std::string subject;
  };
  static void OnEcho(natsConnection*, natsSubscription*, natsMsg* msg,
                     void* closure) {
    auto* echo = static_cast<Echo*>(closure);
    natsConnection_Publish(echo->conn, echo->subject.c_str(),
                           natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
  }

  const bool echo_;
  natsConnection* pub_ = nullptr;
  natsConnection* sub_conn_ = nullptr;
  natsConnection* echo_conn_ = nullptr;
  int runs_ = 0;
};

// ---------------------------------------------------------------- main

struct Flags {
  int reps = 3;
  int64_t small = 100000;  // 100 B messages per stream
  int64_t large = 10000;   // 16 KB messages per stream
  bool quick = false;
  bool window16 = true;  // also the revision-4 window, for an A/B
  // For experiments: natsrpc's windows (0: the defaults), and what to run.
  uint32_t window = 0;
  uint64_t window_bytes = 0;
  std::string only, kinds, payloads;
  bool Wanted(const std::string& list, const std::string& item) const {
    return list.empty() ||
           ("," + list + ",").find("," + item + ",") != std::string::npos;
  }
  std::string json, note, nats_server;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--reps") {
      f.reps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--small") {
      f.small = std::max<int64_t>(1, std::atoll(value().c_str()));
    } else if (a == "--large") {
      f.large = std::max<int64_t>(1, std::atoll(value().c_str()));
    } else if (a == "--window") {
      f.window = static_cast<uint32_t>(std::atoll(value().c_str()));
    } else if (a == "--window-bytes") {
      f.window_bytes = static_cast<uint64_t>(std::atoll(value().c_str()));
    } else if (a == "--only") {
      f.only = value();
    } else if (a == "--kinds") {
      f.kinds = value();
    } else if (a == "--payloads") {
      f.payloads = value();
    } else if (a == "--no-window16") {
      f.window16 = false;
    } else if (a == "--quick") {
      f.quick = true;
    } else if (a == "--json") {
      f.json = value();
    } else if (a == "--note") {
      f.note = value();
    } else if (a == "--nats-server") {
      f.nats_server = value();
    } else {
      std::cerr << "usage: natsrpc_stream_bench [--reps N] [--quick] "
                   "[--small N] [--large N] [--no-window16] [--only IDS] "
                   "[--kinds server,client,bidi,slow] [--payloads 100,16384] "
                   "[--window N] [--window-bytes N] [--json FILE] "
                   "[--note TEXT] "
                   "[--nats-server PATH]\n";
      return 2;
    }
  }
  if (f.quick) {
    f.reps = 1;
    f.small = 2000;
    f.large = 200;
  }
  NatsServerProcess server;
  if (absl::Status s = server.Start(f.nats_server); !s.ok()) {
    std::cerr << "nats-server: " << s << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<StreamContender>> contenders;
  contenders.push_back(
      std::make_unique<NatsrpcStreams>(false, f.window, f.window_bytes));
  if (f.window16) {
    contenders.push_back(std::make_unique<NatsrpcStreams>(/*window16=*/true));
  }
  contenders.push_back(std::make_unique<GrpcStreams>());
  contenders.push_back(std::make_unique<RawOneWay>());
  contenders.push_back(std::make_unique<RawOneWay>(/*echo=*/true));

  JsonWriter json;
  json.BeginObject();
  json.Field("schema", "natsrpc-stream-bench/1");
  json.Field("note", f.note);
  json.Field("reps", static_cast<double>(f.reps));
  json.Field("quick", f.quick);
  json.Key("rows");
  json.BeginArray();
  bool all_ok = true;
  const char* kKinds[] = {"server", "client", "bidi"};
  std::printf("%-8s %-7s %-44s %12s %10s %12s\n", "stream", "payload",
              "contender", "msgs/s", "MB/s", "CPU/msg");
  for (auto& c : contenders) {
    if (!f.Wanted(f.only, c->id())) continue;
    if (absl::Status s = c->Setup(server.url()); !s.ok()) {
      std::cerr << c->id() << ": " << s << "\n";
      all_ok = false;
      c->Teardown();
      continue;
    }
    for (size_t payload_size : {kSmall, kLarge}) {
      if (!f.Wanted(f.payloads, std::to_string(payload_size))) continue;
      const std::string payload = MakePayload(payload_size);
      const int64_t count = payload_size == kSmall ? f.small : f.large;
      for (const char* kind : kKinds) {
        if (!c->Supports(kind) || !f.Wanted(f.kinds, kind)) continue;
        std::vector<double> rate, mbps, cpu, stalls;
        std::string error;
        for (int rep = 0; rep < f.reps; ++rep) {
          const int64_t cpu0 = SelfCpuMicros() + server.CpuMicros();
          const auto t0 = std::chrono::steady_clock::now();
          Result r = c->Run(kind, count, payload);
          const double secs = std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - t0)
                                  .count();
          const int64_t cpu_us = SelfCpuMicros() + server.CpuMicros() - cpu0;
          if (!r.ok) {
            error = r.error;
            break;
          }
          rate.push_back(r.messages / secs);
          mbps.push_back(r.bytes / secs / 1e6);
          cpu.push_back(static_cast<double>(cpu_us) / r.messages);
          if (r.credit_stalls >= 0) {
            stalls.push_back(1000.0 * r.credit_stalls / r.messages);
          }
        }
        json.BeginObject();
        json.Field("contender", c->id());
        json.Field("label", c->label());
        json.Field("kind", kind);
        json.Field("payload_bytes",
                   static_cast<double>(static_cast<int64_t>(payload_size)));
        json.Field("messages", static_cast<double>(count));
        json.Field("ok", error.empty());
        if (!error.empty()) {
          all_ok = false;
          json.Field("error", error);
          std::printf("%-8s %-7zu %-44s failed: %s\n", kind, payload_size,
                      c->label().c_str(), error.c_str());
        } else {
          json.Field("messages_per_second", Median(rate));
          json.Field("mb_per_second", Median(mbps));
          json.Field("cpu_us_per_message", Median(cpu));
          json.Field("messages_per_second_min",
                     *std::min_element(rate.begin(), rate.end()));
          json.Field("messages_per_second_max",
                     *std::max_element(rate.begin(), rate.end()));
          if (!stalls.empty()) {
            json.Field("credit_stalls_per_1k_messages", Median(stalls));
          }
          std::printf("%-8s %-7zu %-44s %12.0f %10.1f %10.2f us", kind,
                      payload_size, c->label().c_str(), Median(rate),
                      Median(mbps), Median(cpu));
          if (!stalls.empty()) {
            std::printf("  %.1f waits/1k msgs", Median(stalls));
          }
          std::printf("\n");
        }
        json.EndObject();
        std::fflush(stdout);
      }
    }
    // The slow reader, last: its peak memory.
    if (c->Supports("slow") && f.Wanted(f.kinds, "slow")) {
      const std::string payload = MakePayload(kLarge);
      const int64_t rss0 = StatusKb("VmRSS");
      const bool reset = ResetPeakRss();
      Result r = c->Run("slow", kSlowCount, payload);
      const int64_t hwm = StatusKb("VmHWM");
      json.BeginObject();
      json.Field("contender", c->id());
      json.Field("label", c->label());
      json.Field("kind", "slow_reader");
      json.Field("payload_bytes",
                 static_cast<double>(static_cast<int64_t>(kLarge)));
      json.Field("messages", static_cast<double>(kSlowCount));
      json.Field("ok", r.ok && reset);
      if (!r.ok || !reset) {
        all_ok = false;
        json.Field("error", reset ? r.error : "cannot reset VmHWM");
      }
      json.Field("peak_rss_growth_kb", static_cast<double>(hwm - rss0));
      json.Field("max_buffered_bytes",
                 static_cast<double>(r.max_buffered_bytes));
      json.Field("dropped", static_cast<double>(r.dropped));
      std::printf(
          "slow     %-7zu %-44s peak RSS +%lld kB, reader held at most %lld "
          "B, %lld dropped%s\n",
          kLarge, c->label().c_str(), static_cast<long long>(hwm - rss0),
          static_cast<long long>(r.max_buffered_bytes),
          static_cast<long long>(r.dropped),
          r.ok ? "" : (" FAILED: " + r.error).c_str());
      json.EndObject();
    }
    c->Teardown();
  }
  json.EndArray();
  json.EndObject();
  if (!f.json.empty()) {
    std::ofstream out(f.json);
    out << json.str() << "\n";
  }
  server.Stop();
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace natsrpc_bench

int main(int argc, char** argv) { return natsrpc_bench::Main(argc, argv); }
