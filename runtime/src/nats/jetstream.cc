// Copyright 2026 The natsrpc Authors.

#include "nats/jetstream.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nats/nats_transport.h"

namespace natsrpc::internal {
namespace {

int64_t Nanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

int64_t Millis(absl::Duration d) {
  return std::max<int64_t>(1, absl::ToInt64Milliseconds(d));
}

// nats.c's status (and JetStream error code, 0 if none) as a status naming
// `what`.
absl::Status JsError(natsStatus s, jsErrCode code, absl::string_view what) {
  std::string text = absl::StrCat(what, ": ", NatsText(s));
  if (code != 0) absl::StrAppend(&text, " (JetStream error ", code, ")");
  switch (s) {
    case NATS_NOT_FOUND:
      return absl::NotFoundError(text);
    case NATS_NOT_PERMITTED:
      return absl::PermissionDeniedError(text);
    case NATS_TIMEOUT:
      return absl::DeadlineExceededError(text);
    case NATS_NO_RESPONDERS:
      return absl::UnavailableError(
          absl::StrCat(text, " (is JetStream enabled on the server?)"));
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

class NatsJetStreamMessage final : public JetStreamMessage {
 public:
  NatsJetStreamMessage(natsMsg* msg, int64_t timeout_ms)
      : msg_(msg), timeout_ms_(timeout_ms) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg_) == NATS_OK) {
      num_delivered_ = meta->NumDelivered;
      stream_sequence_ = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
  }
  ~NatsJetStreamMessage() override { natsMsg_Destroy(msg_); }

  absl::string_view subject() const override {
    return natsMsg_GetSubject(msg_);
  }
  absl::string_view reply() const override {
    const char* r = natsMsg_GetReply(msg_);
    return r == nullptr ? absl::string_view() : absl::string_view(r);
  }
  absl::string_view data() const override {
    const char* d = natsMsg_GetData(msg_);
    return d == nullptr ? absl::string_view()
                        : absl::string_view(d, natsMsg_GetDataLength(msg_));
  }
  std::optional<absl::string_view> header(
      absl::string_view key) const override {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg_, std::string(key).c_str(), &value) != NATS_OK ||
        value == nullptr) {
      return std::nullopt;
    }
    return absl::string_view(value);
  }
  Metadata headers() const override {
    Metadata out;
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg_, &keys, &count) != NATS_OK) return out;
    for (int i = 0; i < count; ++i) {
      const char** values = nullptr;
      int n = 0;
      if (natsMsgHeader_Values(msg_, keys[i], &values, &n) == NATS_OK) {
        for (int j = 0; j < n; ++j) out.emplace_back(keys[i], values[j]);
        free(values);
      }
    }
    free(keys);
    return out;
  }
  bool is_no_responders() const override { return false; }

  uint64_t num_delivered() const override { return num_delivered_; }
  uint64_t stream_sequence() const override { return stream_sequence_; }

  absl::Status Ack() override {
    jsOptions opts;
    jsOptions_Init(&opts);
    opts.Wait = timeout_ms_;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = natsMsg_AckSync(msg_, &opts, &code);
    return s == NATS_OK ? absl::OkStatus() : JsError(s, code, "ack");
  }
  absl::Status Nak(absl::Duration delay) override {
    natsStatus s = delay > absl::ZeroDuration()
                       ? natsMsg_NakWithDelay(msg_, Millis(delay), nullptr)
                       : natsMsg_Nak(msg_, nullptr);
    return s == NATS_OK ? absl::OkStatus()
                        : JsError(s, static_cast<jsErrCode>(0), "nak");
  }
  absl::Status Term() override {
    natsStatus s = natsMsg_Term(msg_, nullptr);
    return s == NATS_OK ? absl::OkStatus()
                        : JsError(s, static_cast<jsErrCode>(0), "term");
  }
  absl::Status InProgress() override {
    natsStatus s = natsMsg_InProgress(msg_, nullptr);
    return s == NATS_OK ? absl::OkStatus()
                        : JsError(s, static_cast<jsErrCode>(0), "in progress");
  }

 private:
  natsMsg* const msg_;
  const int64_t timeout_ms_;
  uint64_t num_delivered_ = 0;
  uint64_t stream_sequence_ = 0;
};

