// Copyright 2026 The natsrpc Authors.
//
// natsrpc_fanout_bench: natsrpc's events and scatter-gather
// (natsrpc/fanout.h, docs/protocol.md section 13) beside raw nats.c doing
// the same, on one nats-server in one run. See docs/benchmarks.md
// ("Fan-out (events and scatter-gather)").
//
//   natsrpc_fanout_bench [--reps N] [--quick] [--json FILE] [--note TEXT]
//                        [--nats-server PATH] [--inflight N]
//                        [--events N] [--confirmed N] [--broadcasts N]
//                        [--gathers N] [--async-gathers N]
//   experiments: [--only natsrpc,natsrpc_deepq,raw_buffered,raw_sendasap]
//                [--rows event,event_confirmed,broadcast,gather_seq,
//                        gather_async]
//
// Rows (100 B payloads; every row moves a fixed number of operations):
//   event            M(event) to a queue group of one instance; raw:
//                    natsConnection_Publish to one queue subscriber.
//                    Publisher-side rate (until every publish returned) and
//                    delivered rate (until the subscriber counted all).
//   event_confirmed  MConfirmed(event) each (a flush round trip); raw:
//                    publish + natsConnection_FlushTimeout each.
//   broadcast        a broadcast event to 3 instances; raw: publish to 3
//                    plain subscribers. Rate until all 3 saw every event.
//   gather_seq       MAll(request, max_replies = 3) one after the other;
//                    raw: one request to 3 plain-subscribed responders, the
//                    requester collects 3 replies on a shared wildcard inbox
//                    (one subscription, a token per call).
//   gather_async     the same with --inflight (32) calls in flight:
//                    MAllAsync, and raw completions starting the next call.
// natsrpc runs with its default options and, on the event rows, also with
// ServerOptions::max_queued_requests = 1M (natsrpc_deepq): with the default
// 4096 a burst of events outruns the workers and the server drops the rest
// (counted, never reported to the publisher); the rates count what arrived.
// CPU per operation is this process (both ends) plus nats-server. Raw
// nats.c runs with its defaults (buffered) and with SendAsap; "× raw" is
// the ratio to the better of the two in each row.

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "contender.h"
#include "json_writer.h"
#include "nats_server_process.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc_bench/fanout.natsrpc.h"

namespace natsrpc_bench {
namespace {

namespace fo = ::natsrpc_bench::fanout;
using Clock = std::chrono::steady_clock;

constexpr size_t kPayload = 100;
constexpr int kInstances = 3;
// How long a row may take to deliver what it sent, at most.
constexpr auto kRowWait = std::chrono::seconds(60);
// One scatter-gather call's deadline.
constexpr auto kCallTimeout = std::chrono::seconds(10);

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// Counts deliveries; wakes a waiter only when the target is reached, so
// that counting costs the subscriber an atomic add, not a wake-up.
class Counter {
 public:
  void Reset(int64_t target) {
    std::lock_guard<std::mutex> lock(mu_);
    n_.store(0);
    target_.store(target);
  }
  void Add() {
    if (n_.fetch_add(1, std::memory_order_relaxed) + 1 ==
        target_.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  }
  int64_t count() const { return n_.load(); }
  // Waits until the target is reached, `dropped()` more cannot come, or
  // `until`; true if the target was reached.
  bool Wait(Clock::time_point until, const std::function<int64_t()>& dropped) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (n_.load() >= target_.load()) return true;
      if (dropped && n_.load() + dropped() >= target_.load()) return false;
      if (Clock::now() >= until) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int64_t> n_{0};
  std::atomic<int64_t> target_{0};
};

// One measured row of one contender.
struct Result {
  bool ok = false;
  std::string error;
  int64_t ops = 0;             // events published, gathers completed
  double publish_seconds = 0;  // events: until every publish returned
  double seconds = 0;   // events: until all delivered; gathers: until the last
  int64_t dropped = 0;  // events lost by the receiving side (counted)
  // Events: how many each receiving instance ran, on average (what the
  // delivered rate counts); -1 for gathers.
  double delivered = -1;
  std::vector<double> latencies_us;  // confirmed publishes, gathers
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

class FanoutContender {
 public:
  virtual ~FanoutContender() = default;
  virtual std::string id() const = 0;
  virtual std::string label() const = 0;
  virtual bool raw() const = 0;
  // Row ids (kRows) this contender runs.
  virtual bool Supports(const std::string& /*row*/) const { return true; }
  virtual absl::Status Setup(const std::string& nats_url) = 0;
  virtual void Teardown() = 0;
  // Row "event" (confirmed = false) and "event_confirmed".
  virtual Result Events(int64_t n, const std::string& payload,
                        bool confirmed) = 0;
  virtual Result Broadcast(int64_t n, const std::string& payload) = 0;
  // inflight 1: blocking calls one after the other.
  virtual Result Gather(int64_t n, int inflight,
                        const std::string& payload) = 0;
};

// The closed loop of the asynchronous gathers: `inflight` calls started,
// each completion starts the next until n were started; Wait() until all
// ended.
class ClosedLoop {
 public:
  ClosedLoop(int64_t n, std::function<void(int64_t)> start)
      : n_(n),
        start_(std::move(start)),
        starts_(static_cast<size_t>(n)),
        latencies_(static_cast<size_t>(n), 0) {}

