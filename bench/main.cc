// Copyright 2026 The natsrpc Authors.
//
// natsrpc_bench: echo calls through natsrpc, raw nats.c and gRPC C++ on
// loopback, in one run, with ratios. See docs/benchmarks.md.
//
//   natsrpc_bench [--seconds S] [--warmup S] [--reps N] [--quick]
//                 [--payloads 100,65536] [--inflight 1,16,128,1024]
//                 [--only id,id] [--max-blocking-threads N]
//                 [--json FILE] [--note TEXT] [--nats-server PATH]

#include <nats/nats.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "contender.h"
#include "harness.h"
#include "json_writer.h"
#include "nats_server_process.h"

namespace natsrpc_bench {
namespace {

struct Flags {
  Timing timing;
  int reps = 3;
  bool quick = false;
  std::vector<size_t> payloads = {100, 65536};
  std::vector<uint32_t> inflight = {1, 16, 128, 1024};
  std::vector<std::string> only;
  uint32_t max_blocking_threads = 128;
  std::string json_path;
  std::string note;
  std::string nats_server;
  Env env;  // the --tuning switches
};

void Usage() {
  std::cerr <<
      R"(usage: natsrpc_bench [flags]
Measures echo calls (one at a time and with N calls in flight) through raw
nats.c, natsrpc and gRPC C++ on loopback; prints a table with ratios and
optionally writes JSON.

  --seconds S        measurement window of each row (default 1.5)
  --warmup S         warm-up before each window (default 0.3)
  --reps N           repetitions; figures are the median, spread min-max (default 3)
  --quick            smoke mode: --seconds 0.05 --warmup 0.02 --reps 1
  --payloads LIST    payload sizes in bytes (default 100,65536)
  --inflight LIST    calls in flight (default 1,16,128,1024)
  --only LIST        contender ids to run (default all), e.g. raw_buffered,natsrpc_async
  --max-blocking-threads N
                     blocking contenders run one thread per call in flight and
                     skip rows above N (default 128)
  --json FILE        write all figures as JSON
  --note TEXT        free text stored in the JSON (e.g. the git commit)
  --nats-server PATH nats-server binary (default $NATS_SERVER, /usr/sbin/nats-server, PATH)
  --tuning LIST      natsrpc::TransportTuning switches for A/B runs, e.g.
                     event_loop=0,write_now=0,bursts=0,nats_internals=0
)";
}

template <typename T>
bool ParseList(const std::string& text, std::vector<T>& out) {
  out.clear();
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    char* end = nullptr;
    std::string s(part);
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (end == s.c_str() || *end != '\0' || v == 0) return false;
    out.push_back(static_cast<T>(v));
  }
  return !out.empty();
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  bool seconds_set = false, warmup_set = false, reps_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    bool has_value = false;
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        return false;
      }
      value = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      Usage();
      std::exit(0);
    } else if (arg == "--quick") {
      f.quick = true;
    } else if (arg == "--seconds") {
      if (!next()) return std::nullopt;
      f.timing.seconds = std::atof(value.c_str());
      seconds_set = true;
    } else if (arg == "--warmup") {
      if (!next()) return std::nullopt;
      f.timing.warmup_seconds = std::atof(value.c_str());
      warmup_set = true;
    } else if (arg == "--reps") {
      if (!next()) return std::nullopt;
      f.reps = std::atoi(value.c_str());
      reps_set = true;
    } else if (arg == "--payloads") {
      if (!next() || !ParseList(value, f.payloads)) {
        std::cerr << "bad --payloads\n";
        return std::nullopt;
      }
    } else if (arg == "--inflight") {
      if (!next() || !ParseList(value, f.inflight)) {
        std::cerr << "bad --inflight\n";
        return std::nullopt;
      }
    } else if (arg == "--only") {
      if (!next()) return std::nullopt;
      f.only = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else if (arg == "--max-blocking-threads") {
      if (!next()) return std::nullopt;
      f.max_blocking_threads = static_cast<uint32_t>(std::atoi(value.c_str()));
    } else if (arg == "--json") {
      if (!next()) return std::nullopt;
      f.json_path = value;
    } else if (arg == "--note") {
      if (!next()) return std::nullopt;
      f.note = value;
    } else if (arg == "--tuning") {
      if (!next()) return std::nullopt;
      for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv = absl::StrSplit(item, '=');
        bool* field = kv.first == "event_loop"       ? &f.env.event_loop
                      : kv.first == "write_now"      ? &f.env.write_now
                      : kv.first == "bursts"         ? &f.env.bursts
                      : kv.first == "nats_internals" ? &f.env.nats_internals
                                                     : nullptr;
        if (field == nullptr || (kv.second != "0" && kv.second != "1")) {
          std::cerr << "bad --tuning item " << item << "\n";
          return std::nullopt;
        }
        *field = kv.second == "1";
      }
    } else if (arg == "--nats-server") {
      if (!next()) return std::nullopt;
      f.nats_server = value;
    } else {
      std::cerr << "unknown flag " << arg << "\n";
      Usage();
      return std::nullopt;
    }
  }
  if (f.quick) {
    if (!seconds_set) f.timing.seconds = 0.05;
    if (!warmup_set) f.timing.warmup_seconds = 0.02;
    if (!reps_set) f.reps = 1;
  }
  if (f.timing.seconds <= 0 || f.timing.warmup_seconds < 0 || f.reps < 1) {
    std::cerr << "--seconds must be > 0, --warmup >= 0, --reps >= 1\n";
    return std::nullopt;
  }
  return f;
}

