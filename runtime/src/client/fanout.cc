// Copyright 2026 The natsrpc Authors.
//
// ClientChannel's events and scatter-gather (natsrpc/fanout.h,
// docs/protocol.md section 13). Neither goes through the ReplyMux: an event
// has no reply, and a scatter-gather call takes many replies, which the
// client's GatherMux (client/gather_mux.h) collects on a reply subject of
// its own client id.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/call_interceptors.h"
#include "client/client_metrics.h"
#include "client/gather_mux.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/status_macros.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

absl::Status ClientChannel::PublishEvent(int method, const Payload& event,
                                         bool broadcast, bool confirm,
                                         const EventOptions& options) {
  if (!status_.ok()) return status_;
  if (method < 0 || static_cast<size_t>(method) >= methods_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no method number ", method, " in this client"));
  }
  const Method& m = methods_[static_cast<size_t>(method)];
  m.counters->calls.fetch_add(1, std::memory_order_relaxed);
  const absl::Time start = absl::Now();
  UnmuxedCall unmuxed;
  absl::Status status = [&]() -> absl::Status {
    CallOptions call;
    call.metadata = options.metadata;
    Metadata merged;
    absl::StatusOr<const Metadata*> metadata = CallMetadata(call, merged);
    if (!metadata.ok()) return metadata.status();
    const absl::Duration timeout =
        options.confirm_timeout > absl::ZeroDuration() ? options.confirm_timeout
                                                       : m.timeout;
    CallInfo info{requester_,
                  responder_,
                  app_,
                  service_,
                  m.name,
                  CallKind::kUnary,
                  confirm ? absl::Now() + timeout : absl::InfiniteFuture()};
    info.pattern = CallPattern::kEvent;
    NATSRPC_RETURN_IF_ERROR(unmuxed.Start(interceptors_, info, *metadata));
    const std::string all =
        broadcast ? wire::AllRequestSubjectOf(*m.subject) : std::string();
    Transport& transport = fanout_connection_->transport();
    absl::Status s = transport.Publish(OutgoingMessage{
        broadcast ? absl::string_view(all) : absl::string_view(*m.subject),
        /*reply=*/{}, /*headers=*/{}, unmuxed.sent, event.view(),
        confirm ? FlushPolicy::kNow : FlushPolicy::kBatch});
    if (!s.ok() || !confirm) return s;
    return transport.Flush(timeout);
  }();
  unmuxed.Finish(status);
  m.counters->Finish(status.code(), start);
  return status;
}

void ClientChannel::StartGather(int method, const Payload& request,
                                absl::string_view content_type,
                                const GatherOptions& options,
                                RawGatherCallback done, bool blocking) {
  if (!status_.ok()) {
    done(status_, {});
    return;
  }
  if (method < 0 || static_cast<size_t>(method) >= methods_.size()) {
    done(absl::InvalidArgumentError(
             absl::StrCat("no method number ", method, " in this client")),
         {});
    return;
  }
  if (options.max_replies < 0) {
    done(absl::InvalidArgumentError(
             absl::StrCat("GatherOptions.max_replies is ", options.max_replies,
                          "; it must be 0 (no limit) or more")),
         {});
    return;
  }
  const Method& m = methods_[static_cast<size_t>(method)];
  m.counters->calls.fetch_add(1, std::memory_order_relaxed);
  done = [counters = m.counters, start = absl::Now(), done = std::move(done)](
             absl::Status status, std::vector<RawGatherReply> replies) mutable {
    counters->Finish(status.code(), start);
    done(std::move(status), std::move(replies));
  };
  const absl::Duration timeout =
      options.timeout > absl::ZeroDuration() ? options.timeout : m.timeout;
  const absl::Time deadline = std::min(absl::Now() + timeout, options.deadline);
  CallOptions call;
  call.metadata = options.metadata;
  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(call, merged);
  if (!metadata.ok()) {
    done(metadata.status(), {});
    return;
  }
  CallInfo info{requester_, responder_,       app_,    service_,
                m.name,     CallKind::kUnary, deadline};
  info.pattern = CallPattern::kGather;
  UnmuxedCall unmuxed;
  if (absl::Status s = unmuxed.Start(interceptors_, info, *metadata); !s.ok()) {
    done(std::move(s), {});
    return;
  }
  if (unmuxed.chain != nullptr) {
    done = [chain = unmuxed.chain, done = std::move(done)](
               absl::Status status,
               std::vector<RawGatherReply> replies) mutable {
      chain->Finish(status, Metadata());
      done(std::move(status), std::move(replies));
    };
  }

  const std::string subject = wire::AllRequestSubjectOf(*m.subject);
  const std::string timeout_header =
      wire::EncodeTimeout(deadline - absl::Now());
  const HeaderRef headers[] = {
      HeaderRef{wire::kTimeoutHeader, timeout_header},
      HeaderRef{wire::kContentTypeHeader, content_type}};
  GatherMux::Call call_state{deadline, options.stall, options.max_replies,
                             subject, nullptr};
  auto publish = [&](absl::string_view reply_to) {
    return fanout_connection_->transport().Publish(
        OutgoingMessage{subject, reply_to, headers, unmuxed.sent,
                        request.view(), FlushPolicy::kNow});
  };
  if (!blocking) {
    call_state.done = std::move(done);
    gathers_->Start(std::move(call_state), publish);
    return;
  }
  struct Result {
    absl::Notification ended;
    absl::Status status;
    std::vector<RawGatherReply> replies;
  };
  auto result = std::make_shared<Result>();
  call_state.done = [result](absl::Status status,
                             std::vector<RawGatherReply> replies) {
    result->status = std::move(status);
    result->replies = std::move(replies);
    result->ended.Notify();
  };
  gathers_->Start(std::move(call_state), publish);
  result->ended.WaitForNotification();
  done(std::move(result->status), std::move(result->replies));
}

}  // namespace natsrpc::internal
