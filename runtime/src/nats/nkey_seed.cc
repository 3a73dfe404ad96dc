// Copyright 2026 The natsrpc Authors.

#include "nats/nkey_seed.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace natsrpc::internal {
namespace {

constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr uint8_t kSeedPrefix = 18 << 3;  // encodes as 'S'
constexpr size_t kSeedChars = 58;         // base32 of 2 + 32 + 2 bytes

uint16_t Crc16(const uint8_t* data, size_t n) {
  uint16_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int b = 0; b < 8; ++b) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::string Base32(const std::vector<uint8_t>& data) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  return out;
}

// Zeroes the seed bytes when they go out of scope.
struct Wiped {
  std::vector<uint8_t> bytes;
  ~Wiped() {
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  }
};

bool Unbase32(absl::string_view text, std::vector<uint8_t>& out) {
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0) return false;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return true;
}

absl::string_view FindSeed(absl::string_view text) {
  const absl::string_view all = absl::StripAsciiWhitespace(text);
  if (all.size() == kSeedChars && all[0] == 'S') return all;
  for (absl::string_view word :
       absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
    if (word.size() == kSeedChars && word[0] == 'S') return word;
  }
  return {};
}

}  // namespace

absl::StatusOr<std::string> NKeyPublicKeyFromSeedText(absl::string_view text) {
  const absl::string_view seed = FindSeed(text);
  if (seed.empty()) {
    return absl::InvalidArgumentError(
        "holds no nkey seed (a 58-character word starting with 'S')");
  }
  Wiped raw;
  if (!Unbase32(seed, raw.bytes) || raw.bytes.size() != 36) {
    return absl::InvalidArgumentError("holds a malformed nkey seed (base32)");
  }
  const uint16_t crc =
      static_cast<uint16_t>(raw.bytes[34] | (raw.bytes[35] << 8));
  if (Crc16(raw.bytes.data(), 34) != crc) {
    return absl::InvalidArgumentError(
        "holds a malformed nkey seed (checksum mismatch)");
  }
  if ((raw.bytes[0] & 0xf8) != kSeedPrefix) {
    return absl::InvalidArgumentError("holds no nkey seed");
  }
  const uint8_t type = static_cast<uint8_t>(((raw.bytes[0] & 7) << 5) |
                                            ((raw.bytes[1] & 0xf8) >> 3));
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   raw.bytes.data() + 2, 32),
      EVP_PKEY_free);
  std::vector<uint8_t> pub(1 + 32 + 2);
  size_t len = 32;
  if (key == nullptr ||
      EVP_PKEY_get_raw_public_key(key.get(), pub.data() + 1, &len) != 1 ||
      len != 32) {
    return absl::InternalError("Ed25519 public key from an nkey seed failed");
  }
  pub[0] = type;
  const uint16_t pub_crc = Crc16(pub.data(), 33);
  pub[33] = static_cast<uint8_t>(pub_crc & 0xff);
  pub[34] = static_cast<uint8_t>(pub_crc >> 8);
  return Base32(pub);
}

}  // namespace natsrpc::internal