struct Stat {
  double median = 0, min = 0, max = 0;
};

Stat Summarize(std::vector<double> v) {
  Stat s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return s;
}

struct Row {
  std::string id, label, family;
  bool blocking = false;
  size_t payload = 0;
  uint32_t inflight = 0;
  std::vector<Sample> samples;
  std::string source;  // for the synthesized best-raw row: which config

  std::vector<const Sample*> good() const {
    std::vector<const Sample*> out;
    for (const Sample& s : samples) {
      if (s.ok) out.push_back(&s);
    }
    return out;
  }
  bool ok() const { return !good().empty(); }
  Stat stat(double Sample::*field) const {
    std::vector<double> v;
    for (const Sample* s : good()) v.push_back(s->*field);
    return Summarize(v);
  }
  uint64_t errors() const {
    uint64_t e = 0;
    for (const Sample& s : samples) e += s.errors;
    return e;
  }
  std::string first_error() const {
    for (const Sample& s : samples) {
      if (!s.ok) return s.error;
    }
    return "";
  }
};

class Results {
 public:
  Row& Get(const Contender& c, size_t payload, uint32_t inflight) {
    const std::string key = Key(c.id(), payload, inflight);
    auto it = index_.find(key);
    if (it != index_.end()) return rows_[it->second];
    Row r;
    r.id = c.id();
    r.label = c.label();
    r.family = c.family();
    r.blocking = c.blocking();
    r.payload = payload;
    r.inflight = inflight;
    index_[key] = rows_.size();
    rows_.push_back(std::move(r));
    return rows_.back();
  }

  const Row* Find(const std::string& id, size_t payload,
                  uint32_t inflight) const {
    auto it = index_.find(Key(id, payload, inflight));
    if (it == index_.end()) return nullptr;
    const Row& r = rows_[it->second];
    return r.ok() ? &r : nullptr;
  }

  // The successful row of `family` with the highest median throughput.
  const Row* Best(const std::string& family, size_t payload,
                  uint32_t inflight) const {
    const Row* best = nullptr;
    for (const Row& r : rows_) {
      if (r.family != family || r.payload != payload ||
          r.inflight != inflight || !r.ok() || !r.source.empty()) {
        continue;
      }
      if (best == nullptr || r.stat(&Sample::calls_per_second).median >
                                 best->stat(&Sample::calls_per_second).median) {
        best = &r;
      }
    }
    return best;
  }

