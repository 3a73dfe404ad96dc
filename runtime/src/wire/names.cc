// Copyright 2026 The natsrpc Authors.
//
// natsrpc/names.h: the public face of wire/subjects.h.

#include "natsrpc/names.h"

#include "wire/subjects.h"

namespace natsrpc {

bool IsValidToken(absl::string_view token) { return wire::IsValidToken(token); }

absl::Status ValidateToken(absl::string_view field, absl::string_view value) {
  return wire::ValidateToken(field, value);
}

std::string DefaultApp(absl::string_view package) {
  return wire::DefaultApp(package);
}

std::string RequestSubject(absl::string_view requester,
                           absl::string_view responder, absl::string_view app,
                           absl::string_view service,
                           absl::string_view method) {
  return wire::RequestSubject(requester, responder, app, service, method);
}

std::string ServiceWildcard(absl::string_view responder, absl::string_view app,
                            absl::string_view service) {
  return wire::ServiceWildcard(responder, app, service);
}

std::string DefaultQueueGroup(absl::string_view responder,
                              absl::string_view app) {
  return wire::DefaultQueueGroup(responder, app);
}

}  // namespace natsrpc