  void Run(int inflight) {
    for (int i = 0; i < inflight; ++i) Next();
  }
  // Called by a completion of call `i`.
  void Done(int64_t i, const std::string& error) {
    latencies_[static_cast<size_t>(i)] =
        Micros(Clock::now() - starts_[static_cast<size_t>(i)]);
    if (!error.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.empty()) error_ = error;
      stop_ = true;
    }
    Next();
    std::lock_guard<std::mutex> lock(mu_);
    ++done_;
    cv_.notify_all();
  }
  // True if all n ended in time; else waits a call deadline more for the
  // ones in flight, so that nothing outlives the row.
  bool Wait(Clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, until, [&] { return done_ == started_; }) &&
        started_ == n_) {
      return true;
    }
    stop_ = true;
    cv_.wait_for(lock, kCallTimeout + std::chrono::seconds(5),
                 [&] { return done_ == started_; });
    return false;
  }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  int64_t done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  // The latency of every call that ended.
  std::vector<double> TakeLatencies() {
    std::lock_guard<std::mutex> lock(mu_);
    latencies_.resize(static_cast<size_t>(done_));
    return std::move(latencies_);
  }

 private:
  void Next() {
    int64_t i;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_ || started_ == n_) return;
      i = started_++;
    }
    starts_[static_cast<size_t>(i)] = Clock::now();
    start_(i);
  }

  const int64_t n_;
  std::function<void(int64_t)> start_;
  std::vector<Clock::time_point> starts_;
  std::vector<double> latencies_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t started_ = 0;
  int64_t done_ = 0;
  bool stop_ = false;
  std::string error_;
};

// ---------------------------------------------------------------- natsrpc

class SinkService final : public fo::Sink::Service {
 public:
  absl::Status Notify(natsrpc::ServerContext&, const fo::Event&) override {
    counter.Add();
    return absl::OkStatus();
  }
  Counter counter;
};

class FleetService final : public fo::Fleet::Service {
 public:
  absl::Status Broadcast(natsrpc::ServerContext&, const fo::Event&) override {
    counter.Add();
    return absl::OkStatus();
  }
  absl::Status Echo(natsrpc::ServerContext&, const fo::Blob& request,
                    fo::Blob& reply) override {
    reply.set_payload(request.payload());
    return absl::OkStatus();
  }
  Counter counter;
};

class NatsrpcFanout final : public FanoutContender {
 public:
  // deep_queue: ServerOptions::max_queued_requests = 1M instead of the
  // default 4096, beyond which a server drops events (a burst of events
  // outruns its workers); measured on the event rows only.
  explicit NatsrpcFanout(bool deep_queue = false) : deep_queue_(deep_queue) {}
  std::string id() const override {
    return deep_queue_ ? "natsrpc_deepq" : "natsrpc";
  }
  std::string label() const override {
    return deep_queue_ ? "natsrpc, max_queued_requests 1M" : "natsrpc";
  }
  bool raw() const override { return false; }
  bool Supports(const std::string& row) const override {
    return !deep_queue_ || row == "event" || row == "broadcast";
  }

  absl::Status Setup(const std::string& url) override {
    auto connect =
        [&](const char* name) -> absl::StatusOr<natsrpc::Connection> {
      natsrpc::ConnectOptions o;
      o.url = url;
      o.name = name;
      return natsrpc::Connect(o);
    };
    absl::StatusOr<natsrpc::Connection> c = connect("fanout-bench-client");
    if (!c.ok()) return c.status();
    client_conn_ = std::move(*c);
    for (int i = 0; i < kInstances; ++i) {
      absl::StatusOr<natsrpc::Connection> s =
          connect(absl::StrCat("fanout-bench-server-", i).c_str());
      if (!s.ok()) return s.status();
      server_conns_.push_back(std::make_unique<natsrpc::Connection>(*s));
      fleet_.push_back(std::make_unique<FleetService>());
      natsrpc::ServerOptions so;
      so.responder = "fanbench";
      so.discovery = false;
      if (deep_queue_) so.max_queued_requests = 1 << 20;
      servers_.push_back(
          std::make_unique<natsrpc::Server>(*server_conns_.back(), so));
      // The queue-group event goes to one subscriber: instance 0 alone
      // serves Sink.
      if (i == 0) {
        if (absl::Status st = servers_.back()->AddService(sink_); !st.ok()) {
          return st;
        }
      }
      if (absl::Status st = servers_.back()->AddService(*fleet_.back());
          !st.ok()) {
        return st;
      }
    }
    natsrpc::ClientOptions co;
    co.requester = "fanbench";
    co.responder = "fanbench";
    sink_client_ = std::make_unique<fo::Sink::Client>(*client_conn_, co);
    fleet_client_ = std::make_unique<fo::Fleet::Client>(*client_conn_, co);
    if (!sink_client_->status().ok()) return sink_client_->status();
    if (!fleet_client_->status().ok()) return fleet_client_->status();
    // AddService() returns once its subscriptions are in effect; one
    // gather proves all three answer.
    Result r = Gather(1, 1, "x");
    if (!r.ok) return absl::UnavailableError(r.error);
    return absl::OkStatus();
  }