  // Adds "raw_best" rows: per payload and in-flight count, the raw config
  // with the highest median throughput (docs/platform.md, "Raw nats.c as the baseline").
  void AddBestRaw(const std::vector<size_t>& payloads,
                  const std::vector<uint32_t>& inflight) {
    std::vector<Row> add;
    for (size_t p : payloads) {
      for (uint32_t n : inflight) {
        const Row* b = Best("raw", p, n);
        if (b == nullptr) continue;
        Row r = *b;
        r.source = b->id;
        r.id = "raw_best";
        r.label = "raw nats.c (best)";
        add.push_back(std::move(r));
      }
    }
    for (Row& r : add) {
      index_[Key(r.id, r.payload, r.inflight)] = rows_.size();
      rows_.push_back(std::move(r));
    }
  }

  const std::vector<Row>& rows() const { return rows_; }

 private:
  static std::string Key(const std::string& id, size_t payload,
                         uint32_t inflight) {
    return absl::StrCat(id, "/", payload, "/", inflight);
  }
  std::vector<Row> rows_;
  std::map<std::string, size_t> index_;
};

std::string PayloadName(size_t bytes) {
  if (bytes >= 1024 && bytes % 1024 == 0)
    return absl::StrCat(bytes / 1024, " KB");
  return absl::StrCat(bytes, " B");
}

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Ratio(double a, double b) {
  if (a <= 0 || b <= 0) return "-";
  return Fmt("%.2f", a / b);
}

std::string Count(double v) {
  if (v >= 100000) return Fmt("%.0fk", v / 1000);
  if (v >= 10000) return Fmt("%.1fk", v / 1000);
  return Fmt("%.0f", v);
}

// ----- the five targets of the issue (100 B payload) -----

struct Target {
  std::string id;
  std::string description;
  std::string comparison;  // "<=" or ">="
  double limit = 0;
  std::optional<double> measured;
  std::string detail;
};

std::vector<Target> EvaluateTargets(const Results& res) {
  constexpr size_t kPayload = 100;
  auto metric = [&](const std::string& id, uint32_t n,
                    double Sample::*field) -> std::optional<double> {
    const Row* r = res.Find(id, kPayload, n);
    if (r == nullptr) return std::nullopt;
    return r->stat(field).median;
  };
  auto ratio = [](std::optional<double> a,
                  std::optional<double> b) -> std::optional<double> {
    if (!a || !b || *b <= 0) return std::nullopt;
    return *a / *b;
  };
  auto detail = [](std::optional<double> a, std::optional<double> b,
                   const char* fmt) {
    if (!a || !b) return std::string("not measured");
    return Fmt(fmt, *a) + " vs " + Fmt(fmt, *b);
  };
  std::vector<Target> t;
  {
    auto a = metric("natsrpc_blocking", 1, &Sample::p50_us);
    auto b = metric("raw_sendasap", 1, &Sample::p50_us);
    t.push_back(
        {"latency_p50",
         "natsrpc blocking p50, one call at a time, vs raw SendAsap p50",
         "<=", 1.10, ratio(a, b), detail(a, b, "%.0f us")});
  }
  {
    auto a = metric("natsrpc_async", 1024, &Sample::calls_per_second);
    auto b = metric("raw_buffered", 1024, &Sample::calls_per_second);
    t.push_back({"throughput_1024",
                 "natsrpc async throughput at 1024 in flight vs raw buffered",
                 ">=", 0.80, ratio(a, b), detail(a, b, "%.0f/s")});
  }
  {
    auto a = metric("natsrpc_async", 128, &Sample::calls_per_second);
    auto b = metric("raw_buffered", 128, &Sample::calls_per_second);
    t.push_back({"throughput_128",
                 "natsrpc async throughput at 128 in flight vs raw buffered",
                 ">=", 1.5, ratio(a, b), detail(a, b, "%.0f/s")});
  }
  {
    auto a = metric("natsrpc_async", 1024, &Sample::cpu_us_per_call);
    auto b = metric("raw_buffered", 1024, &Sample::cpu_us_per_call);
    t.push_back({"cpu_1024",
                 "natsrpc async CPU per call at 1024 in flight vs raw buffered",
                 "<=", 1.25, ratio(a, b), detail(a, b, "%.1f us")});
  }
  // Against the better of the asynchronous gRPC configurations (one channel,
  // four channels) at each count.
  for (uint32_t n : {128u, 1024u}) {
    auto a = metric("natsrpc_async", n, &Sample::calls_per_second);
    std::optional<double> b;
    std::string which;
    for (const char* id : {"grpc_async", "grpc_async_4ch"}) {
      auto v = metric(id, n, &Sample::calls_per_second);
      if (v && (!b || *v > *b)) {
        b = v;
        which = id;
      }
    }
    std::string d = detail(a, b, "%.0f/s");
    if (b) d += " (" + which + ")";
    t.push_back({absl::StrCat("vs_grpc_", n),
                 absl::StrCat("natsrpc async throughput at ", n,
                              " in flight vs best gRPC async"),
                 ">", 1.0, ratio(a, b), d});
  }
  return t;
}

