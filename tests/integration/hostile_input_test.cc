// Copyright 2026 The natsrpc Authors.
//
// Hostile-input suite (issue 11, item 6). A natsrpc server (responder bob,
// TestService and StreamService) runs in this process on a nats-server this
// binary starts on loopback; a raw client speaks the NATS text protocol over
// a TCP socket (so that it can send what no NATS library would: malformed
// header blocks, duplicate headers, any reply-to) and sends malformed
// requests and stream frames, one table row per case with the outcome
// docs/protocol.md prescribes:
//  - an exact answer (a unary reply with its Nats-Service-Error-Code, a
//    stream `end` or `cancel` with its code, an `accept`, NATS's own
//    no-responders status), or
//  - nothing: a valid request (the "probe") sent right after the case on the
//    same server subscription is answered first, which proves the case was
//    processed and answered nothing, with no sleep.
// Every message that arrives must be claimed by a row; a stray one (a late
// answer to a dropped case) fails the suite at the end. After each row a
// valid call through natsrpc's own client must succeed. Then 100,000
// malformed messages are flooded and the process's resident memory must stay
// flat (bound below).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/v1/stream_service.natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"
#include "suite_support.h"
#include "test_connect.h"

namespace natsrpc::suites {
namespace {

using ::natsrpc::testing::NatsServer;

// How long a row waits for an answer (on loopback one comes in well under a
// millisecond; this bounds the run when a row fails).
constexpr absl::Duration kRowWait = absl::Seconds(5);

// Failed assertions so far, to tell which table rows failed.
std::atomic<int> g_failures{0};
class FailureCounter : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed()) g_failures.fetch_add(1);
  }
};

// ---------------------------------------------------------------------------
// A raw NATS client: the text protocol over one TCP connection.

struct RawMsg {
  std::string subject;
  std::string reply;
  std::string status;  // "503" for NATS/1.0 503, else empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;

  std::optional<std::string> header(absl::string_view key) const {
    for (const auto& [k, v] : headers) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
  std::string Describe() const {
    std::string s = absl::StrCat(subject, " reply=", reply);
    if (!status.empty()) absl::StrAppend(&s, " status=", status);
    for (const auto& [k, v] : headers) absl::StrAppend(&s, " ", k, "=", v);
    return s;
  }
};

class RawNats {
 public:
  ~RawNats() {
    stop_.store(true);
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
  }

  absl::Status Connect(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::UnavailableError("connect to nats-server failed");
    }
    reader_ = std::thread([this] { ReadLoop(); });
    Send(
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,"
        "\"no_responders\":true,\"protocol\":1,\"name\":\"hostile\"}\r\n");
    return Sync();
  }

  void Send(absl::string_view bytes) {
    absl::MutexLock lock(&write_mu_);
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  // PING and wait for the PONG: nats-server has processed everything sent.
  absl::Status Sync() {
    const int want = pongs_.load() + 1;
    Send("PING\r\n");
    if (!Eventually([&] { return pongs_.load() >= want; })) {
      return absl::DeadlineExceededError("no PONG from nats-server");
    }
    return absl::OkStatus();
  }

  void Sub(absl::string_view subject, int sid) {
    Send(absl::StrCat("SUB ", subject, " ", sid, "\r\n"));
  }

  // PUB (headers == nullopt) or HPUB with `headers` as the exact header
  // block (use Block() to make a well-formed one).
  void Pub(absl::string_view subject, absl::string_view reply,
           const std::optional<std::string>& headers,
           absl::string_view payload) {
    std::string out;
    const std::string r = reply.empty() ? "" : absl::StrCat(" ", reply);
    if (!headers.has_value()) {
      out = absl::StrCat("PUB ", subject, r, " ", payload.size(), "\r\n",
                         payload, "\r\n");
    } else {
      out = absl::StrCat("HPUB ", subject, r, " ", headers->size(), " ",
                         headers->size() + payload.size(), "\r\n", *headers,
                         payload, "\r\n");
    }
    Send(out);
  }

  // The next message, or nullopt after `limit`.
  std::optional<RawMsg> Next(absl::Duration limit = kWait) {
    absl::MutexLock lock(&mu_);
    auto some = [this] { return !msgs_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&some), limit)) {
      return std::nullopt;
    }
    RawMsg m = std::move(msgs_.front());
    msgs_.pop_front();
    return m;
  }
  // Stops keeping messages (counting them only), or starts again.
  void SetCountOnly(bool count_only) { count_only_.store(count_only); }
  int64_t received() const { return received_.load(); }
  std::vector<std::string> errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

 private:
  void ReadLoop() {
    std::string buf;
    char chunk[65536];
    while (!stop_.load()) {
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
      size_t used = 0;
      while (true) {
        const size_t eol = buf.find("\r\n", used);
        if (eol == std::string::npos) break;
        const std::string line = buf.substr(used, eol - used);
        std::vector<std::string> f =
            absl::StrSplit(line, ' ', absl::SkipEmpty());
        if (f.empty()) {
          used = eol + 2;
          continue;
        }
        if (f[0] == "MSG" || f[0] == "HMSG") {
          const bool h = f[0] == "HMSG";
          // MSG subj sid [reply] n ; HMSG subj sid [reply] hn n
          const size_t nf = f.size();
          size_t total = 0, hlen = 0;
          (void)absl::SimpleAtoi(f[nf - 1], &total);
          if (h) (void)absl::SimpleAtoi(f[nf - 2], &hlen);
          const size_t need = eol + 2 + total + 2;
          if (buf.size() < need) break;  // wait for the rest
          RawMsg m;
          m.subject = f[1];
          if ((h && nf == 6) || (!h && nf == 5)) m.reply = f[3];
          const std::string body = buf.substr(eol + 2, total);
          if (h) ParseHeaders(body.substr(0, hlen), m);
          m.payload = body.substr(hlen);
          used = need;
          received_.fetch_add(1);
          // The replies to natsrpc's own checking client are not ours.
          if (!count_only_.load() &&
              !absl::StartsWith(m.subject, "responses.checker.")) {
            absl::MutexLock lock(&mu_);
            msgs_.push_back(std::move(m));
          }
          continue;
        }
        if (f[0] == "PING") Send("PONG\r\n");
        if (f[0] == "PONG") pongs_.fetch_add(1);
        if (f[0] == "-ERR") {
          absl::MutexLock lock(&mu_);
          errors_.push_back(line);
        }
        used = eol + 2;
      }
      buf.erase(0, used);
    }
  }

  static void ParseHeaders(const std::string& block, RawMsg& m) {
    std::vector<std::string> lines = absl::StrSplit(block, "\r\n");
    if (lines.empty()) return;
    // NATS/1.0[ <status>[ <description>]]
    std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
    if (first.size() > 1) m.status = first[1];
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      m.headers.emplace_back(
          lines[i].substr(0, colon),
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
    }
  }

  int fd_ = -1;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::atomic<int> pongs_{0};
  std::atomic<bool> count_only_{false};
  std::atomic<int64_t> received_{0};
  absl::Mutex write_mu_;
  absl::Mutex mu_;
  std::deque<RawMsg> msgs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
};

