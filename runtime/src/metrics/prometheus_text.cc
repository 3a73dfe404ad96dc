// Copyright 2026 The natsrpc Authors.
//
// PrometheusText() (natsrpc/metrics.h): the text exposition format 0.0.4 of
// the server's and the client's per-method counters. One family after
// another, each with its `# HELP` and `# TYPE` lines, then its samples in the
// order of the methods given.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "natsrpc/metrics.h"
#include "natsrpc/server.h"

namespace natsrpc {
namespace {

// A label value with `\`, `"` and line feeds escaped.
std::string LabelValue(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.9g", absl::ToDoubleSeconds(d));
}

// One metric family: its samples are appended, and the family is written
// with its header lines if it got any.
class Family {
 public:
  Family(absl::string_view name, absl::string_view type, absl::string_view help)
      : name_(name), type_(type), help_(help) {}

  // `labels` without braces, e.g. `app="a",service="S",method="M"`.
  void Add(absl::string_view suffix, absl::string_view labels,
           absl::string_view value) {
    absl::StrAppend(&samples_, name_, suffix, "{", labels, "} ", value, "\n");
  }
  void Add(absl::string_view labels, uint64_t value) {
    Add("", labels, absl::StrCat(value));
  }
  void AddHistogram(absl::string_view labels, const LatencyHistogram& counts,
                    absl::Duration sum) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      const std::string le =
          i < kLatencyBucketBounds.size()
              ? absl::StrCat(absl::ToDoubleSeconds(kLatencyBucketBounds[i]))
              : std::string("+Inf");
      Add("_bucket", absl::StrCat(labels, ",le=\"", le, "\""),
          absl::StrCat(cumulative));
    }
    Add("_sum", labels, Seconds(sum));
    Add("_count", labels, absl::StrCat(cumulative));
  }

  void AppendTo(std::string& out) const {
    if (samples_.empty()) return;
    absl::StrAppend(&out, "# HELP ", name_, " ", help_, "\n# TYPE ", name_, " ",
                    type_, "\n", samples_);
  }

 private:
  std::string name_, type_, help_;
  std::string samples_;
};

template <typename Stats>
std::string MethodLabels(const Stats& m) {
  return absl::StrCat("app=\"", LabelValue(m.app), "\",service=\"",
                      LabelValue(m.service), "\",method=\"",
                      LabelValue(m.method), "\"");
}

template <typename Stats>
void AddCodes(Family& family, absl::string_view labels, const Stats& m) {
  if (m.ok > 0) {
    family.Add(absl::StrCat(labels, ",code=\"OK\""), m.ok);
  }
  for (const auto& [code, n] : m.errors) {
    family.Add(
        absl::StrCat(labels, ",code=\"", absl::StatusCodeToString(code), "\""),
        n);
  }
}

}  // namespace

std::string PrometheusText(const std::vector<MethodStats>& methods) {
  Family requests("natsrpc_server_requests_total", "counter",
                  "Calls ended on this server, by status code.");
  Family started("natsrpc_server_requests_started_total", "counter",
                 "Calls started on this server (handler about to run, or "
                 "stream accepted).");
  Family in_flight("natsrpc_server_requests_in_flight", "gauge",
                   "Calls started and not ended.");
  Family queued("natsrpc_server_queued_requests", "gauge",
                "Requests waiting for a worker.");
  Family exhausted("natsrpc_server_resource_exhausted_total", "counter",
                   "Requests refused with RESOURCE_EXHAUSTED before a handler "
                   "(queue full, stream limit).");
  Family latency("natsrpc_server_handling_seconds", "histogram",
                 "Time from a call's start on this server to its end.");
  Family streams("natsrpc_server_streams_open", "gauge", "Streams open now.");
  Family stalls("natsrpc_server_stream_credit_stalls_total", "counter",
                "Stream writes that waited for the client's credit.");
  for (const MethodStats& m : methods) {
    const std::string labels = MethodLabels(m);
    AddCodes(requests, labels, m);
    started.Add(labels, m.calls);
    in_flight.Add(labels, m.in_flight);
    queued.Add(labels, m.queued);
    exhausted.Add(labels, m.resource_exhausted);
    latency.AddHistogram(labels, m.latency_histogram, m.total_latency);
    if (m.streaming) {
      streams.Add(labels, m.streams_open);
      stalls.Add(labels, m.credit_stalls);
    }
  }
  std::string out;
  for (const Family* f : {&requests, &started, &in_flight, &queued, &exhausted,
                          &latency, &streams, &stalls}) {
    f->AppendTo(out);
  }
  return out;
}

std::string PrometheusText(const ClientMetrics& client) {
  Family requests("natsrpc_client_requests_total", "counter",
                  "Calls ended on this client, by status code.");
  Family started("natsrpc_client_requests_started_total", "counter",
                 "Calls started on this client.");
  Family in_flight("natsrpc_client_requests_in_flight", "gauge",
                   "Calls started and not ended.");
  Family latency("natsrpc_client_latency_seconds", "histogram",
                 "Time from a call's start on this client to its end.");
  Family streams("natsrpc_client_streams_open", "gauge", "Streams open now.");
  Family stalls("natsrpc_client_stream_credit_stalls_total", "counter",
                "Stream writes that waited for the server's credit.");
  Family retries("natsrpc_client_retries_total", "counter",
                 "Attempts after a unary call's first (retry policy, "
                 "wait-for-ready).");
  for (const ClientMethodStats& m : client.methods) {
    const std::string labels = MethodLabels(m);
    AddCodes(requests, labels, m);
    started.Add(labels, m.calls);
    in_flight.Add(labels, m.calls > m.finished ? m.calls - m.finished : 0);
    latency.AddHistogram(labels, m.latency_histogram, m.total_latency);
    if (m.streaming) {
      streams.Add(labels, m.streams_open);
      stalls.Add(labels, m.credit_stalls);
    }
    if (m.retries > 0) retries.Add(labels, m.retries);
  }
  std::string out;
  for (const Family* f : {&requests, &started, &in_flight, &latency, &streams,
                          &stalls, &retries}) {
    f->AppendTo(out);
  }
  absl::StrAppend(
      &out,
      "# HELP natsrpc_client_late_replies_total Replies that came after "
      "their call's deadline.\n"
      "# TYPE natsrpc_client_late_replies_total counter\n"
      "natsrpc_client_late_replies_total ",
      client.late_replies,
      "\n"
      "# HELP natsrpc_client_duplicate_replies_total Replies to calls that "
      "had already ended otherwise.\n"
      "# TYPE natsrpc_client_duplicate_replies_total counter\n"
      "natsrpc_client_duplicate_replies_total ",
      client.duplicate_replies,
      "\n"
      "# HELP natsrpc_client_unknown_replies_total Replies naming no call of "
      "this connection.\n"
      "# TYPE natsrpc_client_unknown_replies_total counter\n"
      "natsrpc_client_unknown_replies_total ",
      client.unknown_replies, "\n");
  return out;
}

}  // namespace natsrpc
