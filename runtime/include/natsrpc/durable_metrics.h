// Copyright 2026 The natsrpc Authors.
//
// DurableServer's counters and per-method counters (natsrpc/durable.h) in
// the Prometheus text format, beside natsrpc/metrics.h's server and client
// families:
//
//   std::string text = natsrpc::PrometheusText(durable.stats(), "worker") +
//                      natsrpc::PrometheusText(durable.method_stats(),
//                                              "worker");

#ifndef NATSRPC_DURABLE_METRICS_H_
#define NATSRPC_DURABLE_METRICS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "natsrpc/durable.h"
#include "natsrpc/export.h"
#include "natsrpc/server.h"

namespace natsrpc {

// Each a counter with the label responder: natsrpc_durable_deliveries_total,
// natsrpc_durable_redeliveries_total, natsrpc_durable_handled_total,
// natsrpc_durable_completed_total, natsrpc_durable_already_done_total,
// natsrpc_durable_retries_total, natsrpc_durable_dead_letters_total,
// natsrpc_durable_errors_total.
NATSRPC_EXPORT std::string PrometheusText(const DurableStats& stats,
                                          absl::string_view responder);

// DurableServer::method_stats() of responder `responder`, in families of
// their own (a process may also run a natsrpc::Server with the same
// methods, whose natsrpc_server_* families natsrpc/metrics.h writes), each
// with the labels responder, app, service and method:
//
//   natsrpc_durable_requests_total{...,code}  handler runs ended, by status
//       code name ("OK", "PERMISSION_DENIED", ...; an interceptor's refusal
//       under its code)
//   natsrpc_durable_requests_started_total  handler runs started
//   natsrpc_durable_requests_in_flight  started and not ended (gauge)
//   natsrpc_durable_handling_seconds  histogram of the run's time
//       (_bucket{le} with natsrpc/metrics.h's kLatencyBucketBounds, _sum,
//       _count)
//
// Families with no sample are left out; `methods` in the order given.
NATSRPC_EXPORT std::string PrometheusText(
    const std::vector<MethodStats>& methods, absl::string_view responder);

}  // namespace natsrpc

#endif  // NATSRPC_DURABLE_METRICS_H_
