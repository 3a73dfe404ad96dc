// Copyright 2026 The natsrpc Authors.
//
// A Transport for compile tests of generated code: it records the subject of
// every publish and fails it, so every call ends at once with UNAVAILABLE.
// Header-only, so the -Werror compile tests need no extra library.

#ifndef NATSRPC_TESTS_SUPPORT_RECORDING_TRANSPORT_H_
#define NATSRPC_TESTS_SUPPORT_RECORDING_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "natsrpc/transport.h"

namespace natsrpc::testing {

class RecordingTransport final : public natsrpc::Transport {
 public:
  absl::Status Publish(const natsrpc::OutgoingMessage& message) override {
    absl::MutexLock lock(&mu_);
    subjects_.emplace_back(message.subject);
    return absl::UnavailableError("recording transport");
  }
  absl::StatusOr<std::unique_ptr<natsrpc::Subscription>> Subscribe(
      absl::string_view, absl::string_view, MessageHandler) override {
    return std::make_unique<natsrpc::Subscription>();
  }
  int64_t max_payload() const override { return 1 << 20; }
  bool connected() const override { return true; }
  uint64_t AddEventListener(EventListener) override { return 1; }
  void RemoveEventListener(uint64_t) override {}
  void Close() override {}

  // The subject of the last publish, or "" if none since the last call.
  std::string TakeLastSubject() {
    absl::MutexLock lock(&mu_);
    std::string last = subjects_.empty() ? "" : subjects_.back();
    subjects_.clear();
    return last;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> subjects_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_SUPPORT_RECORDING_TRANSPORT_H_