// A well-formed header block.
std::string Block(std::vector<std::pair<std::string, std::string>> headers) {
  std::string b = "NATS/1.0\r\n";
  for (const auto& [k, v] : headers) absl::StrAppend(&b, k, ": ", v, "\r\n");
  return b + "\r\n";
}

int64_t VmRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      std::vector<std::string> f =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (f.size() >= 2 && absl::SimpleAtoi(f[1], &kb)) return kb;
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------
// The server under test.

class StreamImpl final : public tv1::StreamService::Service {
 public:
  absl::Status Count(ServerContext& ctx, const tv1::CountRequest& req,
                     ServerWriter<tv1::Item, ProtobufCodec>& writer) override {
    if (req.hold_open()) {
      Eventually([&] { return ctx.IsCancelled(); });
      return absl::CancelledError("held open until cancelled");
    }
    for (int64_t i = 1; i <= req.count(); ++i) {
      tv1::Item item;
      item.set_seq(i);
      if (!writer.Write(item)) return absl::CancelledError("over");
    }
    return absl::OkStatus();
  }
  absl::Status Sum(ServerContext&, ServerReader<tv1::Item, ProtobufCodec>& r,
                   tv1::Summary& summary) override {
    tv1::Item item;
    while (r.Read(&item)) summary.set_count(summary.count() + 1);
    return absl::OkStatus();
  }
  absl::Status Echo(
      ServerContext& ctx,
      ServerReaderWriter<tv1::Item, tv1::Item, ProtobufCodec>& s) override {
    tv1::Item item;
    while (s.Read(&item)) {
      if (!s.Write(item)) break;
    }
    if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
    return absl::OkStatus();
  }
  absl::Status Block(ServerContext&, const tv1::CountRequest& req,
                     tv1::Summary& summary) override {
    summary.set_count(req.count());
    return absl::OkStatus();
  }
};

constexpr char kApp[] = "natsrpc_testing_v1";
const std::string kTest =
    absl::StrCat("requests.alice.bob.", kApp, ".TestService.");
const std::string kStream =
    absl::StrCat("requests.alice.bob.", kApp, ".StreamService.");

std::string Reply(absl::string_view id, int seq) {
  return absl::StrCat("responses.alice.bob.", kApp, ".", id, ".", seq);
}

std::string EchoPayload(absl::string_view s) {
  tv1::EchoRequest r;
  r.set_payload(std::string(s));
  return r.SerializeAsString();
}
std::string ItemPayload(int64_t seq) {
  tv1::Item i;
  i.set_seq(seq);
  return i.SerializeAsString();
}

// What a row expects.
enum class Outcome {
  kOk,            // a unary reply without Nats-Service-Error-Code
  kError,         // a unary error reply with `code`
  kEnd,           // a stream `end` (Natsrpc-Count 0) with `code`
  kAccept,        // a stream `accept`
  kNoResponders,  // NATS's 503 status (nothing subscribes)
  kDropped,       // nothing: the probe is answered first
};

struct Row {
  std::string name;
  std::string subject;  // request or open subject
  std::string reply;    // "" : none. "{R}": this row's own reply-to
  std::optional<std::string> headers;
  std::string payload;
  Outcome expect;
  int code = 0;
};

