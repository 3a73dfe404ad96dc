// Copyright 2026 The natsrpc Authors.
//
// Why this file exists (docs/benchmarks.md, "Runtime changes and their
// effect"; docs/platform.md, "nats.c internals"): profiles of natsrpc against
// raw nats.c showed two of the largest extra costs per call in nats.c's
// public message API:
//   - natsMsgHeader_Add/Get build a hash table per message (several mallocs
//     per header);
//   - natsMsg_Destroy hands every message to nats.c's garbage-collector
//     thread: a mutex all threads share, and often a futex wake-up.
// nats.c exports, but does not declare, the two functions it uses itself
// for received messages:
//   natsStatus natsMsg_create(natsMsg**, const char* subj, int subj_len,
//                             const char* reply, int reply_len,
//                             const char* buf, int buf_len, int hdr_len);
//   void natsMsg_free(void*);
// and a message built by natsMsg_create is published with its header block
// as is. Reading a received message's header block, and honouring the
// "no destroy" flag, means reading three fields of nats.c's private
// `struct __natsMsg`. All of it is checked by SelfTest() before first use.

#include "nats/nats_internals.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

// The nats.c releases the fast path was tested on, as NATS_VERSION_NUMBER
// values ((major << 16) | (minor << 8) | patch). The only place the range is
// stated: widen it only after the whole test suite, natsrpc_nats_adapter_test
// included, passed against the new release.
#define NATSRPC_NATS_TESTED_MIN 0x030401  // 3.4.1, Debian 12's libnats-dev
#define NATSRPC_NATS_TESTED_MAX 0x030401

#if defined(NATSRPC_NATS_FAST_PATH) && NATSRPC_NATS_FAST_PATH && \
    NATS_VERSION_NUMBER >= NATSRPC_NATS_TESTED_MIN &&            \
    NATS_VERSION_NUMBER <= NATSRPC_NATS_TESTED_MAX
#define NATSRPC_FAST_PATH_COMPILED 1
#else
#define NATSRPC_FAST_PATH_COMPILED 0
#endif

namespace natsrpc::internal::nats_internals {
namespace {

using CreateFn = natsStatus (*)(natsMsg**, const char*, int, const char*, int,
                                const char*, int, int);
using FreeFn = void (*)(void*);

// Offsets in nats.c 3.4.1's `struct __natsMsg` on LP64 (src/msg.h of nats.c:
// natsGCItem gc; subject; reply; hdr; headers; data; int dataLen; int hdrLen;
// int wsz; int flags; ...), confirmed by SelfTest() through the public
// getters before anything reads them.
constexpr size_t kSubjectOffset = 0x10;
constexpr size_t kReplyOffset = 0x18;
constexpr size_t kHdrOffset = 0x20;
constexpr size_t kDataOffset = 0x30;
constexpr size_t kDataLenOffset = 0x38;
constexpr size_t kHdrLenOffset = 0x3c;
constexpr size_t kFlagsOffset = 0x44;
// Bits of `flags` (nats.c's natsMsg_setNeedsLift / natsMsg_setNoDestroy).
constexpr int kNeedsLiftFlag = 1 << 0;
constexpr int kNoDestroyFlag = 1 << 2;

struct State {
  CreateFn create = nullptr;
  FreeFn free = nullptr;
  absl::Status status;  // OK: the fast path may be used
};

template <typename T>
T ReadField(const natsMsg* msg, size_t offset) {
  T value;
  std::memcpy(&value, reinterpret_cast<const char*>(msg) + offset,
              sizeof(value));
  return value;
}

int Flags(const natsMsg* msg) { return ReadField<int>(msg, kFlagsOffset); }

// Builds test messages through `create` and checks every field and byte the
// fast path relies on against nats.c's public getters.
absl::Status SelfTest(CreateFn create, FreeFn free_fn) {
  constexpr absl::string_view kSubject = "natsrpc.self.test";
  constexpr absl::string_view kReply = "_INBOX.self.test";
  constexpr absl::string_view kBlock =
      "NATS/1.0\r\nNatsrpc-A: one\r\nNatsrpc-B: two\r\n\r\n";
  constexpr absl::string_view kData = "payload";
  const std::string bytes = absl::StrCat(kBlock, kData);

  natsMsg* msg = nullptr;
  if (create(&msg, kSubject.data(), static_cast<int>(kSubject.size()),
             kReply.data(), static_cast<int>(kReply.size()), bytes.data(),
             static_cast<int>(bytes.size()),
             static_cast<int>(kBlock.size())) != NATS_OK ||
      msg == nullptr) {
    return absl::InternalError("natsMsg_create failed");
  }
  struct Freer {
    FreeFn f;
    natsMsg* m;
    ~Freer() { f(m); }
  } freer{free_fn, msg};

  const char* subject = natsMsg_GetSubject(msg);
  const char* reply = natsMsg_GetReply(msg);
  const char* data = natsMsg_GetData(msg);
  if (subject == nullptr || reply == nullptr || data == nullptr ||
      subject != ReadField<const char*>(msg, kSubjectOffset) ||
      reply != ReadField<const char*>(msg, kReplyOffset) ||
      data != ReadField<const char*>(msg, kDataOffset) ||
      natsMsg_GetDataLength(msg) != ReadField<int>(msg, kDataLenOffset)) {
    return absl::InternalError("natsMsg field offsets differ");
  }
  if (kSubject != subject || kReply != reply ||
      natsMsg_GetDataLength(msg) != static_cast<int>(kData.size()) ||
      absl::string_view(data, kData.size()) != kData) {
    return absl::InternalError("natsMsg_create's arguments differ");
  }
  const char* hdr = ReadField<const char*>(msg, kHdrOffset);
  const int hdr_len = ReadField<int>(msg, kHdrLenOffset);
  if (hdr == nullptr || hdr_len != static_cast<int>(kBlock.size()) ||
      hdr + hdr_len + 1 != data || absl::string_view(hdr, hdr_len) != kBlock ||
      hdr[hdr_len] != '\0') {
    return absl::InternalError("natsMsg header block layout differs");
  }
  if (Flags(msg) != kNeedsLiftFlag) {
    return absl::InternalError("natsMsg flags differ");
  }
  // nats.c reads the block as we wrote it, and lifting it clears the flag
  // HeaderBlock() checks.
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, "Natsrpc-B", &value) != NATS_OK ||
      value == nullptr || absl::string_view(value) != "two" ||
      (Flags(msg) & kNeedsLiftFlag) != 0) {
    return absl::InternalError("nats.c reads natsrpc's header block otherwise");
  }

