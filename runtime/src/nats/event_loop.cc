// Copyright 2026 The natsrpc Authors.

#include "nats/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace natsrpc::internal {

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Start() {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    return absl::InternalError(
        absl::StrCat("epoll_create1: ", std::strerror(errno)));
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    const int err = errno;
    close(epoll_fd);
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(err)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr: the wake-up fd
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
    const int err = errno;
    close(wake_fd);
    close(epoll_fd);
    return absl::InternalError(
        absl::StrCat("epoll_ctl(eventfd): ", std::strerror(err)));
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, wake_fd));
  loop->thread_ = std::thread([l = loop.get()] { l->Run(); });
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int wake_fd)
    : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  Stop();
  close(wake_fd_);
  close(epoll_fd_);
}

natsStatus EventLoop::Install(natsOptions* opts) {
  return natsOptions_SetEventLoop(opts, this, &EventLoop::OnAttach,
                                  &EventLoop::OnRead, &EventLoop::OnWrite,
                                  &EventLoop::OnDetach);
}

void EventLoop::Stop() {
  if (stopped_.exchange(true)) return;
  const uint64_t one = 1;
  // An eventfd write of 8 bytes cannot be partial; it only fails on
  // overflow, which one write cannot cause.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // cannot happen through nats.c; be safe anyway
    } else {
      thread_.join();
    }
  }
}

void EventLoop::UpdateLocked() {
  uint32_t events = 0;
  if (read_wanted_) events |= EPOLLIN;
  if (write_wanted_.load(std::memory_order_relaxed)) events |= EPOLLOUT;
  if (fd_ < 0) return;
  if (events == 0) {
    // Not registered at all rather than registered for nothing: EPOLLHUP is
    // reported even with an empty mask and would spin the loop.
    if (registered_) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
    registered_ = false;
    registered_events_ = 0;
    return;
  }
  if (registered_ && events == registered_events_) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = this;
  int rc = epoll_ctl(epoll_fd_, registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                     fd_, &ev);
  if (rc != 0 && !registered_ && errno == EEXIST) {
    rc = epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &ev);
  }
  registered_ = rc == 0;
  registered_events_ = rc == 0 ? events : 0;
}

natsStatus EventLoop::OnAttach(void** user_data, void* loop, natsConnection* nc,
                               natsSock socket) {
  auto* self = static_cast<EventLoop*>(loop);
  absl::MutexLock lock(&self->mu_);
  if (self->registered_ && self->fd_ != socket) {
    // A reconnect: the old socket is normally closed (and so gone from the
    // epoll set) already; make sure.
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, self->fd_, nullptr);
  }
  self->registered_ = false;
  self->registered_events_ = 0;
  self->nc_ = nc;
  self->attached_ = true;
  self->fd_ = socket;
  self->read_wanted_ = true;  // attach starts read polling
  self->write_wanted_.store(false, std::memory_order_relaxed);
  self->UpdateLocked();
  if (!self->registered_) return NATS_ERR;
  *user_data = self;
  return NATS_OK;
}

natsStatus EventLoop::OnRead(void* user_data, bool add) {
  auto* self = static_cast<EventLoop*>(user_data);
  absl::MutexLock lock(&self->mu_);
  self->read_wanted_ = add;
  self->UpdateLocked();
  // Removing interest in a socket nats.c is closing may fail; that is fine.
  return !add || self->registered_ ? NATS_OK : NATS_ERR;
}

namespace {
// The loop for which this thread writes itself (a WriteHere or a burst).
thread_local EventLoop* tl_write_here = nullptr;
}  // namespace

EventLoop::WriteHere::WriteHere(EventLoop* loop)
    : loop_(loop), outer_(tl_write_here) {
  if (loop_ != nullptr) tl_write_here = loop_;
}

EventLoop::WriteHere::~WriteHere() {
  if (loop_ == nullptr) return;
  tl_write_here = outer_;
  loop_->FlushHere();
}

void EventLoop::FlushHere() {
  FlushNow();
  if (tl_write_here == this) return;  // an enclosing burst writes the rest
  // A write that did not finish (a large message, a full socket buffer)
  // leaves nats.c waiting for the write event it asked for while this
  // thread wrote itself: the loop thread must take over now, or the rest
  // would stay in nats.c's buffer until some later publish.
  absl::MutexLock lock(&mu_);
  UpdateLocked();
}

void EventLoop::BeginBurst() { tl_write_here = this; }

bool EventLoop::InBurst() const { return tl_write_here == this; }

void EventLoop::EndBurst() {
  if (tl_write_here != this) return;
  tl_write_here = nullptr;
  FlushHere();
}

natsStatus EventLoop::OnWrite(void* user_data, bool add) {
  auto* self = static_cast<EventLoop*>(user_data);
  absl::MutexLock lock(&self->mu_);
  if (add && tl_write_here == self) {
    // This thread writes in ~WriteHere, right after the publish.
    self->write_wanted_.store(true, std::memory_order_relaxed);
    return NATS_OK;
  }
  self->write_wanted_.store(add, std::memory_order_relaxed);
  self->UpdateLocked();
  return !add || self->registered_ ? NATS_OK : NATS_ERR;
}

natsStatus EventLoop::OnDetach(void* user_data) {
  // Called once the connection is closed for good. The state stays (the loop
  // thread may still look at it) until the loop is destroyed.
  auto* self = static_cast<EventLoop*>(user_data);
  absl::MutexLock lock(&self->mu_);
  if (self->registered_) {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, self->fd_, nullptr);
  }
  self->registered_ = false;
  self->registered_events_ = 0;
  self->read_wanted_ = false;
  self->write_wanted_.store(false, std::memory_order_relaxed);
  self->fd_ = -1;
  self->attached_ = false;
  return NATS_OK;
}

bool EventLoop::WaitDetached(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto detached = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !attached_; };
  return mu_.AwaitWithTimeout(absl::Condition(&detached), timeout);
}

void EventLoop::FlushNow() {
  if (!write_wanted_.load(std::memory_order_relaxed)) return;
  absl::MutexLock write_lock(&write_mu_);
  natsConnection* nc;
  {
    absl::MutexLock lock(&mu_);
    if (!write_wanted_.load(std::memory_order_relaxed) || nc_ == nullptr) {
      return;
    }
    nc = nc_;
  }
  natsConnection_ProcessWriteEvent(nc);
}

void EventLoop::Run() {
  std::array<epoll_event, 8> events;
  while (true) {
    const int n = epoll_wait(epoll_fd_, events.data(),
                             static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen with valid fds
    }
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        stop = true;
        continue;
      }
      const uint32_t e = events[i].events;
      natsConnection* nc;
      {
        absl::MutexLock lock(&mu_);
        nc = nc_;
      }
      if (nc == nullptr) continue;
      // Errors and hang-ups surface through the read: nats.c sees the failed
      // recv() and starts its reconnect logic.
      if ((e & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        natsConnection_ProcessReadEvent(nc);
      }
      if ((e & EPOLLOUT) != 0) {
        absl::MutexLock write_lock(&write_mu_);
        bool wanted;
        {
          absl::MutexLock lock(&mu_);
          wanted = write_wanted_.load(std::memory_order_relaxed);
        }
        if (wanted) natsConnection_ProcessWriteEvent(nc);
      }
    }
    if (stop) break;
  }
  nats_ReleaseThreadMemory();
}

}  // namespace natsrpc::internal