class NatsPullConsumer final : public PullConsumer {
 public:
  NatsPullConsumer(natsSubscription* sub, int64_t timeout_ms)
      : sub_(sub), timeout_ms_(timeout_ms) {}
  // Unsubscribes only: the durable consumer stays on the server.
  ~NatsPullConsumer() override { natsSubscription_Destroy(sub_); }

  absl::StatusOr<std::vector<std::unique_ptr<JetStreamMessage>>> Fetch(
      int batch, absl::Duration wait) override {
    std::vector<std::unique_ptr<JetStreamMessage>> out;
    natsMsgList list{};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub_, std::max(1, batch),
                                          Millis(wait), &code);
    if (s == NATS_TIMEOUT) return out;
    if (s != NATS_OK) return JsError(s, code, "fetch");
    for (int i = 0; i < list.Count; ++i) {
      if (list.Msgs[i] == nullptr) continue;
      out.push_back(
          std::make_unique<NatsJetStreamMessage>(list.Msgs[i], timeout_ms_));
      list.Msgs[i] = nullptr;  // owned by the message now
    }
    natsMsgList_Destroy(&list);
    return out;
  }

 private:
  natsSubscription* const sub_;
  const int64_t timeout_ms_;
};

class NatsKeyWatcher final : public KeyWatcher {
 public:
  explicit NatsKeyWatcher(kvWatcher* w) : w_(w) {}
  ~NatsKeyWatcher() override { kvWatcher_Destroy(w_); }

  absl::StatusOr<std::optional<std::string>> Next(
      absl::Time deadline) override {
    for (;;) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return std::nullopt;
      kvEntry* e = nullptr;
      natsStatus s = kvWatcher_Next(&e, w_, Millis(left));
      if (s == NATS_TIMEOUT) return std::nullopt;
      if (s != NATS_OK) {
        return JsError(s, static_cast<jsErrCode>(0), "watch");
      }
      // Null: the marker after the initial values.
      if (e == nullptr) continue;
      std::optional<std::string> value;
      if (kvEntry_Operation(e) == kvOp_Put) {
        value.emplace(static_cast<const char*>(kvEntry_Value(e)),
                      kvEntry_ValueLen(e));
      }
      kvEntry_Destroy(e);
      if (value.has_value()) return value;
    }
  }

 private:
  kvWatcher* const w_;
};

class NatsJetStream final : public JetStream {
 public:
  NatsJetStream(jsCtx* js, int64_t timeout_ms)
      : js_(js), timeout_ms_(timeout_ms) {}
  ~NatsJetStream() override {
    for (auto& [name, kv] : buckets_) kvStore_Destroy(kv);
    jsCtx_Destroy(js_);
  }