  void Teardown() override {
    sink_client_.reset();
    fleet_client_.reset();
    for (auto& s : servers_) s->Shutdown();
    servers_.clear();
    for (auto& c : server_conns_) c->Close();
    server_conns_.clear();
    fleet_.clear();
    if (client_conn_) client_conn_->Close();
    client_conn_.reset();
  }

  Result Events(int64_t n, const std::string& payload,
                bool confirmed) override {
    Result r;
    fo::Event ev;
    ev.set_payload(payload);
    sink_.counter.Reset(n);
    const uint64_t lost0 = Lost(0);
    if (confirmed) r.latencies_us.reserve(static_cast<size_t>(n));
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
      absl::Status s;
      if (confirmed) {
        const auto c0 = Clock::now();
        s = sink_client_->NotifyConfirmed(ev);
        r.latencies_us.push_back(Micros(Clock::now() - c0));
      } else {
        s = sink_client_->Notify(ev);
      }
      if (!s.ok()) {
        r.error = s.ToString();
        return r;
      }
    }
    r.publish_seconds = Seconds(Clock::now() - t0);
    const bool all = sink_.counter.Wait(
        t0 + kRowWait, [&] { return static_cast<int64_t>(Lost(0) - lost0); });
    r.seconds = Seconds(Clock::now() - t0);
    r.ops = n;
    r.delivered = static_cast<double>(sink_.counter.count());
    r.dropped = static_cast<int64_t>(Lost(0) - lost0);
    r.ok = all || sink_.counter.count() + r.dropped == n;
    if (!r.ok) {
      r.error = absl::StrCat(sink_.counter.count(), " of ", n,
                             " events delivered, ", r.dropped, " dropped");
    }
    return r;
  }

  Result Broadcast(int64_t n, const std::string& payload) override {
    Result r;
    fo::Event ev;
    ev.set_payload(payload);
    std::vector<uint64_t> lost0;
    for (int i = 0; i < kInstances; ++i) {
      fleet_[i]->counter.Reset(n);
      lost0.push_back(Lost(i));
    }
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
      if (absl::Status s = fleet_client_->Broadcast(ev); !s.ok()) {
        r.error = s.ToString();
        return r;
      }
    }
    r.publish_seconds = Seconds(Clock::now() - t0);
    bool all = true;
    for (int i = 0; i < kInstances; ++i) {
      all = fleet_[i]->counter.Wait(t0 + kRowWait, [&] {
        return static_cast<int64_t>(Lost(i) - lost0[i]);
      }) && all;
    }
    r.seconds = Seconds(Clock::now() - t0);
    r.ops = n;
    int64_t delivered = 0;
    for (int i = 0; i < kInstances; ++i) {
      r.dropped += static_cast<int64_t>(Lost(i) - lost0[i]);
      delivered += fleet_[i]->counter.count();
    }
    r.delivered = static_cast<double>(delivered) / kInstances;
    r.ok = all || delivered + r.dropped == kInstances * n;
    if (!r.ok) {
      r.error = absl::StrCat(delivered, " of ", kInstances * n, " deliveries, ",
                             r.dropped, " dropped");
    }
    return r;
  }

  Result Gather(int64_t n, int inflight, const std::string& payload) override {
    Result r;
    fo::Blob req;
    req.set_payload(payload);
    natsrpc::GatherOptions go;
    go.timeout = absl::FromChrono(kCallTimeout);
    go.max_replies = kInstances;
    const auto t0 = Clock::now();
    if (inflight <= 1) {
      r.latencies_us.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const auto c0 = Clock::now();
        auto replies = fleet_client_->EchoAll(req, go);
        r.latencies_us.push_back(Micros(Clock::now() - c0));
        if (std::string e = Check(replies, payload.size()); !e.empty()) {
          r.error = e;
          return r;
        }
      }
      r.seconds = Seconds(Clock::now() - t0);
      r.ops = n;
      r.ok = true;
      return r;
    }
    ClosedLoop* loop_ptr = nullptr;
    ClosedLoop loop(n, [&](int64_t i) {
      fleet_client_->EchoAllAsync(
          req,
          [&loop_ptr, i, size = payload.size()](
              absl::StatusOr<std::vector<natsrpc::GatherReply<fo::Blob>>>
                  replies) { loop_ptr->Done(i, Check(replies, size)); },
          go);
    });
    loop_ptr = &loop;
    loop.Run(inflight);
    const bool all = loop.Wait(t0 + kRowWait);
    r.seconds = Seconds(Clock::now() - t0);
    r.ops = loop.done();
    r.error = loop.error();
    if (r.error.empty() && !all) {
      r.error = absl::StrCat(r.ops, " of ", n, " gathers in time");
    }
    r.latencies_us = loop.TakeLatencies();
    r.ok = r.error.empty();
    return r;
  }

 private:
  static std::string Check(
      const absl::StatusOr<std::vector<natsrpc::GatherReply<fo::Blob>>>& r,
      size_t size) {
    if (!r.ok()) return r.status().ToString();
    if (r->size() != static_cast<size_t>(kInstances)) {
      return absl::StrCat(r->size(), " of ", kInstances, " replies");
    }
    for (const auto& one : *r) {
      if (!one.reply.ok()) return one.reply.status().ToString();
      if (one.reply->payload().size() != size) return "wrong reply size";
    }
    return "";
  }

  // Events instance `i` received but did not run (overload, expired).
  uint64_t Lost(int i) const {
    const natsrpc::ServerStats s = servers_[static_cast<size_t>(i)]->stats();
    return s.rejected_overloaded + s.rejected_expired;
  }

  const bool deep_queue_;
  SinkService sink_;
  std::vector<std::unique_ptr<FleetService>> fleet_;
  std::optional<natsrpc::Connection> client_conn_;
  std::vector<std::unique_ptr<natsrpc::Connection>> server_conns_;
  std::vector<std::unique_ptr<natsrpc::Server>> servers_;
  std::unique_ptr<fo::Sink::Client> sink_client_;
  std::unique_ptr<fo::Fleet::Client> fleet_client_;
};