std::vector<Row> RequestRows() {
  using H = std::vector<std::pair<std::string, std::string>>;
  const std::string echo = kTest + "Echo";
  std::vector<Row> rows;
  auto add = [&](std::string name, std::string subject,
                 std::optional<std::string> headers, std::string payload,
                 Outcome e, int code = 0, std::string reply = "{R}") {
    rows.push_back(Row{std::move(name), std::move(subject), std::move(reply),
                       std::move(headers), std::move(payload), e, code});
  };
  auto timeout = [](std::string v) {
    return Block(H{{"Natsrpc-Timeout", std::move(v)}});
  };

  // Payloads (section 4: does not decode -> INVALID_ARGUMENT).
  add("payload empty", echo, std::nullopt, "", Outcome::kOk);
  add("payload valid", echo, std::nullopt, EchoPayload("x"), Outcome::kOk);
  add("payload 0xff", echo, std::nullopt, "\xff", Outcome::kError, 3);
  add("payload length beyond end", echo, std::nullopt, "\x0a\xff",
      Outcome::kError, 3);
  add("payload truncated string", echo, std::nullopt,
      std::string("\x0a\x05"
                  "ab"),
      Outcome::kError, 3);
  add("payload 11-byte varint", echo, std::nullopt,
      std::string("\x10") + std::string(10, '\xff') + "\x01", Outcome::kError,
      3);
  add("payload unknown field", echo, std::nullopt, "\x78\x01", Outcome::kOk);
  add("payload open group", echo, std::nullopt, "\x0b", Outcome::kError, 3);
  add("payload wire type 7", echo, std::nullopt, "\x0f", Outcome::kError, 3);
  add("payload field number 0", echo, std::nullopt, std::string(3, '\0'),
      Outcome::kError, 3);
  add("payload 5000 nested groups", echo, std::nullopt,
      std::string(5000, '\x0b'), Outcome::kError, 3);
  add("payload huge length", echo, std::nullopt,
      std::string("\x0a\xff\xff\xff\xff\x0f"), Outcome::kError, 3);
  add("payload 512 KiB of 0xff", echo, std::nullopt,
      std::string(512 * 1024, '\xff'), Outcome::kError, 3);
  add("payload 512 KiB valid", echo, std::nullopt,
      EchoPayload(std::string(512 * 1024, 'p')), Outcome::kOk);
  add("payload wrong type for field", echo, std::nullopt,
      "\x0d\x01\x02\x03\x04",
      Outcome::kOk);  // fixed32 for a bytes field: an unknown field
  add("payload bad UTF-8 in bytes", echo, std::nullopt, EchoPayload("\xc3\x28"),
      Outcome::kOk);

  // Natsrpc-Timeout (section 3).
  add("timeout 0n", echo, timeout("0n"), "", Outcome::kError, 4);
  add("timeout 0H", echo, timeout("0H"), "", Outcome::kError, 4);
  add("timeout 00000000S", echo, timeout("00000000S"), "", Outcome::kError, 4);
  add("timeout 99999999H", echo, timeout("99999999H"), "", Outcome::kOk);
  add("timeout 00000005S", echo, timeout("00000005S"), "", Outcome::kOk);
  add("timeout padded with spaces", echo,
      std::string("NATS/1.0\r\nNatsrpc-Timeout:   5S \t\r\n\r\n"), "",
      Outcome::kOk);
  for (const char* bad :
       {"5", "S", "123456789S", "-5S", "+5S", "5s", "5 S", "5\tS", "5x", "5S5S",
        "1e3m", "0x10S", "\xef\xbc\x95S", "5.5S", "m"}) {
    add(absl::StrCat("timeout '", bad, "'"), echo, timeout(bad), "",
        Outcome::kError, 3);
  }
  add("timeout empty", echo, timeout(""), "", Outcome::kError, 3);
  add("timeout first of two wins (0n)", echo,
      Block(H{{"Natsrpc-Timeout", "0n"}, {"Natsrpc-Timeout", "5S"}}), "",
      Outcome::kError, 4);
  add("timeout first of two wins (5S)", echo,
      Block(H{{"Natsrpc-Timeout", "5S"}, {"Natsrpc-Timeout", "0n"}}), "",
      Outcome::kOk);
  add("timeout name in lower case is metadata", echo,
      Block(H{{"natsrpc-timeout", "0n"}}), "", Outcome::kOk);

  // Other headers.
  add("content-type json is ignored", echo,
      Block(H{{"Content-Type", "application/json"}}), "", Outcome::kOk);
  add("content-type flatbuffers is ignored", echo,
      Block(H{{"Content-Type", "application/x-flatbuffers"}}), EchoPayload("x"),
      Outcome::kOk);
  add("error headers on a request are ignored", echo,
      Block(H{{"Nats-Service-Error-Code", "3"}, {"Nats-Service-Error", "x"}}),
      "", Outcome::kOk);
  {
    H many;
    for (int i = 0; i < 1000; ++i)
      many.emplace_back(absl::StrCat("X-M", i), "v");
    add("1000 metadata headers", echo, Block(many), "", Outcome::kOk);
  }
  add("100 KiB header value", echo,
      Block(H{{"X-Big", std::string(100 * 1024, 'v')}}), "", Outcome::kOk);
  add("header block without headers", echo, std::string("NATS/1.0\r\n\r\n"), "",
      Outcome::kOk);
  add("empty value then deadline", echo,
      std::string("NATS/1.0\r\nX-Empty:\r\nNatsrpc-Timeout: 0n\r\n\r\n"), "",
      Outcome::kError, 4);
  // A malformed block (section 3, "Header block"): INVALID_ARGUMENT, and none
  // of its headers used, the deadline included.
  add("line without colon then deadline", echo,
      std::string("NATS/1.0\r\ngarbage\r\nNatsrpc-Timeout: 0n\r\n\r\n"), "",
      Outcome::kError, 3);
  add("first line not NATS/1.0 then deadline", echo,
      std::string("NATS/9.9\r\nNatsrpc-Timeout: 0n\r\n\r\n"), "",
      Outcome::kError, 3);
  add("header name with a space", echo,
      std::string("NATS/1.0\r\nX A: 1\r\n\r\n"), "", Outcome::kError, 3);
  add("folded header line", echo,
      std::string("NATS/1.0\r\nX-A: 1\r\n 2\r\n\r\n"), "",
      Outcome::kError, 3);
  add("empty header name", echo, std::string("NATS/1.0\r\n: 1\r\n\r\n"), "",
      Outcome::kError, 3);
  add("header value with a colon", echo, Block(H{{"X-A", "b: c"}}), "",
      Outcome::kOk);

  // Natsrpc-Stream kinds other than `open` on a method subject (section 3,
  // 9.3.2): one `end` with INVALID_ARGUMENT, so the sender need not wait out
  // its deadline.
  for (const char* kind : {"msg", "end", "cancel", "credit", "ping", "accept",
                           "OPEN", "bogus", ""}) {
    add(absl::StrCat("stream kind '", kind, "' on a unary method"), echo,
        Block(H{{"Natsrpc-Stream", kind}}), "", Outcome::kEnd, 3);
  }
  add("stream kind msg on a stream method", kStream + "Echo",
      Block(H{{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", "1"}}), ItemPayload(1),
      Outcome::kEnd, 3);

  // Reply-to (section 5: dropped without an answer).
  const std::string base = absl::StrCat("responses.alice.bob.", kApp, ".");
  for (const std::string& reply :
       {std::string(""), std::string("_INBOX.abc"),
        absl::StrCat("responses.alice.bob.", kApp, ".h"),
        absl::StrCat(base, "h.1.2"),
        absl::StrCat("responses.carol.bob.", kApp, ".h.1"),
        absl::StrCat("responses.alice.carol.", kApp, ".h.1"),
        std::string("responses.alice.bob.other_app.h.1"), base + "*.1",
        base + "h.>", base + "h$x.1", base + "h.1\xc3\xa9",
        absl::StrCat("Responses.alice.bob.", kApp, ".h.1"),
        absl::StrCat("requests.alice.bob.", kApp, ".h.1")}) {
    add(absl::StrCat("reply-to '", reply, "'"), echo, std::nullopt, "",
        Outcome::kDropped, 0, reply);
  }
  add("reply-to with a 300-character client id", echo, std::nullopt, "",
      Outcome::kOk, 0, absl::StrCat(base, std::string(300, 'c'), ".1"));

  // Methods and subjects (section 4: UNIMPLEMENTED; NATS: no responders).
  add("method unknown", kTest + "NoSuchMethod", std::nullopt, "",
      Outcome::kError, 12);
  add("method wrong case", kTest + "echo", std::nullopt, "", Outcome::kError,
      12);
  add("method not implemented", kTest + "NotImplemented", std::nullopt, "",
      Outcome::kError, 12);
  add("method 1000 characters", kTest + std::string(1000, 'E'), std::nullopt,
      "", Outcome::kError, 12);
  add("method with '$'", kTest + "Ech$o", std::nullopt, "", Outcome::kError,
      12);
  add("method in UTF-8",
      kTest +
          "\xc3\x89"
          "cho",
      std::nullopt, "", Outcome::kError, 12);
  add("unary request to a stream method", kStream + "Echo", std::nullopt, "",
      Outcome::kError, 12);
  add("unknown service",
      absl::StrCat("requests.alice.bob.", kApp, ".Nope.Echo"), std::nullopt, "",
      Outcome::kNoResponders);
  add("7-token subject", kTest + "Echo.extra", std::nullopt, "",
      Outcome::kNoResponders);
  add("8-token subject, unknown instance", kTest + "Echo.instance.1",
      std::nullopt, "", Outcome::kNoResponders);

  // Stream opens (section 9.3.2: every refusal is one `end`).
  auto open = [](H extra) {
    H h = {{"Natsrpc-Stream", "open"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return Block(h);
  };
  add("open a unary method", echo, open({{"Natsrpc-Credit", "16"}}), "",
      Outcome::kEnd, 12);
  add("open an unknown method", kTest + "Nope",
      open({{"Natsrpc-Credit", "16"}}), "", Outcome::kEnd, 12);
  add("open with malformed timeout", kStream + "Echo",
      open({{"Natsrpc-Credit", "16"}, {"Natsrpc-Timeout", "soon"}}), "",
      Outcome::kEnd, 3);
  add("open with zero timeout", kStream + "Echo",
      open({{"Natsrpc-Credit", "16"}, {"Natsrpc-Timeout", "0n"}}), "",
      Outcome::kEnd, 4);
  add("open without credit", kStream + "Echo", open({}), "", Outcome::kEnd, 3);
  for (const char* credit : {"abc", "-1", "", "1 6", "18446744073709551616",
                             "999999999999999999999", "0x10"}) {
    add(absl::StrCat("open with credit '", credit, "'"), kStream + "Echo",
        open({{"Natsrpc-Credit", credit}}), "", Outcome::kEnd, 3);
  }
  add("open with credit 2^64-1", kStream + "Echo",
      open({{"Natsrpc-Credit", "18446744073709551615"}}), "", Outcome::kAccept);
  add("open with credit 0", kStream + "Echo", open({{"Natsrpc-Credit", "0"}}),
      "", Outcome::kAccept);
  add("open with malformed heartbeat", kStream + "Echo",
      open({{"Natsrpc-Credit", "4"}, {"Natsrpc-Heartbeat", "often"}}), "",
      Outcome::kAccept);
  add("open with zero heartbeat", kStream + "Echo",
      open({{"Natsrpc-Credit", "4"}, {"Natsrpc-Heartbeat", "0n"}}), "",
      Outcome::kAccept);
  add("open with revision 'x'", kStream + "Echo",
      open({{"Natsrpc-Credit", "4"}, {"Natsrpc-Revision", "x"}}), "",
      Outcome::kAccept);
  add("open without a reply-to", kStream + "Echo",
      open({{"Natsrpc-Credit", "4"}}), "", Outcome::kDropped, 0, "");
  add("open with a spoofed reply-to", kStream + "Echo",
      open({{"Natsrpc-Credit", "4"}}), "", Outcome::kDropped, 0,
      absl::StrCat("responses.carol.bob.", kApp, ".h.1"));
  return rows;
}

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto nats = NatsServer::Start();
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = nats->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    auto c = testing::ConnectForTest({.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::make_unique<Connection>(*c);
    server_ =
        std::make_unique<Server>(*conn_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(test_impl_).ok());
    ASSERT_TRUE(server_->AddService(stream_impl_).ok());
    ASSERT_TRUE(raw_.Connect(nats_->port()).ok());
    raw_.Sub("responses.>", 1);
    ASSERT_TRUE(raw_.Sync().ok());
  }
  void TearDown() override { server_.reset(); }

  // A valid Echo from natsrpc's own client (requester "checker", whose
  // replies the raw client ignores).
  void ExpectServerAnswers(const std::string& after) {
    tv1::TestService::Client client(
        *conn_, ClientOptions{.requester = "checker", .responder = "bob"});
    tv1::EchoRequest req;
    req.set_payload("still here");
    absl::StatusOr<tv1::EchoReply> r = client.Echo(req);
    ASSERT_TRUE(r.ok()) << "after " << after << ": " << r.status();
    EXPECT_EQ(r->payload(), "still here");
  }

  // The next raw message, failing the test naming `what` if none comes.
  std::optional<RawMsg> Expect(const std::string& what) {
    std::optional<RawMsg> m = raw_.Next(kRowWait);
    EXPECT_TRUE(m.has_value())
        << what << ": nothing arrived within " << kRowWait;
    return m;
  }

  static NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  SuiteService test_impl_;
  StreamImpl stream_impl_;
  std::unique_ptr<Server> server_;
  RawNats raw_;
};

NatsServer* HostileInputTest::nats_ = nullptr;

// The probe for a row sent to `subject`'s service: a valid unary call on
// the same subscription (TestService.Echo or StreamService.Block).
std::string ProbeSubject(const std::string& subject) {
  return absl::StartsWith(subject, kStream) ? kStream + "Block"
                                            : kTest + "Echo";
}

TEST_F(HostileInputTest, MalformedRequestsAreAnsweredOrDroppedAsSpecified) {
  const std::vector<Row> rows = RequestRows();
  int n = 0, failed = 0;
  std::vector<std::string> failures;
  for (const Row& row : rows) {
    ++n;
    SCOPED_TRACE(row.name);
    const int errors_before = g_failures.load();
    const std::string reply = row.reply == "{R}" ? Reply("row", n) : row.reply;
    raw_.Pub(row.subject, reply, row.headers, row.payload);
    const std::string probe_reply = Reply("probe", n);
    raw_.Pub(ProbeSubject(row.subject), probe_reply, std::nullopt, "");
    // A row that is answered may be answered after the probe: the server
    // runs calls concurrently (a large payload decodes on a worker while the
    // probe runs inline). A dropped row's probe answer is the only message.
    std::optional<RawMsg> p;
    if (row.expect != Outcome::kDropped) {
      std::optional<RawMsg> m = Expect(row.name);
      if (m.has_value() && m->subject == probe_reply) {
        p = std::move(m);
        m = Expect(row.name);
      } else {
        p = Expect(absl::StrCat(row.name, " (probe)"));
      }
      if (m.has_value()) {
        EXPECT_EQ(m->subject, reply) << m->Describe();
        const std::optional<std::string> code =
            m->header("Nats-Service-Error-Code");
        const std::optional<std::string> kind = m->header("Natsrpc-Stream");
        switch (row.expect) {
          case Outcome::kOk:
            EXPECT_FALSE(code.has_value()) << m->Describe();
            EXPECT_FALSE(kind.has_value()) << m->Describe();
            break;
          case Outcome::kError:
            EXPECT_EQ(code, absl::StrCat(row.code)) << m->Describe();
            EXPECT_FALSE(kind.has_value()) << m->Describe();
            break;
          case Outcome::kEnd:
            EXPECT_EQ(kind, "end") << m->Describe();
            EXPECT_EQ(m->header("Natsrpc-Count"), "0") << m->Describe();
            EXPECT_EQ(code, absl::StrCat(row.code)) << m->Describe();
            break;
          case Outcome::kAccept: {
            EXPECT_EQ(kind, "accept") << m->Describe();
            // End the stream it opened: cancel on the stream subject.
            raw_.Pub(
                m->reply, "",
                Block({{"Natsrpc-Stream", "cancel"}, {"Natsrpc-Credit", "0"}}),
                "");
            break;
          }
          case Outcome::kNoResponders:
            EXPECT_EQ(m->status, "503") << m->Describe();
            // Nothing subscribes to the row's subject, so the probe goes to
            // TestService.Echo as usual.
            break;
          case Outcome::kDropped:
            break;
        }
      }
    }
    if (row.expect == Outcome::kDropped) {
      p = Expect(absl::StrCat(row.name, " (probe)"));
    }
    if (p.has_value()) {
      EXPECT_EQ(p->subject, probe_reply)
          << "a message arrived for a row that must get no answer: "
          << p->Describe();
      EXPECT_FALSE(p->header("Nats-Service-Error-Code").has_value())
          << p->Describe();
    }
    ExpectServerAnswers(row.name);
    const bool ok = g_failures.load() == errors_before;
    if (!ok) {
      ++failed;
      failures.push_back(row.name);
      // Resynchronise: whatever else belongs to this row is consumed.
      while (raw_.Next(absl::Milliseconds(200)).has_value()) {
      }
    }
  }
  std::cout << "hostile request rows: " << rows.size() << ", failed: " << failed
            << "\n";
  for (const std::string& f : failures)
    std::cout << "  failed row: " << f << "\n";
  RecordProperty("request_rows", static_cast<int>(rows.size()));
  RecordProperty("request_rows_failed", failed);
  EXPECT_GE(rows.size(), 80u);
  // Nothing late: a final probe is the next message.
  raw_.Pub(kTest + "Echo", Reply("final", 1), std::nullopt, "");
  std::optional<RawMsg> last = Expect("final probe");
  if (last.has_value()) {
    EXPECT_EQ(last->subject, Reply("final", 1));
  }
  EXPECT_THAT(raw_.errors(), ::testing::IsEmpty());
}

// Stream frames on an established stream (section 9.1, 9.4): each row opens
// a bidi Echo stream raw, sends its frames, and expects either the stream to
// go on (a valid `msg` is echoed) or a `cancel` with the code.
struct FrameRow {
  std::string name;
  // Frames sent after `accept`: (subject suffix or "" for the stream subject,
  // header block, payload). A subject starting with "!" replaces the stream
  // subject's instance id and stream id with the rest.
  std::vector<std::tuple<std::string, std::string, std::string>> frames;
  int cancel_code;  // 0: the stream goes on
  std::string method = "Echo";
};

std::vector<FrameRow> FrameRows() {
  using H = std::vector<std::pair<std::string, std::string>>;
  auto msg = [](std::string seq) {
    return Block(H{{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", std::move(seq)}});
  };
  auto kind = [](std::string k, H more = {}) {
    H h = {{"Natsrpc-Stream", std::move(k)}};
    h.insert(h.end(), more.begin(), more.end());
    return Block(h);
  };
  const std::string item = ItemPayload(7);
  std::vector<FrameRow> rows = {
      {"msg without seq", {{"", kind("msg"), item}}, 13},
      {"msg seq 0", {{"", msg("0"), item}}, 13},
      {"msg seq abc", {{"", msg("abc"), item}}, 13},
      {"msg seq -1", {{"", msg("-1"), item}}, 13},
      {"msg seq 2^64", {{"", msg("18446744073709551616"), item}}, 13},
      {"msg seq beyond the credit", {{"", msg("17"), item}}, 8},
      {"msg undecodable payload", {{"", msg("1"), "\xff"}}, 3},
      {"end without count",
       {{"", kind("end", {{"Natsrpc-Credit", "16"}}), ""}},
       13},
      {"end count x",
       {{"", kind("end", {{"Natsrpc-Credit", "16"}, {"Natsrpc-Count", "x"}}),
         ""}},
       13},
      {"end count 5 after no msg",
       {{"", kind("end", {{"Natsrpc-Credit", "16"}, {"Natsrpc-Count", "5"}}),
         ""}},
       15},
      {"unknown kind", {{"", kind("bogus"), ""}}, 13},
      {"no Natsrpc-Stream header", {{"", Block(H{{"X-A", "1"}}), item}}, 13},
      {"no headers at all", {{"", "", item}}, 13},
      {"msg on a server stream", {{"", msg("1"), item}}, 13, "Count"},
      {"end on a server stream",
       {{"", kind("end", {{"Natsrpc-Credit", "0"}, {"Natsrpc-Count", "0"}}),
         ""}},
       13,
       "Count"},
      // The stream goes on.
      {"duplicate msg is dropped", {{"", msg("1"), ItemPayload(1)}}, 0},
      {"open on the stream subject",
       {{"", kind("open", {{"Natsrpc-Credit", "1"}}), ""}},
       0},
      {"accept on the stream subject",
       {{"", kind("accept", {{"Natsrpc-Credit", "1"}}), ""}},
       0},
      {"credit malformed",
       {{"", kind("credit", {{"Natsrpc-Credit", "x"}}), ""}},
       0},
      {"credit 2^64",
       {{"", kind("credit", {{"Natsrpc-Credit", "18446744073709551616"}}), ""}},
       0},
      {"credit smaller than before",
       {{"", kind("credit", {{"Natsrpc-Credit", "1"}}), ""}},
       0},
      {"ping without credit", {{"", kind("ping"), ""}}, 0},
      {"ping with payload",
       {{"", kind("ping", {{"Natsrpc-Credit", "16"}}), "junk"}},
       0},
      {"msg on an unknown stream id", {{"!{I}.999999", msg("1"), item}}, 0},
      {"msg on a stream id 'x'", {{"!{I}.x", msg("1"), item}}, 0},
      {"end on an unknown instance",
       {{"!nobody.1", kind("end", {{"Natsrpc-Count", "0"}}), ""}},
       0},
  };
  return rows;
}

TEST_F(HostileInputTest, MalformedStreamFramesEndTheStreamOrAreIgnored) {
  const std::vector<FrameRow> rows = FrameRows();
  int n = 0, failed = 0;
  for (const FrameRow& row : rows) {
    ++n;
    SCOPED_TRACE(row.name);
    const int before = g_failures.load();
    const std::string reply = Reply("frames", n);
    const bool server_stream = row.method == "Count";
    tv1::CountRequest count;
    count.set_hold_open(true);
    raw_.Pub(kStream + row.method, reply,
             Block({{"Natsrpc-Stream", "open"},
                    {"Natsrpc-Credit", "16"},
                    {"Natsrpc-Heartbeat", "60S"},
                    {"Natsrpc-Revision", "3"}}),
             server_stream ? count.SerializeAsString() : "");
    std::optional<RawMsg> accept = Expect("accept");
    ASSERT_TRUE(accept.has_value());
    ASSERT_EQ(accept->header("Natsrpc-Stream"), "accept") << accept->Describe();
    const std::string stream = accept->reply;
    // requests.alice.bob.<app>.StreamService.<method>.<instance>.<id>
    std::vector<std::string> tokens = absl::StrSplit(stream, '.');
    ASSERT_EQ(tokens.size(), 8u) << stream;
    if (row.name == "duplicate msg is dropped") {
      raw_.Pub(stream, "",
               Block({{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", "1"}}),
               ItemPayload(1));
      std::optional<RawMsg> echo = Expect("echo of msg 1");
      ASSERT_TRUE(echo.has_value());
      EXPECT_EQ(echo->header("Natsrpc-Stream"), "msg") << echo->Describe();
    }
    for (const auto& [where, headers, payload] : row.frames) {
      std::string subject = stream;
      if (absl::StartsWith(where, "!")) {
        std::string suffix = where.substr(1);
        absl::StrReplaceAll({{"{I}", tokens[6]}}, &suffix);
        subject =
            absl::StrCat(absl::StrJoin(tokens.begin(), tokens.begin() + 6, "."),
                         ".", suffix);
      }
      if (headers.empty()) {
        raw_.Pub(subject, "", std::nullopt, payload);
      } else {
        raw_.Pub(subject, "", headers, payload);
      }
    }
    if (row.cancel_code != 0) {
      std::optional<RawMsg> m = Expect("cancel");
      if (m.has_value()) {
        EXPECT_EQ(m->subject, reply);
        EXPECT_EQ(m->header("Natsrpc-Stream"), "cancel") << m->Describe();
        EXPECT_EQ(m->header("Nats-Service-Error-Code"),
                  absl::StrCat(row.cancel_code))
            << m->Describe();
      }
    } else {
      // The stream goes on: the next msg is echoed, and it is the next
      // thing to arrive.
      const std::string seq =
          row.name == "duplicate msg is dropped" ? "2" : "1";
      raw_.Pub(stream, "",
               Block({{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", seq}}),
               ItemPayload(42));
      std::optional<RawMsg> m = Expect("echo");
      if (m.has_value()) {
        EXPECT_EQ(m->subject, reply);
        EXPECT_EQ(m->header("Natsrpc-Stream"), "msg") << m->Describe();
        tv1::Item got;
        EXPECT_TRUE(got.ParseFromString(m->payload));
        EXPECT_EQ(got.seq(), 42);
      }
      raw_.Pub(stream, "",
               Block({{"Natsrpc-Stream", "cancel"}, {"Natsrpc-Credit", "0"}}),
               "");
    }
    ExpectServerAnswers(row.name);
    if (g_failures.load() != before) {
      ++failed;
      std::cout << "  failed frame row: " << row.name << "\n";
      while (raw_.Next(absl::Milliseconds(200)).has_value()) {
      }
    }
  }
  std::cout << "hostile stream-frame rows: " << rows.size()
            << ", failed: " << failed << "\n";
  RecordProperty("frame_rows", static_cast<int>(rows.size()));
  // Nothing late (a cancelled stream sends nothing more).
  raw_.Pub(kTest + "Echo", Reply("final", 2), std::nullopt, "");
  std::optional<RawMsg> last = Expect("final probe");
  if (last.has_value()) {
    EXPECT_EQ(last->subject, Reply("final", 2)) << last->Describe();
  }
}

// Cancel subjects (section 9.8): any message on a cancel subject cancels the
// call it names and is never answered; a cancel for a call that does not
// exist is remembered (bounded) and answers nothing.
TEST_F(HostileInputTest, CancelSubjectsAnswerNothing) {
  const std::string cancel_base = kTest + "Sleep.cancel.";
  struct CancelRow {
    std::string name;
    std::string subject;
    std::string reply;
    std::optional<std::string> headers;
    std::string payload;
  };
  const std::vector<CancelRow> rows = {
      {"cancel for no call", cancel_base + "nobody.1", "",
       Block({{"Natsrpc-Stream", "cancel"}}), ""},
      {"cancel without headers", cancel_base + "nobody.2", "", std::nullopt,
       ""},
      {"cancel with a reply-to", cancel_base + "nobody.3", Reply("cancel", 3),
       Block({{"Natsrpc-Stream", "cancel"}}), ""},
      {"cancel with 256 KiB payload", cancel_base + "nobody.4", "",
       Block({{"Natsrpc-Stream", "cancel"}, {"Nats-Service-Error-Code", "99"}}),
       std::string(256 * 1024, 'z')},
      {"cancel of an unknown method", kTest + "Nope.cancel.nobody.5",
       Reply("cancel", 5), Block({{"Natsrpc-Stream", "cancel"}}), ""},
      {"cancel with 10 tokens", cancel_base + "nobody.6.7", "", std::nullopt,
       ""},
      {"cancel kind msg", cancel_base + "nobody.8", "",
       Block({{"Natsrpc-Stream", "msg"}}), ""},
  };
  int n = 0;
  for (const CancelRow& row : rows) {
    ++n;
    SCOPED_TRACE(row.name);
    // A call to cancel for real afterwards, on the same cancel subscription.
    tv1::SleepRequest sleep;
    sleep.set_millis(20000);
    const std::string victim = absl::StrCat("victim", n);
    const int cancelled_before =
        static_cast<int>(test_impl_.cancelled().size());
    raw_.Pub(kTest + "Sleep", Reply(victim, 1), std::nullopt,
             sleep.SerializeAsString());
    ASSERT_TRUE(Eventually([&] { return test_impl_.sleeping.load() == 1; }));
    raw_.Pub(row.subject, row.reply, row.headers, row.payload);
    raw_.Pub(absl::StrCat(cancel_base, victim, ".1"), "",
             Block({{"Natsrpc-Stream", "cancel"}}), "");
    ASSERT_TRUE(Eventually([&] {
      return static_cast<int>(test_impl_.cancelled().size()) ==
             cancelled_before + 1;
    })) << "the genuine cancel after the row was not applied";
    ASSERT_TRUE(Eventually([&] { return test_impl_.sleeping.load() == 0; }));
    // Neither the row nor the cancelled call is answered: the next message
    // is the probe's reply.
    raw_.Pub(kTest + "Echo", Reply("cprobe", n), std::nullopt, "");
    std::optional<RawMsg> m = Expect("probe");
    if (m.has_value()) {
      EXPECT_EQ(m->subject, Reply("cprobe", n)) << m->Describe();
    }
    ExpectServerAnswers(row.name);
  }
  std::cout << "hostile cancel rows: " << rows.size() << "\n";
}

// 100,000 malformed messages of every kind above; the process's resident
// memory (server, nats-server connection and raw client) stays flat.
TEST_F(HostileInputTest, ResidentMemoryIsFlatAcrossAFlood) {
  const std::vector<Row> rows = RequestRows();
  raw_.SetCountOnly(true);
  std::vector<const Row*> small;
  for (const Row& row : rows) {
    // The big rows were sent once each above, not 100,000 times; opens that
    // are accepted would hold streams until their liveness ends them.
    if (row.payload.size() > 4096 ||
        (row.headers.has_value() && row.headers->size() > 4096) ||
        row.expect == Outcome::kAccept) {
      continue;
    }
    small.push_back(&row);
  }
  auto flood = [&](int count, int first) {
    for (int i = 0; i < count; ++i) {
      const Row& row = *small[static_cast<size_t>(i) % small.size()];
      const int k = first + i;
      switch (k % 4) {
        case 0:
        case 1:
          raw_.Pub(row.subject,
                   row.reply == "{R}" ? Reply("flood", k) : row.reply,
                   row.headers, row.payload);
          break;
        case 2:  // a cancel for a call that never comes
          raw_.Pub(absl::StrCat(kTest, "Echo.cancel.flood.", k), "",
                   std::nullopt, "");
          break;
        case 3:  // a frame on a stream that does not exist
          raw_.Pub(absl::StrCat(kStream, "Echo.nobody.", k), "",
                   Block({{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", "1"}}),
                   "x");
          break;
      }
      if (i % 1000 == 999) {
        // Keep the client's own writes from running far ahead.
        ASSERT_TRUE(raw_.Sync().ok());
      }
    }
    // Drained: a probe on each service's subscription is answered.
    raw_.SetCountOnly(false);
    // Everything before the probe has been answered when the probe is.
    const std::string probe = Reply("drain", first);
    raw_.Pub(kTest + "Echo", probe, std::nullopt, "");
    while (true) {
      std::optional<RawMsg> m = raw_.Next(absl::Seconds(60));
      ASSERT_TRUE(m.has_value()) << "the server stopped answering";
      if (m->subject == probe) break;
    }
    raw_.SetCountOnly(true);
    ExpectServerAnswers("the flood");
  };
  const absl::Time start = absl::Now();
  flood(20000, 0);  // warm up: caches, buffers, remembered cancels fill up
  const int64_t warm = VmRssKb();
  flood(100000, 20000);
  const int64_t after = VmRssKb();
  const absl::Duration took = absl::Now() - start;
  raw_.SetCountOnly(false);
  std::cout << "flood: 120,000 messages in " << took << ", " << raw_.received()
            << " answers; VmRSS after 20,000: " << warm
            << " kB, after 100,000 more: " << after << " kB (growth "
            << after - warm << " kB)\n";
  RecordProperty("rss_warm_kb", static_cast<int>(warm));
  RecordProperty("rss_after_kb", static_cast<int>(after));
  ASSERT_GT(warm, 0);
  // Bound: less than 16 MiB of growth over 100,000 messages, i.e. < 168
  // bytes per message; a per-message leak of any realistic size (one kept
  // request: a few hundred bytes) exceeds it.
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan freed memory stays resident in its quarantine (256 MB by
  // default) by design, so resident memory says nothing here; LeakSanitizer
  // checks the leaks at exit instead, and the plain build checks the bound.
  std::cout << "ASan build: the resident-memory bound is checked in the "
               "plain build only\n";
#else
  EXPECT_LT(after - warm, 16 * 1024) << "resident memory grew";
#endif
}

}  // namespace
}  // namespace natsrpc::suites

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(
      new natsrpc::suites::FailureCounter);
  return RUN_ALL_TESTS();
}
