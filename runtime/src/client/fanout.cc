// Copyright 2026 The natsrpc Authors.
//
// ClientChannel's events and scatter-gather (natsrpc/fanout.h,
// docs/protocol.md section 13). Neither goes through the ReplyMux: an event
// has no reply, and a scatter-gather call takes many replies on a reply
// subject of its own (a fresh client id), subscribed for the call's
// duration.

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/call_interceptors.h"
#include "client/client_metrics.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/status_macros.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/status_body.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

absl::Status ClientChannel::PublishEvent(int method, const Payload& event,
                                         absl::string_view content_type,
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
    const HeaderRef headers[] = {
        HeaderRef{wire::kContentTypeHeader, content_type}};
    Transport& transport = fanout_connection_->transport();
    absl::Status s = transport.Publish(OutgoingMessage{
        broadcast ? absl::string_view(all) : absl::string_view(*m.subject),
        /*reply=*/{}, headers, unmuxed.sent, event.view(),
        confirm ? FlushPolicy::kNow : FlushPolicy::kBatch});
    if (!s.ok() || !confirm) return s;
    return transport.Flush(timeout);
  }();
  unmuxed.Finish(status);
  m.counters->Finish(status.code(), start);
  return status;
}

namespace {

// The replies of one scatter-gather call, filled by its subscription.
struct GatherState {
  absl::Mutex mu;
  absl::CondVar changed;
  std::vector<ClientChannel::RawGatherReply> replies ABSL_GUARDED_BY(mu);
  // When the last reply came (the request's publish before the first).
  absl::Time last ABSL_GUARDED_BY(mu);
  bool sentinel ABSL_GUARDED_BY(mu) = false;
  bool no_responders ABSL_GUARDED_BY(mu) = false;
  bool ended ABSL_GUARDED_BY(mu) = false;
};

void OnGatherReply(GatherState& state, const MessagePtr& message) {
  ClientChannel::RawGatherReply reply;
  const bool no_responders = message->is_no_responders();
  if (!no_responders) {
    if (absl::Status headers = message->header_status(); !headers.ok()) {
      reply.status = absl::InternalError(
          absl::StrCat("a reply is unreadable: ", headers.message()));
    } else {
      reply.instance_id =
          std::string(message->header(wire::kInstanceHeader).value_or(""));
      reply.status = wire::StatusFromErrorReply(
          message->header(wire::kErrorCodeHeader),
          message->header(wire::kErrorHeader), message->data());
      reply.message = message;
    }
  }
  absl::MutexLock lock(&state.mu);
  if (state.ended) return;
  if (no_responders) {
    state.no_responders = true;
  } else {
    state.sentinel =
        state.sentinel || message->header(wire::kGatherEndHeader).has_value();
    state.replies.push_back(std::move(reply));
    state.last = absl::Now();
  }
  state.changed.Signal();
}

// Waits until one of the limits ends the call; returns the replies, or
// UNAVAILABLE if nothing subscribes to `subject`.
absl::Status WaitForReplies(GatherState& state, absl::Time deadline,
                            absl::Duration stall, int max_replies,
                            absl::string_view subject,
                            std::vector<ClientChannel::RawGatherReply>& out) {
  absl::MutexLock lock(&state.mu);
  for (;;) {
    if (state.no_responders && state.replies.empty()) {
      state.ended = true;
      return absl::UnavailableError(absl::StrCat(
          "no responders: nothing subscribes to ", subject,
          " (no server of protocol revision 5 or later serves it)"));
    }
    if (state.sentinel ||
        (max_replies > 0 &&
         state.replies.size() >= static_cast<size_t>(max_replies))) {
      break;
    }
    absl::Time until = deadline;
    if (stall > absl::ZeroDuration())
      until = std::min(until, state.last + stall);
    if (absl::Now() >= until) break;
    state.changed.WaitWithDeadline(&state.mu, until);
  }
  state.ended = true;
  out = std::move(state.replies);
  if (max_replies > 0 && out.size() > static_cast<size_t>(max_replies)) {
    out.resize(static_cast<size_t>(max_replies));
  }
  return absl::OkStatus();
}

}  // namespace

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

  // A reply subject of this call's own: responses.<requester>.<responder>.
  // <app>.<fresh client id>.1, which the servers' reply-to check accepts.
  std::string overflow;
  char buffer[128];
  const std::string prefix =
      wire::ResponsePrefix(requester_, responder_, app_, wire::NewClientId());
  const std::string inbox(
      wire::ResponseSubject(prefix, 1, absl::MakeSpan(buffer), overflow));
  auto state = std::make_shared<GatherState>();
  Transport& transport = fanout_connection_->transport();
  absl::StatusOr<std::unique_ptr<Subscription>> sub = transport.Subscribe(
      inbox, "",
      [state](MessagePtr message) { OnGatherReply(*state, message); });
  if (!sub.ok()) {
    done(sub.status(), {});
    return;
  }
  const std::string subject = wire::AllRequestSubjectOf(*m.subject);
  const std::string timeout_header =
      wire::EncodeTimeout(deadline - absl::Now());
  const HeaderRef headers[] = {
      HeaderRef{wire::kTimeoutHeader, timeout_header},
      HeaderRef{wire::kContentTypeHeader, content_type}};
  {
    absl::MutexLock lock(&state->mu);
    state->last = absl::Now();
  }
  if (absl::Status s = transport.Publish(
          OutgoingMessage{subject, inbox, headers, unmuxed.sent, request.view(),
                          FlushPolicy::kNow});
      !s.ok()) {
    done(std::move(s), {});
    return;
  }
  // The connection copy keeps the transport alive until the subscription
  // is gone, also when the callback form outlives the client.
  auto wait = [state, deadline, stall = options.stall,
               max_replies = options.max_replies, subject,
               connection = *fanout_connection_, sub = *std::move(sub),
               done = std::move(done)]() mutable {
    std::vector<RawGatherReply> replies;
    absl::Status status =
        WaitForReplies(*state, deadline, stall, max_replies, subject, replies);
    sub.reset();  // unsubscribes: later replies are dropped
    done(std::move(status), std::move(replies));
  };
  if (blocking) {
    wait();
  } else {
    std::thread(std::move(wait)).detach();
  }
}

}  // namespace natsrpc::internal