bool Passes(const Target& t) {
  if (!t.measured) return false;
  if (t.comparison == "<=") return *t.measured <= t.limit;
  if (t.comparison == ">=") return *t.measured >= t.limit;
  return *t.measured > t.limit;
}

void PrintTable(const Results& res, const Flags& flags,
                const std::vector<Target>& targets) {
  std::printf(
      "\nMedians of %d rep(s), %.2f s windows; [min-max] over reps. x raw: "
      "ratio to the best raw nats.c config of the row; x gRPC: to the best "
      "gRPC contender of the row. CPU: all processes.\n",
      flags.reps, flags.timing.seconds);
  for (size_t p : flags.payloads) {
    std::printf("\n== %s payload ==\n", PayloadName(p).c_str());
    std::printf("%-28s %5s %22s %6s %6s %8s %6s %6s %8s %8s %6s %6s\n",
                "contender", "infl", "calls/s [min-max]", "x raw", "x gRPC",
                "p50 us", "x raw", "x gRPC", "p99 us", "CPU us", "x raw",
                "x gRPC");
    for (uint32_t n : flags.inflight) {
      const Row* raw = res.Find("raw_best", p, n);
      const Row* grpc = res.Best("grpc", p, n);
      for (const Row& r : res.rows()) {
        if (r.payload != p || r.inflight != n) continue;
        std::string label = r.label;
        if (!r.source.empty()) label = "  best raw = " + r.source;
        if (!r.ok()) {
          std::printf("%-28s %5u  failed: %s\n", label.c_str(), n,
                      r.first_error().c_str());
          continue;
        }
        const Stat thr = r.stat(&Sample::calls_per_second);
        const Stat p50 = r.stat(&Sample::p50_us);
        const Stat p99 = r.stat(&Sample::p99_us);
        const Stat cpu = r.stat(&Sample::cpu_us_per_call);
        auto ref = [](const Row* x, double Sample::*f) {
          return x ? x->stat(f).median : 0.0;
        };
        const std::string spread = Count(thr.median) + " [" + Count(thr.min) +
                                   "-" + Count(thr.max) + "]";
        std::printf(
            "%-28s %5u %22s %6s %6s %8.0f %6s %6s %8.0f %8.1f %6s %6s%s\n",
            label.c_str(), n, spread.c_str(),
            Ratio(thr.median, ref(raw, &Sample::calls_per_second)).c_str(),
            Ratio(thr.median, ref(grpc, &Sample::calls_per_second)).c_str(),
            p50.median, Ratio(p50.median, ref(raw, &Sample::p50_us)).c_str(),
            Ratio(p50.median, ref(grpc, &Sample::p50_us)).c_str(), p99.median,
            cpu.median,
            Ratio(cpu.median, ref(raw, &Sample::cpu_us_per_call)).c_str(),
            Ratio(cpu.median, ref(grpc, &Sample::cpu_us_per_call)).c_str(),
            r.errors() ? absl::StrCat("  (", r.errors(), " errors)").c_str()
                       : "");
      }
    }
  }
  std::printf("\n== targets (100 B payload) ==\n");
  for (const Target& t : targets) {
    std::printf("%-4s %-70s %s %.2f: %s (%s)\n",
                t.measured ? (Passes(t) ? "PASS" : "FAIL") : "n/a",
                t.description.c_str(), t.comparison.c_str(), t.limit,
                t.measured ? Fmt("%.2f", *t.measured).c_str() : "-",
                t.detail.c_str());
  }
  std::fflush(stdout);
}