// ---------------------------------------------------------------- raw

// What a competent nats.c user writes: a publisher connection; one queue
// subscriber for the events; three responder connections, each with one
// plain subscription to the broadcast subject and one to the gather
// subject (replying with the payload); the requester's replies arrive on
// one wildcard subscription `<inbox>.*` and find their call by the token.
// Subjects have the shape of natsrpc's.
class RawFanout final : public FanoutContender {
 public:
  explicit RawFanout(bool send_asap)
      : send_asap_(send_asap),
        prefix_(absl::StrCat("requests.", id(), ".", id(),
                             ".natsrpc_bench_fanout.")),
        inbox_(absl::StrCat("responses.", id(), ".", id(),
                            ".natsrpc_bench_fanout.inbox.")) {}
  ~RawFanout() override { Teardown(); }

  std::string id() const override {
    return send_asap_ ? "raw_sendasap" : "raw_buffered";
  }
  std::string label() const override {
    return send_asap_ ? "raw nats.c (SendAsap)" : "raw nats.c (buffered)";
  }
  bool raw() const override { return true; }

  absl::Status Setup(const std::string& url) override {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
    if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, send_asap_);
    if (s == NATS_OK) s = natsConnection_Connect(&pub_, opts);
    for (int i = 0; i < kInstances && s == NATS_OK; ++i) {
      s = natsConnection_Connect(&responders_[i], opts);
    }
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return Error("connect", s);

