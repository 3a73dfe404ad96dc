// Copyright 2026 The natsrpc Authors.
//
// NATS nkey seeds (ConnectOptions::nkey_seed_file): finds the seed in a file
// and derives its public key, which nats.c's natsOptions_SetNKeyFromSeed
// needs next to the file. An encoded nkey is base32 (RFC 4648, no padding)
// of its prefix byte(s), the 32-byte key and a CRC-16/XMODEM of both, little
// endian; a seed has two prefix bytes (seed, then the key's type) and holds
// the Ed25519 seed, from which OpenSSL computes the public key.

#ifndef NATSRPC_SRC_NATS_NKEY_SEED_H_
#define NATSRPC_SRC_NATS_NKEY_SEED_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace natsrpc::internal {

// The public key ("U...", "A...", ...) of the first seed ("S...") in `text`:
// the whole text trimmed, or the first whitespace-separated word that
// starts with 'S' (a .creds-style file). INVALID_ARGUMENT (without the
// seed's characters) when there is no well-formed seed.
absl::StatusOr<std::string> NKeyPublicKeyFromSeedText(absl::string_view text);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_NKEY_SEED_H_
