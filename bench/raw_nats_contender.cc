// Copyright 2026 The natsrpc Authors.
//
// The baseline: what a careful nats.c user writes by hand. A responder
// connection echoes every request on `requests.bench.echo`; a requester
// connection publishes requests with natsConnection_PublishRequest, each with
// reply subject `responses.bench.<id>.<seq>`, and routes the replies arriving
// on one shared wildcard subscription `responses.bench.<id>.*` back to their
// call by the seq token. Two configurations: nats.c defaults (buffered, the
// flusher thread writes within 1 ms) and SendAsap on both connections.

#include <nats/nats.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "contender.h"

namespace natsrpc_bench {
namespace {

// Subjects are per contender (all contenders are connected at once):
// requests.bench.<id>.echo, responses.bench.<id>.<seq>.
// seq = generation << kSlotBits | slot.
constexpr int kSlotBits = 20;
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;

absl::Status NatsError(const char* what, natsStatus s) {
  return absl::UnavailableError(
      absl::StrCat(what, ": ", natsStatus_GetText(s)));
}

class RawNatsContender final : public Contender {
 public:
  explicit RawNatsContender(bool send_asap)
      : send_asap_(send_asap),
        request_subject_(absl::StrCat("requests.bench.", id(), ".echo")),
        reply_prefix_(absl::StrCat("responses.bench.", id(), ".")) {}
  ~RawNatsContender() override { Teardown(); }

  std::string id() const override {
    return send_asap_ ? "raw_sendasap" : "raw_buffered";
  }
  std::string label() const override {
    return send_asap_ ? "raw nats.c (SendAsap)" : "raw nats.c (buffered)";
  }
  std::string family() const override { return "raw"; }
  bool blocking() const override { return false; }

  absl::Status Setup(const Env& env) override {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, env.nats_url.c_str());
    if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, send_asap_);
    if (s == NATS_OK) s = natsConnection_Connect(&responder_, opts);
    if (s == NATS_OK) s = natsConnection_Connect(&requester_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return NatsError("connect", s);

    s = natsConnection_Subscribe(&request_sub_, responder_,
                                 request_subject_.c_str(),
                                 &RawNatsContender::OnRequest, this);
    if (s == NATS_OK) {
      const std::string wildcard = reply_prefix_ + "*";
      s = natsConnection_Subscribe(&reply_sub_, requester_, wildcard.c_str(),
                                   &RawNatsContender::OnReply, this);
    }
    // 1024 calls of 64 KB exceed nats.c's default 64 MB per subscription.
    if (s == NATS_OK)
      s = natsSubscription_SetPendingLimits(request_sub_, -1, -1);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(reply_sub_, -1, -1);
    // Both subscriptions are known to the server once these return.
    if (s == NATS_OK) s = natsConnection_Flush(responder_);
    if (s == NATS_OK) s = natsConnection_Flush(requester_);
    if (s != NATS_OK) return NatsError("subscribe", s);
    return absl::OkStatus();
  }

  void Teardown() override {
    if (reply_sub_ != nullptr) {
      natsSubscription_Unsubscribe(reply_sub_);
      natsSubscription_Destroy(reply_sub_);
      reply_sub_ = nullptr;
    }
    if (request_sub_ != nullptr) {
      natsSubscription_Unsubscribe(request_sub_);
      natsSubscription_Destroy(request_sub_);
      request_sub_ = nullptr;
    }
    for (natsConnection** c : {&requester_, &responder_}) {
      if (*c != nullptr) {
        natsConnection_Close(*c);
        natsConnection_Destroy(*c);
        *c = nullptr;
      }
    }
  }

  void SetPayload(size_t bytes) override { payload_ = MakePayload(bytes); }

  void Prepare(uint32_t slots, CompletionSink* sink) override {
    generations_ = std::make_unique<std::atomic<uint64_t>[]>(slots);
    num_slots_ = slots;
    sink_ = sink;
  }

  void Start(uint32_t slot) override {
    const uint64_t generation =
        generations_[slot].fetch_add(1, std::memory_order_relaxed) + 1;
    const uint64_t seq = (generation << kSlotBits) | slot;
    char reply[96];
    const size_t prefix = reply_prefix_.size();  // < 64 (ids are short)
    std::memcpy(reply, reply_prefix_.data(), prefix);
    char* end =
        std::to_chars(reply + prefix, reply + sizeof(reply) - 1, seq).ptr;
    *end = '\0';
    natsStatus s = natsConnection_PublishRequest(
        requester_, request_subject_.c_str(), reply, payload_.data(),
        static_cast<int>(payload_.size()));
    if (s != NATS_OK) sink_->Done(slot, false);
  }

 private:
  static void OnRequest(natsConnection* nc, natsSubscription*, natsMsg* msg,
                        void*) {
    const char* reply = natsMsg_GetReply(msg);
    if (reply != nullptr) {
      natsConnection_Publish(nc, reply, natsMsg_GetData(msg),
                             natsMsg_GetDataLength(msg));
    }
    natsMsg_Destroy(msg);
  }

  static void OnReply(natsConnection*, natsSubscription*, natsMsg* msg,
                      void* closure) {
    auto* self = static_cast<RawNatsContender*>(closure);
    const char* subject = natsMsg_GetSubject(msg);
    const size_t len = std::strlen(subject);
    const size_t prefix = self->reply_prefix_.size();
    uint64_t seq = 0;
    bool ok =
        len > prefix &&
        std::from_chars(subject + prefix, subject + len, seq).ec == std::errc();
    const uint32_t slot = static_cast<uint32_t>(seq & kSlotMask);
    // Late or unknown replies are dropped, as a multiplexer must.
    ok = ok && slot < self->num_slots_ &&
         self->generations_[slot].load(std::memory_order_relaxed) ==
             (seq >> kSlotBits);
    const bool intact = static_cast<size_t>(natsMsg_GetDataLength(msg)) ==
                        self->payload_.size();
    natsMsg_Destroy(msg);
    if (ok) self->sink_->Done(slot, intact);
  }

  const bool send_asap_;
  const std::string request_subject_;
  const std::string reply_prefix_;
  natsConnection* responder_ = nullptr;
  natsConnection* requester_ = nullptr;
  natsSubscription* request_sub_ = nullptr;
  natsSubscription* reply_sub_ = nullptr;
  std::string payload_;
  std::unique_ptr<std::atomic<uint64_t>[]> generations_;
  uint32_t num_slots_ = 0;
  CompletionSink* sink_ = nullptr;
};

}  // namespace

std::vector<ContenderFactory> RawNatsContenders() {
  return {
      [] { return std::make_unique<RawNatsContender>(false); },
      [] { return std::make_unique<RawNatsContender>(true); },
  };
}

}  // namespace natsrpc_bench
