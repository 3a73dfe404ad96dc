// Copyright 2026 The natsrpc Authors.
//
// DurableServer's counters (natsrpc/durable.h) in the Prometheus text
// format, beside natsrpc/metrics.h's server and client families.

#ifndef NATSRPC_DURABLE_METRICS_H_
#define NATSRPC_DURABLE_METRICS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "natsrpc/durable.h"
#include "natsrpc/export.h"

namespace natsrpc {

// Each a counter with the label responder: natsrpc_durable_deliveries_total,
// natsrpc_durable_redeliveries_total, natsrpc_durable_handled_total,
// natsrpc_durable_completed_total, natsrpc_durable_already_done_total,
// natsrpc_durable_retries_total, natsrpc_durable_dead_letters_total,
// natsrpc_durable_errors_total.
NATSRPC_EXPORT std::string PrometheusText(const DurableStats& stats,
                                          absl::string_view responder);

}  // namespace natsrpc

#endif  // NATSRPC_DURABLE_METRICS_H_
