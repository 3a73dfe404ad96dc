// Copyright 2026 The natsrpc Authors.
//
// NATS nkeys and JWTs for tests, made at test time with OpenSSL's Ed25519:
// an nkey is base32 (RFC 4648, no padding) of a prefix byte, the 32-byte key
// and a CRC-16/XMODEM of both (little endian); a seed carries two prefix
// bytes (seed + key type) and the 32-byte Ed25519 seed. A NATS JWT is
// base64url(header) "." base64url(claims) "." base64url(Ed25519 signature of
// the first two parts) made with the issuer's seed. This is enough to run a
// nats-server in operator mode (operator, account and user JWTs) and to log
// in with an nkey or a .creds file (tests/integration/security_test.cc).

#ifndef NATSRPC_TESTS_SUPPORT_NKEYS_H_
#define NATSRPC_TESTS_SUPPORT_NKEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace natsrpc::testing {

struct NKey {
  std::string seed;        // "SU...", "SA...", "SO..."
  std::string public_key;  // "U...", "A...", "O..."
};

enum class NKeyType { kOperator, kAccount, kUser };

// A fresh random key pair of the type.
absl::StatusOr<NKey> NewNKey(NKeyType type);

// The public key of an encoded seed; errors for a malformed seed.
absl::StatusOr<std::string> NKeyPublicFromSeed(absl::string_view seed);

// A JWT with `claims_json` (a JSON object without "iss", "iat" and "jti",
// which this adds) signed by `issuer`.
absl::StatusOr<std::string> SignJwt(const NKey& issuer,
                                    absl::string_view subject,
                                    absl::string_view name,
                                    absl::string_view nats_json);

// The text of a .creds file: the user JWT and the user's seed.
std::string CredsFile(absl::string_view user_jwt, absl::string_view seed);

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_SUPPORT_NKEYS_H_