  // Without reply and headers.
  natsMsg* plain = nullptr;
  if (create(&plain, kSubject.data(), static_cast<int>(kSubject.size()),
             nullptr, 0, kData.data(), static_cast<int>(kData.size()),
             0) != NATS_OK ||
      plain == nullptr) {
    return absl::InternalError("natsMsg_create failed");
  }
  Freer plain_freer{free_fn, plain};
  if (natsMsg_GetReply(plain) != nullptr ||
      ReadField<const char*>(plain, kHdrOffset) != nullptr ||
      ReadField<int>(plain, kHdrLenOffset) != 0 || Flags(plain) != 0 ||
      natsMsg_GetDataLength(plain) != static_cast<int>(kData.size())) {
    return absl::InternalError("natsMsg without headers differs");
  }
  return absl::OkStatus();
}

const State& GetState() {
  static const State state = [] {
    State s;
#if NATSRPC_FAST_PATH_COMPILED
    const uint32_t version = nats_GetVersionNumber();
    if (version < NATSRPC_NATS_TESTED_MIN ||
        version > NATSRPC_NATS_TESTED_MAX) {
      s.status = absl::FailedPreconditionError(
          absl::StrCat("nats.c ", nats_GetVersion(),
                       " at run time is not a release the fast path was "
                       "tested on"));
      return s;
    }
    s.create =
        reinterpret_cast<CreateFn>(dlsym(RTLD_DEFAULT, "natsMsg_create"));
    s.free = reinterpret_cast<FreeFn>(dlsym(RTLD_DEFAULT, "natsMsg_free"));
    if (s.create == nullptr || s.free == nullptr) {
      s.status = absl::NotFoundError("natsMsg_create/natsMsg_free not found");
    } else {
      s.status = SelfTest(s.create, s.free);
    }
    if (!s.status.ok()) s.create = nullptr, s.free = nullptr;
#else
    s.status = absl::UnimplementedError(
        "the nats.c fast path is not compiled in (NATSRPC_NATS_FAST_PATH, or "
        "nats.c headers of an untested release)");
#endif
    return s;
  }();
  return state;
}

}  // namespace

bool Available() { return GetState().status.ok(); }

absl::Status SelfTestResult() { return GetState().status; }

natsStatus CreateMessage(natsMsg** msg, absl::string_view subject,
                         absl::string_view reply, absl::string_view bytes,
                         int header_len) {
  return GetState().create(msg, subject.data(),
                           static_cast<int>(subject.size()), reply.data(),
                           static_cast<int>(reply.size()), bytes.data(),
                           static_cast<int>(bytes.size()), header_len);
}

void FreeMessage(natsMsg* msg) {
  if (msg == nullptr || (Flags(msg) & kNoDestroyFlag) != 0) return;
  GetState().free(msg);
}

std::optional<absl::string_view> HeaderBlock(natsMsg* msg) {
  const char* hdr = ReadField<const char*>(msg, kHdrOffset);
  const int hdr_len = ReadField<int>(msg, kHdrLenOffset);
  if (hdr == nullptr) {
    if (hdr_len != 0) return std::nullopt;
    return absl::string_view();
  }
  // Lifting (natsMsgHeader_*) parses the block in place; only an untouched
  // block of the expected shape is read: header block, NUL, payload.
  const char* data = natsMsg_GetData(msg);
  if (hdr_len <= 0 || (Flags(msg) & kNeedsLiftFlag) == 0 || data == nullptr ||
      reinterpret_cast<uintptr_t>(hdr) + static_cast<uintptr_t>(hdr_len) + 1 !=
          reinterpret_cast<uintptr_t>(data) ||
      hdr[hdr_len] != '\0') {
    return std::nullopt;
  }
  return absl::string_view(hdr, static_cast<size_t>(hdr_len));
}

}  // namespace natsrpc::internal::nats_internals