  absl::Status EnsureStream(const StreamSpec& spec) override {
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s =
        js_GetStreamInfo(&si, js_, spec.name.c_str(), nullptr, &code);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(si);
      return absl::OkStatus();
    }
    if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
      return JsError(s, code, absl::StrCat("stream info ", spec.name));
    }
    std::vector<const char*> subjects;
    for (const std::string& subj : spec.subjects) {
      subjects.push_back(subj.c_str());
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardOld;
    if (spec.max_msgs > 0) cfg.MaxMsgs = spec.max_msgs;
    if (spec.max_bytes > 0) cfg.MaxBytes = spec.max_bytes;
    if (spec.max_age > absl::ZeroDuration()) cfg.MaxAge = Nanos(spec.max_age);
    if (spec.duplicate_window > absl::ZeroDuration()) {
      cfg.Duplicates = Nanos(spec.duplicate_window);
    }
    code = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js_, &cfg, nullptr, &code);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(si);
      return absl::OkStatus();
    }
    // Created by someone else meanwhile.
    if (code == JSStreamNameExistErr) return absl::OkStatus();
    return JsError(s, code, absl::StrCat("create stream ", spec.name));
  }

  absl::StatusOr<PublishAck> Publish(absl::string_view subject,
                                     absl::Span<const HeaderRef> headers,
                                     absl::string_view data,
                                     absl::string_view msg_id) override {
    const std::string subj(subject);
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subj.c_str(), nullptr, data.data(),
                                  static_cast<int>(data.size()));
    for (const HeaderRef& h : headers) {
      if (s != NATS_OK) break;
      s = natsMsgHeader_Add(msg, std::string(h.key).c_str(),
                            std::string(h.value).c_str());
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      return JsError(s, static_cast<jsErrCode>(0),
                     absl::StrCat("message to ", subject));
    }
    const std::string id(msg_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeout_ms_;
    if (!id.empty()) po.MsgId = id.c_str();
    jsPubAck* pa = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    s = js_PublishMsg(&pa, js_, msg, &po, &code);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) {
      return JsError(s, code, absl::StrCat("publish to ", subject));
    }
    PublishAck ack;
    ack.stream = pa->Stream == nullptr ? "" : pa->Stream;
    ack.sequence = pa->Sequence;
    ack.duplicate = pa->Duplicate;
    jsPubAck_Destroy(pa);
    return ack;
  }

  absl::StatusOr<std::unique_ptr<PullConsumer>> PullSubscribe(
      const ConsumerSpec& spec) override {
    jsConsumerInfo* ci = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s =
        js_GetConsumerInfo(&ci, js_, spec.stream.c_str(),
                           spec.durable_name.c_str(), nullptr, &code);
    if (s == NATS_OK) {
      jsConsumerInfo_Destroy(ci);
    } else if (s == NATS_NOT_FOUND || code == JSConsumerNotFoundErr) {
      jsConsumerConfig cc;
      jsConsumerConfig_Init(&cc);
      cc.Durable = spec.durable_name.c_str();
      cc.AckPolicy = js_AckExplicit;
      cc.DeliverPolicy = js_DeliverAll;
      cc.AckWait = Nanos(spec.ack_wait);
      // The core counts deliveries itself (it dead-letters a request that
      // was delivered too often), so the server never gives up on one.
      cc.MaxDeliver = -1;
      cc.MaxAckPending = spec.max_ack_pending;
      cc.FilterSubject = spec.filter_subject.c_str();
      code = static_cast<jsErrCode>(0);
      s = js_AddConsumer(&ci, js_, spec.stream.c_str(), &cc, nullptr, &code);
      if (s != NATS_OK) {
        return JsError(s, code,
                       absl::StrCat("create consumer ", spec.durable_name,
                                    " on ", spec.stream));
      }
      jsConsumerInfo_Destroy(ci);
    } else {
      return JsError(s, code,
                     absl::StrCat("consumer info ", spec.durable_name));
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = spec.stream.c_str();
    so.Consumer = spec.durable_name.c_str();
    natsSubscription* sub = nullptr;
    code = static_cast<jsErrCode>(0);
    s = js_PullSubscribe(&sub, js_, spec.filter_subject.c_str(),
                         spec.durable_name.c_str(), nullptr, &so, &code);
    if (s != NATS_OK) {
      return JsError(s, code,
                     absl::StrCat("bind to consumer ", spec.durable_name));
    }
    return std::make_unique<NatsPullConsumer>(sub, timeout_ms_);
  }

  absl::Status EnsureKeyValue(const KeyValueSpec& spec) override {
    absl::MutexLock lock(&mu_);
    if (buckets_.count(spec.bucket) != 0) return absl::OkStatus();
    kvStore* kv = nullptr;
    natsStatus s = js_KeyValue(&kv, js_, spec.bucket.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = spec.bucket.c_str();
      cfg.History = 1;
      cfg.StorageType = js_FileStorage;
      if (spec.ttl > absl::ZeroDuration()) cfg.TTL = Nanos(spec.ttl);
      if (spec.max_bytes > 0) cfg.MaxBytes = spec.max_bytes;
      s = js_CreateKeyValue(&kv, js_, &cfg);
    }
    if (s != NATS_OK) {
      return JsError(s, static_cast<jsErrCode>(0),
                     absl::StrCat("key-value bucket ", spec.bucket));
    }
    buckets_.emplace(spec.bucket, kv);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> KeyValueGet(
      absl::string_view bucket, absl::string_view key) override {
    absl::StatusOr<kvStore*> kv = Bucket(bucket);
    if (!kv.ok()) return kv.status();
    kvEntry* e = nullptr;
    natsStatus s = kvStore_Get(&e, *kv, std::string(key).c_str());
    if (s == NATS_NOT_FOUND) return std::nullopt;
    if (s != NATS_OK) {
      return JsError(s, static_cast<jsErrCode>(0),
                     absl::StrCat("get ", key, " from ", bucket));
    }
    std::optional<std::string> value;
    if (kvEntry_Operation(e) == kvOp_Put) {
      value.emplace(static_cast<const char*>(kvEntry_Value(e)),
                    kvEntry_ValueLen(e));
    }
    kvEntry_Destroy(e);
    return value;
  }

  absl::Status KeyValuePut(absl::string_view bucket, absl::string_view key,
                           absl::string_view value) override {
    absl::StatusOr<kvStore*> kv = Bucket(bucket);
    if (!kv.ok()) return kv.status();
    uint64_t rev = 0;
    natsStatus s = kvStore_Put(&rev, *kv, std::string(key).c_str(),
                               value.data(), static_cast<int>(value.size()));
    return s == NATS_OK ? absl::OkStatus()
                        : JsError(s, static_cast<jsErrCode>(0),
                                  absl::StrCat("put ", key, " to ", bucket));
  }

  absl::StatusOr<std::unique_ptr<KeyWatcher>> KeyValueWatch(
      absl::string_view bucket, absl::string_view key) override {
    absl::StatusOr<kvStore*> kv = Bucket(bucket);
    if (!kv.ok()) return kv.status();
    kvWatcher* w = nullptr;
    natsStatus s = kvStore_Watch(&w, *kv, std::string(key).c_str(), nullptr);
    if (s != NATS_OK) {
      return JsError(s, static_cast<jsErrCode>(0),
                     absl::StrCat("watch ", key, " in ", bucket));
    }
    return std::make_unique<NatsKeyWatcher>(w);
  }

 private:
  // The bucket's handle, bound on first use (EnsureKeyValue creates it).
  absl::StatusOr<kvStore*> Bucket(absl::string_view bucket) {
    absl::MutexLock lock(&mu_);
    auto it = buckets_.find(bucket);
    if (it != buckets_.end()) return it->second;
    kvStore* kv = nullptr;
    const std::string name(bucket);
    natsStatus s = js_KeyValue(&kv, js_, name.c_str());
    if (s != NATS_OK) {
      return JsError(s, static_cast<jsErrCode>(0),
                     absl::StrCat("key-value bucket ", bucket));
    }
    buckets_.emplace(name, kv);
    return kv;
  }

  jsCtx* const js_;
  const int64_t timeout_ms_;
  absl::Mutex mu_;
  std::map<std::string, kvStore*, std::less<>> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::shared_ptr<JetStream>> OpenNatsJetStream(
    natsConnection* nc, const JetStreamOptions& options) {
  const int64_t timeout_ms = Millis(options.timeout);
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Wait = timeout_ms;
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_JetStream(&js, nc, &opts);
  if (s != NATS_OK) {
    return JsError(s, static_cast<jsErrCode>(0), "JetStream context");
  }
  return std::make_shared<NatsJetStream>(js, timeout_ms);
}

}  // namespace natsrpc::internal