    const std::string notify = prefix_ + "Sink.Notify";
    const std::string queue = absl::StrCat("natsrpc.", id());
    s = natsConnection_QueueSubscribe(&sink_sub_, responders_[0],
                                      notify.c_str(), queue.c_str(), &OnEvent,
                                      &sink_);
    for (int i = 0; i < kInstances && s == NATS_OK; ++i) {
      s = natsConnection_Subscribe(&bcast_subs_[i], responders_[i],
                                   (prefix_ + "Fleet.Broadcast.all").c_str(),
                                   &OnEvent, &bcast_[i]);
      if (s == NATS_OK) {
        s = natsConnection_Subscribe(&echo_subs_[i], responders_[i],
                                     (prefix_ + "Fleet.Echo.all").c_str(),
                                     &OnEcho, nullptr);
      }
    }
    if (s == NATS_OK) {
      s = natsConnection_Subscribe(&inbox_sub_, pub_, (inbox_ + "*").c_str(),
                                   &OnReply, this);
    }
    // No pending limits: the rows count, and must not drop, every message.
    std::vector<natsSubscription*> all = {sink_sub_, inbox_sub_};
    for (int i = 0; i < kInstances; ++i) {
      all.push_back(bcast_subs_[i]);
      all.push_back(echo_subs_[i]);
    }
    for (natsSubscription* sub : all) {
      if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
    }
    for (int i = 0; i < kInstances && s == NATS_OK; ++i) {
      s = natsConnection_Flush(responders_[i]);
    }
    if (s == NATS_OK) s = natsConnection_Flush(pub_);
    if (s != NATS_OK) return Error("subscribe", s);
    return absl::OkStatus();
  }

  void Teardown() override {
    auto unsub = [](natsSubscription*& sub) {
      if (sub == nullptr) return;
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
      sub = nullptr;
    };
    unsub(sink_sub_);
    unsub(inbox_sub_);
    for (int i = 0; i < kInstances; ++i) {
      unsub(bcast_subs_[i]);
      unsub(echo_subs_[i]);
    }
    for (natsConnection*& c : responders_) {
      if (c != nullptr) natsConnection_Destroy(c);
      c = nullptr;
    }
    if (pub_ != nullptr) natsConnection_Destroy(pub_);
    pub_ = nullptr;
  }

  Result Events(int64_t n, const std::string& payload,
                bool confirmed) override {
    Result r;
    const std::string subject = prefix_ + "Sink.Notify";
    sink_.Reset(n);
    const int64_t dropped0 = Dropped(sink_sub_);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
      const auto c0 = Clock::now();
      natsStatus s =
          natsConnection_Publish(pub_, subject.c_str(), payload.data(),
                                 static_cast<int>(payload.size()));
      if (s == NATS_OK && confirmed) {
        s = natsConnection_FlushTimeout(pub_, 10000);
        r.latencies_us.push_back(Micros(Clock::now() - c0));
      }
      if (s != NATS_OK) {
        r.error = Error("publish", s).ToString();
        return r;
      }
    }
    r.publish_seconds = Seconds(Clock::now() - t0);
    const bool all = sink_.Wait(t0 + kRowWait,
                                [&] { return Dropped(sink_sub_) - dropped0; });
    r.seconds = Seconds(Clock::now() - t0);
    r.ops = n;
    r.delivered = static_cast<double>(sink_.count());
    r.dropped = Dropped(sink_sub_) - dropped0;
    r.ok = all || sink_.count() + r.dropped == n;
    if (!r.ok) {
      r.error = absl::StrCat(sink_.count(), " of ", n, " events delivered, ",
                             r.dropped, " dropped");
    }
    return r;
  }

  Result Broadcast(int64_t n, const std::string& payload) override {
    Result r;
    const std::string subject = prefix_ + "Fleet.Broadcast.all";
    int64_t dropped0[kInstances];
    for (int i = 0; i < kInstances; ++i) {
      bcast_[i].Reset(n);
      dropped0[i] = Dropped(bcast_subs_[i]);
    }
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
      if (natsStatus s =
              natsConnection_Publish(pub_, subject.c_str(), payload.data(),
                                     static_cast<int>(payload.size()));
          s != NATS_OK) {
        r.error = Error("publish", s).ToString();
        return r;
      }
    }
    r.publish_seconds = Seconds(Clock::now() - t0);
    bool all = true;
    for (int i = 0; i < kInstances; ++i) {
      all = bcast_[i].Wait(t0 + kRowWait, [&] {
        return Dropped(bcast_subs_[i]) - dropped0[i];
      }) && all;
    }
    r.seconds = Seconds(Clock::now() - t0);
    r.ops = n;
    int64_t delivered = 0;
    for (int i = 0; i < kInstances; ++i) {
      r.dropped += Dropped(bcast_subs_[i]) - dropped0[i];
      delivered += bcast_[i].count();
    }
    r.delivered = static_cast<double>(delivered) / kInstances;
    r.ok = all || delivered + r.dropped == kInstances * n;
    if (!r.ok) {
      r.error = absl::StrCat(delivered, " of ", kInstances * n, " deliveries, ",
                             r.dropped, " dropped");
    }
    return r;
  }

  Result Gather(int64_t n, int inflight, const std::string& payload) override {
    Result r;
    auto run = std::make_shared<Run>();
    run->generation = ++generation_;
    run->calls = std::vector<Call>(static_cast<size_t>(n));
    run->size = payload.size();
    {
      std::lock_guard<std::mutex> lock(run_mu_);
      run_ = run;
    }
    const std::string subject = prefix_ + "Fleet.Echo.all";
    // The reply token: generation << 32 | call number.
    auto publish = [&](int64_t i) -> natsStatus {
      char reply[160];
      const std::string token =
          std::to_string((static_cast<uint64_t>(run->generation) << 32) |
                         static_cast<uint64_t>(i));
      std::snprintf(reply, sizeof(reply), "%s%s", inbox_.c_str(),
                    token.c_str());
      return natsConnection_PublishRequest(pub_, subject.c_str(), reply,
                                           payload.data(),
                                           static_cast<int>(payload.size()));
    };
    const auto t0 = Clock::now();
    if (inflight <= 1) {
      r.latencies_us.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        Call& call = run->calls[static_cast<size_t>(i)];
        const auto c0 = Clock::now();
        if (natsStatus s = publish(i); s != NATS_OK) {
          r.error = Error("publish", s).ToString();
          break;
        }
        std::unique_lock<std::mutex> lock(run->mu);
        if (!run->cv.wait_for(lock, kCallTimeout, [&] {
              return call.replies.load() >= kInstances;
            })) {
          r.error = absl::StrCat(call.replies.load(), " of ", kInstances,
                                 " replies in time");
          break;
        }
        lock.unlock();
        r.latencies_us.push_back(Micros(Clock::now() - c0));
        ++r.ops;
      }
      r.seconds = Seconds(Clock::now() - t0);
      r.error = r.error.empty() ? run->Error() : r.error;
      r.ok = r.error.empty();
      End();
      return r;
    }
    ClosedLoop loop(n, [&](int64_t i) {
      if (natsStatus s = publish(i); s != NATS_OK) {
        run->loop->Done(i, Error("publish", s).ToString());
      }
    });
    run->loop = &loop;
    loop.Run(inflight);
    const bool all = loop.Wait(t0 + kRowWait);
    r.seconds = Seconds(Clock::now() - t0);
    End();  // no reply touches `loop` after this
    r.ops = loop.done();
    r.error = loop.error();
    if (r.error.empty()) r.error = run->Error();
    if (r.error.empty() && !all) {
      r.error = absl::StrCat(r.ops, " of ", n, " gathers in time");
    }
    r.latencies_us = loop.TakeLatencies();
    r.ok = r.error.empty();
    return r;
  }

 private:
  struct Call {
    std::atomic<int> replies{0};
  };
  struct Run {
    uint32_t generation = 0;
    size_t size = 0;
    std::vector<Call> calls;
    ClosedLoop* loop = nullptr;  // asynchronous rows
    std::mutex mu;               // blocking rows wait on cv
    std::condition_variable cv;
    std::string error;  // the first wrong reply
    std::string Error() {
      std::lock_guard<std::mutex> lock(mu);
      return error;
    }
  };

  void End() {
    std::lock_guard<std::mutex> lock(run_mu_);
    run_.reset();
  }

  static absl::Status Error(const char* what, natsStatus s) {
    return absl::UnavailableError(
        absl::StrCat(what, ": ", natsStatus_GetText(s)));
  }
  static int64_t Dropped(natsSubscription* sub) {
    int64_t d = 0;
    natsSubscription_GetDropped(sub, &d);
    return d;
  }

  static void OnEvent(natsConnection*, natsSubscription*, natsMsg* msg,
                      void* closure) {
    natsMsg_Destroy(msg);
    static_cast<Counter*>(closure)->Add();
  }
  static void OnEcho(natsConnection* nc, natsSubscription*, natsMsg* msg,
                     void*) {
    if (const char* reply = natsMsg_GetReply(msg); reply != nullptr) {
      natsConnection_Publish(nc, reply, natsMsg_GetData(msg),
                             natsMsg_GetDataLength(msg));
    }
    natsMsg_Destroy(msg);
  }
  static void OnReply(natsConnection*, natsSubscription*, natsMsg* msg,
                      void* closure) {
    auto* self = static_cast<RawFanout*>(closure);
    const char* subject = natsMsg_GetSubject(msg);
    const size_t len = std::strlen(subject);
    const size_t prefix = self->inbox_.size();
    uint64_t token = 0;
    bool parsed = len > prefix &&
                  std::from_chars(subject + prefix, subject + len, token).ec ==
                      std::errc();
    const int size = natsMsg_GetDataLength(msg);
    natsMsg_Destroy(msg);
    if (!parsed) return;
    std::shared_ptr<Run> run;
    {
      std::lock_guard<std::mutex> lock(self->run_mu_);
      run = self->run_;
    }
    const uint64_t i = token & 0xffffffffu;
    if (run == nullptr || (token >> 32) != run->generation ||
        i >= run->calls.size()) {
      return;  // late: its call is over
    }
    if (static_cast<size_t>(size) != run->size) {
      std::lock_guard<std::mutex> lock(run->mu);
      if (run->error.empty()) run->error = "wrong reply size";
    }
    if (run->calls[i].replies.fetch_add(1) + 1 != kInstances) return;
    if (run->loop != nullptr) {
      run->loop->Done(static_cast<int64_t>(i), "");
    } else {
      std::lock_guard<std::mutex> lock(run->mu);
      run->cv.notify_all();
    }
  }

  const bool send_asap_;
  const std::string prefix_;  // requests.<id>.<id>.natsrpc_bench_fanout.
  const std::string inbox_;   // responses.<id>.<id>.natsrpc_bench_fanout.inbox.
  natsConnection* pub_ = nullptr;
  natsConnection* responders_[kInstances] = {};
  natsSubscription* sink_sub_ = nullptr;
  natsSubscription* inbox_sub_ = nullptr;
  natsSubscription* bcast_subs_[kInstances] = {};
  natsSubscription* echo_subs_[kInstances] = {};
  Counter sink_;
  Counter bcast_[kInstances];
  uint32_t generation_ = 0;
  std::mutex run_mu_;
  std::shared_ptr<Run> run_;
};