std::string ReadFirstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (prefix.empty() || line.rfind(prefix, 0) == 0) {
      if (!prefix.empty()) {
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          line = line.substr(colon + 1);
          line.erase(0, line.find_first_not_of(" \t"));
        }
      }
      return line;
    }
  }
  return "";
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void WriteStat(JsonWriter& w, const char* key, const Stat& s) {
  w.Key(key);
  w.BeginObject();
  w.Field("median", s.median);
  w.Field("min", s.min);
  w.Field("max", s.max);
  w.EndObject();
}

bool WriteJson(const std::string& path, const Results& res, const Flags& flags,
               const std::vector<Target>& targets,
               const std::map<std::string, std::string>& machine) {
  JsonWriter w;
  w.BeginObject();
  w.Field("schema", "natsrpc-bench/1");
  w.Field("note", flags.note);
  w.Key("machine");
  w.BeginObject();
  for (const auto& [k, v] : machine) w.Field(k.c_str(), v);
  w.EndObject();
  w.Key("config");
  w.BeginObject();
  w.Field("seconds", flags.timing.seconds);
  w.Field("warmup_seconds", flags.timing.warmup_seconds);
  w.Field("reps", static_cast<double>(flags.reps));
  w.Field("quick", flags.quick);
  w.Key("payloads");
  w.BeginArray();
  for (size_t p : flags.payloads) w.Value(static_cast<double>(p));
  w.EndArray();
  w.Key("inflight");
  w.BeginArray();
  for (uint32_t n : flags.inflight) w.Value(static_cast<double>(n));
  w.EndArray();
  w.Field("max_blocking_threads",
          static_cast<double>(flags.max_blocking_threads));
  w.EndObject();

  w.Key("rows");
  w.BeginArray();
  for (const Row& r : res.rows()) {
    w.BeginObject();
    w.Field("contender", r.id);
    w.Field("label", r.label);
    w.Field("family", r.family);
    w.Field("mode", r.blocking ? "blocking" : "async");
    if (!r.source.empty()) w.Field("source", r.source);
    w.Field("payload_bytes", static_cast<double>(r.payload));
    w.Field("inflight", static_cast<double>(r.inflight));
    w.Field("ok", r.ok());
    if (!r.ok()) w.Field("error", r.first_error());
    w.Field("errors", static_cast<double>(r.errors()));
    if (r.ok()) {
      WriteStat(w, "calls_per_second", r.stat(&Sample::calls_per_second));
      WriteStat(w, "p50_us", r.stat(&Sample::p50_us));
      WriteStat(w, "p99_us", r.stat(&Sample::p99_us));
      WriteStat(w, "cpu_us_per_call", r.stat(&Sample::cpu_us_per_call));
      WriteStat(w, "nats_server_cpu_us_per_call",
                r.stat(&Sample::nats_server_cpu_us_per_call));
      const Row* raw = res.Find("raw_best", r.payload, r.inflight);
      const Row* grpc = res.Best("grpc", r.payload, r.inflight);
      w.Key("ratio_to_raw_best");
      w.BeginObject();
      if (raw != nullptr) {
        for (auto [name, f] :
             {std::pair{"calls_per_second", &Sample::calls_per_second},
              std::pair{"p50_us", &Sample::p50_us},
              std::pair{"p99_us", &Sample::p99_us},
              std::pair{"cpu_us_per_call", &Sample::cpu_us_per_call}}) {
          w.Field(name, r.stat(f).median / raw->stat(f).median);
        }
      }
      w.EndObject();
      w.Key("ratio_to_grpc_best");
      w.BeginObject();
      if (grpc != nullptr) {
        w.Field("contender", grpc->id);
        for (auto [name, f] :
             {std::pair{"calls_per_second", &Sample::calls_per_second},
              std::pair{"p50_us", &Sample::p50_us},
              std::pair{"p99_us", &Sample::p99_us},
              std::pair{"cpu_us_per_call", &Sample::cpu_us_per_call}}) {
          w.Field(name, r.stat(f).median / grpc->stat(f).median);
        }
      }
      w.EndObject();
    }
    w.Key("reps");
    w.BeginArray();
    for (const Sample& s : r.samples) {
      w.BeginObject();
      w.Field("ok", s.ok);
      if (!s.ok) w.Field("error", s.error);
      w.Field("calls_per_second", s.calls_per_second);
      w.Field("p50_us", s.p50_us);
      w.Field("p99_us", s.p99_us);
      w.Field("cpu_us_per_call", s.cpu_us_per_call);
      w.Field("nats_server_cpu_us_per_call", s.nats_server_cpu_us_per_call);
      w.Field("foreign_cpu_cores", s.foreign_cpu_cores);
      w.Field("calls", static_cast<double>(s.calls));
      w.Field("errors", static_cast<double>(s.errors));
      w.Field("window_seconds", s.window_seconds);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();

  w.Key("targets");
  w.BeginArray();
  for (const Target& t : targets) {
    w.BeginObject();
    w.Field("id", t.id);
    w.Field("description", t.description);
    w.Field("comparison", t.comparison);
    w.Field("limit", t.limit);
    if (t.measured) {
      w.Field("measured", *t.measured);
      w.Field("pass", Passes(t));
    } else {
      w.Key("measured");
      w.Null();
      w.Key("pass");
      w.Null();
    }
    w.Field("detail", t.detail);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  std::ofstream out(path);
  out << w.str() << "\n";
  return static_cast<bool>(out);
}

int Main(int argc, char** argv) {
  std::optional<Flags> parsed = ParseFlags(argc, argv);
  if (!parsed) return 2;
  const Flags& flags = *parsed;

  std::vector<ContenderFactory> factories;
  for (auto* group :
       {&RawNatsContenders, &NatsrpcContenders, &GrpcContenders}) {
    for (ContenderFactory& f : group()) factories.push_back(std::move(f));
  }
  if (!flags.only.empty()) {
    std::vector<ContenderFactory> kept;
    for (ContenderFactory& f : factories) {
      const std::string id = f()->id();
      if (std::find(flags.only.begin(), flags.only.end(), id) !=
          flags.only.end()) {
        kept.push_back(std::move(f));
      }
    }
    factories = std::move(kept);
    if (factories.empty()) {
      std::cerr << "--only matched no contender\n";
      return 2;
    }
  }

  std::map<std::string, std::string> machine;
  machine["cpu_model"] = ReadFirstLine("/proc/cpuinfo", "model name");
  machine["cpus"] = std::to_string(std::thread::hardware_concurrency());
  utsname u{};
  if (uname(&u) == 0)
    machine["kernel"] = absl::StrCat(u.sysname, " ", u.release);
  std::string os = ReadFirstLine("/etc/os-release", "PRETTY_NAME=");
  os = os.substr(std::min(os.size(), sizeof("PRETTY_NAME=") - 1));
  os.erase(std::remove(os.begin(), os.end(), '"'), os.end());
  machine["os"] = os;
  machine["loadavg_start"] = ReadFirstLine("/proc/loadavg", "");
  machine["nats_c"] = nats_GetVersion();
  machine["grpc"] = GrpcVersion();
  machine["natsrpc"] = NatsrpcVersion();
  machine["started_utc"] = UtcNow();

  NatsServerProcess server;
  if (absl::Status s = server.Start(flags.nats_server); !s.ok()) {
    std::cerr << "cannot start nats-server: " << s << "\n";
    return 1;
  }
  machine["nats_server"] = server.version();
  std::fprintf(stderr, "nats-server %s (pid %d) at %s\n",
               machine["nats_server"].c_str(), static_cast<int>(server.pid()),
               server.url().c_str());
  Env env = flags.env;
  env.nats_url = server.url();

  // Every contender is set up for the whole repetition and the rows are
  // interleaved (row by row, contender after contender), so that a busy
  // moment of the machine hits the contenders of a row alike.
  Results results;
  std::vector<double> idle_cpu;
  const auto run_start = std::chrono::steady_clock::now();
  const int64_t ours_start = SelfCpuMicros() + server.CpuMicros();
  const int64_t machine_start = MachineBusyCpuMicros();
  for (int rep = 1; rep <= flags.reps; ++rep) {
    std::vector<std::unique_ptr<Contender>> contenders;
    std::vector<absl::Status> setup;
    for (const ContenderFactory& factory : factories) {
      contenders.push_back(factory());
      setup.push_back(contenders.back()->Setup(env));
      if (!setup.back().ok()) {
        std::fprintf(stderr, "[rep %d/%d] %s: setup failed: %s\n", rep,
                     flags.reps, contenders.back()->label().c_str(),
                     setup.back().ToString().c_str());
      }
    }
    // What the idle contenders cost (their threads are counted in every
    // row's CPU): recorded so that it can be judged, not subtracted.
    {
      const int64_t cpu0 = SelfCpuMicros() + server.CpuMicros();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const int64_t cpu1 = SelfCpuMicros() + server.CpuMicros();
      idle_cpu.push_back(static_cast<double>(cpu1 - cpu0) / 0.5 / 1e6);
    }
    for (size_t p : flags.payloads) {
      for (size_t i = 0; i < contenders.size(); ++i) {
        if (setup[i].ok()) contenders[i]->SetPayload(p);
      }
      for (uint32_t n : flags.inflight) {
        for (size_t i = 0; i < contenders.size(); ++i) {
          Contender& c = *contenders[i];
          if (c.blocking() && n > flags.max_blocking_threads) continue;
          Sample s;
          if (setup[i].ok()) {
            s = RunRow(c, n, flags.timing, &server);
          } else {
            s.error = absl::StrCat("setup: ", setup[i].ToString());
          }
          if (s.ok) {
            std::fprintf(
                stderr,
                "[rep %d/%d] %-28s %6s x%-4u %9.0f calls/s  p50 %7.0f "
                "us  p99 %7.0f us  %6.1f us CPU/call%s\n",
                rep, flags.reps, c.label().c_str(), PayloadName(p).c_str(), n,
                s.calls_per_second, s.p50_us, s.p99_us, s.cpu_us_per_call,
                s.errors ? absl::StrCat("  ", s.errors, " errors").c_str()
                         : "");
          } else {
            std::fprintf(stderr, "[rep %d/%d] %-28s %6s x%-4u FAILED: %s\n",
                         rep, flags.reps, c.label().c_str(),
                         PayloadName(p).c_str(), n, s.error.c_str());
          }
          results.Get(c, p, n).samples.push_back(std::move(s));
        }
      }
    }
    for (std::unique_ptr<Contender>& c : contenders) c->Teardown();
  }
  {
    const double wall = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - run_start)
                            .count();
    const int64_t ours = SelfCpuMicros() + server.CpuMicros() - ours_start;
    const int64_t all = MachineBusyCpuMicros() - machine_start;
    // Cores' worth of CPU that other processes used during the run.
    machine["foreign_cpu_cores"] =
        Fmt("%.3f",
            std::max<double>(0, static_cast<double>(all - ours)) / 1e6 / wall);
    std::sort(idle_cpu.begin(), idle_cpu.end());
    machine["idle_cpu_cores"] = Fmt("%.4f", idle_cpu[idle_cpu.size() / 2]);
  }
  machine["loadavg_end"] = ReadFirstLine("/proc/loadavg", "");
  server.Stop();

  results.AddBestRaw(flags.payloads, flags.inflight);
  const std::vector<Target> targets = EvaluateTargets(results);
  PrintTable(results, flags, targets);

  int rc = 0;
  if (!flags.json_path.empty()) {
    if (WriteJson(flags.json_path, results, flags, targets, machine)) {
      std::fprintf(stderr, "wrote %s\n", flags.json_path.c_str());
    } else {
      std::fprintf(stderr, "cannot write %s\n", flags.json_path.c_str());
      rc = 1;
    }
  }
  for (const Row& r : results.rows()) {
    if (!r.ok()) rc = 1;  // a row that never succeeded is a failure
  }
  nats_Close();
  return rc;
}

}  // namespace
}  // namespace natsrpc_bench

int main(int argc, char** argv) { return natsrpc_bench::Main(argc, argv); }