// ---------------------------------------------------------------- main

struct RowSpec {
  const char* id;
  const char* description;
  const char* unit;  // what the rate counts
};

constexpr RowSpec kRows[] = {
    {"event", "event, queue group of 1: delivered", "events/s"},
    {"event_confirmed", "confirmed event (flush each)", "events/s"},
    {"broadcast", "broadcast event to 3 instances: delivered to all",
     "events/s"},
    {"gather_seq", "scatter-gather to 3, one at a time", "gathers/s"},
    {"gather_async", "scatter-gather to 3, in flight", "gathers/s"},
};

struct Flags {
  int reps = 3;
  int64_t events = 100000;
  int64_t confirmed = 5000;
  int64_t broadcasts = 50000;
  int64_t gathers = 3000;
  int64_t async_gathers = 10000;
  int inflight = 32;
  bool quick = false;
  std::string only, rows, json, note, nats_server;
  bool Wanted(const std::string& list, const std::string& item) const {
    return list.empty() ||
           ("," + list + ",").find("," + item + ",") != std::string::npos;
  }
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The repetitions of one row of one contender.
struct Row {
  std::string error;
  int64_t ops = 0;
  std::vector<double> rate, publish_rate, cpu, server_cpu, p50, p99;
  int64_t dropped = 0;
  bool ok() const { return error.empty() && !rate.empty(); }
};

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
    auto count = [&]() {
      return std::max<int64_t>(1, std::atoll(value().c_str()));
    };
    if (a == "--reps") {
      f.reps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--events") {
      f.events = count();
    } else if (a == "--confirmed") {
      f.confirmed = count();
    } else if (a == "--broadcasts") {
      f.broadcasts = count();
    } else if (a == "--gathers") {
      f.gathers = count();
    } else if (a == "--async-gathers") {
      f.async_gathers = count();
    } else if (a == "--inflight") {
      f.inflight = static_cast<int>(std::clamp<int64_t>(count(), 2, 4096));
    } else if (a == "--only") {
      f.only = value();
    } else if (a == "--rows") {
      f.rows = value();
    } else if (a == "--quick") {
      f.quick = true;
    } else if (a == "--json") {
      f.json = value();
    } else if (a == "--note") {
      f.note = value();
    } else if (a == "--nats-server") {
      f.nats_server = value();
    } else {
      std::cerr
          << "usage: natsrpc_fanout_bench [--reps N] [--quick] [--json FILE] "
             "[--note TEXT] [--nats-server PATH] [--inflight N] [--events N] "
             "[--confirmed N] [--broadcasts N] [--gathers N] "
             "[--async-gathers N] [--only natsrpc,natsrpc_deepq,raw_buffered,"
             "raw_sendasap] "
             "[--rows event,event_confirmed,broadcast,gather_seq,"
             "gather_async]\n";
      return 2;
    }
  }
  if (f.quick) {
    f.reps = 1;
    f.events = 2000;
    f.confirmed = 200;
    f.broadcasts = 1000;
    f.gathers = 100;
    f.async_gathers = 500;
  }
  NatsServerProcess server;
  if (absl::Status s = server.Start(f.nats_server); !s.ok()) {
    std::cerr << "nats-server: " << s << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<FanoutContender>> contenders;
  contenders.push_back(std::make_unique<NatsrpcFanout>());
  contenders.push_back(std::make_unique<NatsrpcFanout>(/*deep_queue=*/true));
  contenders.push_back(std::make_unique<RawFanout>(/*send_asap=*/false));
  contenders.push_back(std::make_unique<RawFanout>(/*send_asap=*/true));

  const std::string payload = MakePayload(kPayload);
  // rows[contender][row]
  std::map<std::string, std::map<std::string, Row>> rows;
  bool all_ok = true;
  const auto wall0 = Clock::now();
  const int64_t machine0 = MachineBusyCpuMicros();
  const int64_t own0 = SelfCpuMicros() + server.CpuMicros();
  // Repetitions outside, so that a busy moment of the machine hits one
  // repetition of each contender rather than every one of one contender.
  for (int rep = 0; rep < f.reps; ++rep) {
    for (auto& c : contenders) {
      if (!f.Wanted(f.only, c->id())) continue;
      if (absl::Status s = c->Setup(server.url()); !s.ok()) {
        std::cerr << c->id() << ": " << s << "\n";
        for (const RowSpec& spec : kRows) {
          if (f.Wanted(f.rows, spec.id) && c->Supports(spec.id)) {
            rows[c->id()][spec.id].error =
                absl::StrCat("setup: ", s.ToString());
          }
        }
        c->Teardown();
        continue;
      }
      for (const RowSpec& spec : kRows) {
        const std::string row_id = spec.id;
        if (!f.Wanted(f.rows, row_id) || !c->Supports(row_id)) continue;
        Row& row = rows[c->id()][row_id];
        if (!row.error.empty()) continue;  // failed in an earlier repetition
        const int64_t cpu0 = SelfCpuMicros();
        const int64_t server0 = server.CpuMicros();
        Result r;
        if (row_id == "event") {
          r = c->Events(f.events, payload, /*confirmed=*/false);
        } else if (row_id == "event_confirmed") {
          r = c->Events(f.confirmed, payload, /*confirmed=*/true);
        } else if (row_id == "broadcast") {
          r = c->Broadcast(f.broadcasts, payload);
        } else if (row_id == "gather_seq") {
          r = c->Gather(f.gathers, 1, payload);
        } else {
          r = c->Gather(f.async_gathers, f.inflight, payload);
        }
        const int64_t server_us = server.CpuMicros() - server0;
        const int64_t cpu_us = SelfCpuMicros() - cpu0 + server_us;
        if (!r.ok || r.ops <= 0 || r.seconds <= 0) {
          row.error = r.error.empty() ? "no operation completed" : r.error;
          continue;
        }
        row.ops = r.ops;
        row.dropped += r.dropped;
        // Confirmed events: the publisher's rate is the figure (each
        // waited for its round trip); the others: until done/delivered.
        const double secs =
            row_id == "event_confirmed" ? r.publish_seconds : r.seconds;
        // Events: what arrived (drops do not count).
        const double done = row_id != "event_confirmed" && r.delivered >= 0
                                ? r.delivered
                                : static_cast<double>(r.ops);
        row.rate.push_back(done / secs);
        if (r.publish_seconds > 0) {
          row.publish_rate.push_back(static_cast<double>(r.ops) /
                                     r.publish_seconds);
        }
        row.cpu.push_back(static_cast<double>(cpu_us) / r.ops);
        row.server_cpu.push_back(static_cast<double>(server_us) / r.ops);
        if (!r.latencies_us.empty()) {
          row.p50.push_back(Percentile(r.latencies_us, 0.50));
          row.p99.push_back(Percentile(r.latencies_us, 0.99));
        }
      }
      c->Teardown();
    }
  }
  const double wall = Seconds(Clock::now() - wall0);
  const double foreign_cores =
      wall > 0
          ? static_cast<double>(MachineBusyCpuMicros() - machine0 -
                                (SelfCpuMicros() + server.CpuMicros() - own0)) /
                1e6 / wall
          : 0;

  JsonWriter json;
  json.BeginObject();
  json.Field("schema", "natsrpc-fanout-bench/1");
  json.Field("note", f.note);
  json.Field("reps", static_cast<double>(f.reps));
  json.Field("quick", f.quick);
  json.Field("payload_bytes", static_cast<double>(kPayload));
  json.Field("instances", static_cast<double>(kInstances));
  json.Field("inflight", static_cast<double>(f.inflight));
  json.Field("nats_server", server.version());
  json.Field("nats_c", nats_GetVersion());
  json.Field("foreign_cpu_cores", foreign_cores);
  json.Key("rows");
  json.BeginArray();
  std::printf("%-16s %-32s %8s %12s %12s %9s %9s %10s %7s %7s %8s\n", "row",
              "contender", "ops", "rate/s", "published/s", "p50", "p99",
              "CPU/op", "x raw", "CPUxraw", "dropped");
  for (const RowSpec& spec : kRows) {
    if (!f.Wanted(f.rows, spec.id)) continue;
    // The better raw configuration of this row, per figure.
    double raw_rate = 0, raw_cpu = 0;
    std::string raw_best;
    for (auto& c : contenders) {
      if (!c->raw() || !rows.contains(c->id())) continue;
      const Row& row = rows[c->id()][spec.id];
      if (!row.ok()) continue;
      if (Median(row.rate) > raw_rate) {
        raw_rate = Median(row.rate);
        raw_best = c->id();
      }
      if (raw_cpu == 0 || Median(row.cpu) < raw_cpu) raw_cpu = Median(row.cpu);
    }
    for (auto& c : contenders) {
      if (!rows.contains(c->id()) || !rows[c->id()].contains(spec.id)) {
        continue;
      }
      const Row& row = rows[c->id()][spec.id];
      const bool inflight_row = std::string(spec.id) == "gather_async";
      json.BeginObject();
      json.Field("row", spec.id);
      json.Field("description", spec.description);
      json.Field("unit", spec.unit);
      json.Field("contender", c->id());
      json.Field("label", c->label());
      json.Field("raw", c->raw());
      json.Field("inflight",
                 inflight_row ? static_cast<double>(f.inflight) : 1.0);
      json.Field("ok", row.ok());
      if (!row.ok()) {
        all_ok = false;
        json.Field("error", row.error);
        std::printf("%-16s %-32s failed: %s\n", spec.id, c->label().c_str(),
                    row.error.c_str());
        json.EndObject();
        continue;
      }
      const double rate = Median(row.rate), cpu = Median(row.cpu);
      json.Field("ops", static_cast<double>(row.ops));
      json.Field("rate", rate);
      json.Field("rate_min",
                 *std::min_element(row.rate.begin(), row.rate.end()));
      json.Field("rate_max",
                 *std::max_element(row.rate.begin(), row.rate.end()));
      if (!row.publish_rate.empty()) {
        json.Field("publish_rate", Median(row.publish_rate));
      }
      json.Field("cpu_us_per_op", cpu);
      json.Field("nats_server_cpu_us_per_op", Median(row.server_cpu));
      if (!row.p50.empty()) {
        json.Field("p50_us", Median(row.p50));
        json.Field("p99_us", Median(row.p99));
      }
      json.Field("dropped", static_cast<double>(row.dropped));
      if (!raw_best.empty()) {
        json.Field("raw_best", raw_best);
        json.Field("rate_ratio_to_raw_best", rate / raw_rate);
        json.Field("cpu_ratio_to_raw_best", cpu / raw_cpu);
      }
      json.EndObject();
      char p50[32] = "-", p99[32] = "-", pub[32] = "-";
      if (!row.p50.empty()) {
        std::snprintf(p50, sizeof(p50), "%.0f us", Median(row.p50));
        std::snprintf(p99, sizeof(p99), "%.0f us", Median(row.p99));
      }
      if (!row.publish_rate.empty()) {
        std::snprintf(pub, sizeof(pub), "%.0f", Median(row.publish_rate));
      }
      std::printf(
          "%-16s %-32s %8lld %12.0f %12s %9s %9s %7.2f us %7.2f %7.2f %8lld\n",
          spec.id, c->label().c_str(), static_cast<long long>(row.ops), rate,
          pub, p50, p99, cpu, raw_best.empty() ? 0 : rate / raw_rate,
          raw_best.empty() ? 0 : cpu / raw_cpu,
          static_cast<long long>(row.dropped));
    }
    std::fflush(stdout);
  }
  json.EndArray();
  json.EndObject();
  std::printf("other processes used %.2f cores during the run%s\n",
              foreign_cores,
              foreign_cores > 0.2 ? ": the figures are rough" : "");
  if (!f.json.empty()) {
    std::ofstream out(f.json);
    out << json.str() << "\n";
    if (!out) {
      std::cerr << "cannot write " << f.json << "\n";
      all_ok = false;
    }
  }
  server.Stop();
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace natsrpc_bench

int main(int argc, char** argv) { return natsrpc_bench::Main(argc, argv); }
