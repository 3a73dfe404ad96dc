// Copyright 2026 The natsrpc Authors.

#include "nkeys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace natsrpc::testing {
namespace {

constexpr uint8_t kPrefixSeed = 18 << 3;  // 'S'
constexpr uint8_t PrefixOf(NKeyType t) {
  switch (t) {
    case NKeyType::kOperator:
      return 14 << 3;  // 'O'
    case NKeyType::kAccount:
      return 0;  // 'A'
    case NKeyType::kUser:
      return 20 << 3;  // 'U'
  }
  return 0;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint16_t Crc16(const std::vector<uint8_t>& data) {
  uint16_t crc = 0;
  for (uint8_t b : data) {
    crc ^= static_cast<uint16_t>(b) << 8;
    for (int i = 0; i < 8; ++i) {
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
  for (uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Unbase32(absl::string_view text) {
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0) return absl::InvalidArgumentError("not base32");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

std::string Encode(std::vector<uint8_t> raw) {
  const uint16_t crc = Crc16(raw);
  raw.push_back(static_cast<uint8_t>(crc & 0xff));
  raw.push_back(static_cast<uint8_t>(crc >> 8));
  return Base32(raw);
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// The raw 32-byte seed and the key type prefix of an encoded seed.
absl::StatusOr<std::pair<std::vector<uint8_t>, uint8_t>> DecodeSeed(
    absl::string_view seed) {
  absl::StatusOr<std::vector<uint8_t>> raw = Unbase32(seed);
  if (!raw.ok() || raw->size() != 36) {
    return absl::InvalidArgumentError("malformed nkey seed");
  }
  std::vector<uint8_t> body(raw->begin(), raw->end() - 2);
  const uint16_t crc = static_cast<uint16_t>((*raw)[34] | ((*raw)[35] << 8));
  if (Crc16(body) != crc) return absl::InvalidArgumentError("bad nkey crc");
  if ((body[0] & 0xf8) != kPrefixSeed) {
    return absl::InvalidArgumentError("not an nkey seed");
  }
  const uint8_t type =
      static_cast<uint8_t>(((body[0] & 7) << 5) | ((body[1] & 0xf8) >> 3));
  return std::make_pair(std::vector<uint8_t>(body.begin() + 2, body.end()),
                        type);
}

absl::StatusOr<PkeyPtr> KeyOf(absl::string_view seed, uint8_t* type) {
  auto decoded = DecodeSeed(seed);
  if (!decoded.ok()) return decoded.status();
  *type = decoded->second;
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                           decoded->first.data(), 32));
  if (key == nullptr) return absl::InternalError("EVP_PKEY ed25519");
  return key;
}

std::string PublicOf(EVP_PKEY* key, uint8_t type) {
  std::vector<uint8_t> pub(32);
  size_t len = pub.size();
  EVP_PKEY_get_raw_public_key(key, pub.data(), &len);
  pub.insert(pub.begin(), type);
  return Encode(std::move(pub));
}

std::string B64(absl::string_view s) { return absl::WebSafeBase64Escape(s); }

}  // namespace

absl::StatusOr<NKey> NewNKey(NKeyType t) {
  std::vector<uint8_t> raw(32);
  if (RAND_bytes(raw.data(), 32) != 1) return absl::InternalError("RAND");
  const uint8_t type = PrefixOf(t);
  std::vector<uint8_t> seed = {static_cast<uint8_t>(kPrefixSeed | (type >> 5)),
                               static_cast<uint8_t>((type & 31) << 3)};
  seed.insert(seed.end(), raw.begin(), raw.end());
  NKey k;
  k.seed = Encode(std::move(seed));
  absl::StatusOr<std::string> pub = NKeyPublicFromSeed(k.seed);
  if (!pub.ok()) return pub.status();
  k.public_key = *pub;
  return k;
}

absl::StatusOr<std::string> NKeyPublicFromSeed(absl::string_view seed) {
  uint8_t type = 0;
  absl::StatusOr<PkeyPtr> key = KeyOf(seed, &type);
  if (!key.ok()) return key.status();
  return PublicOf(key->get(), type);
}

absl::StatusOr<std::string> SignJwt(const NKey& issuer,
                                    absl::string_view subject,
                                    absl::string_view name,
                                    absl::string_view nats_json) {
  uint8_t type = 0;
  absl::StatusOr<PkeyPtr> key = KeyOf(issuer.seed, &type);
  if (!key.ok()) return key.status();
  std::vector<uint8_t> jti(20);
  RAND_bytes(jti.data(), static_cast<int>(jti.size()));
  const std::string claims =
      absl::StrCat(R"({"jti":")", Base32(jti), R"(","iat":)",
                   absl::ToUnixSeconds(absl::Now()), R"(,"iss":")",
                   issuer.public_key, R"(","name":")", name, R"(","sub":")",
                   subject, R"(","nats":)", nats_json, "}");
  const std::string signing_input = absl::StrCat(
      B64(R"({"typ":"JWT","alg":"ed25519-nkey"})"), ".", B64(claims));
  std::string sig(64, '\0');
  size_t sig_len = sig.size();
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                         EVP_MD_CTX_free);
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) !=
          1 ||
      EVP_DigestSign(
          ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("ed25519 sign");
  }
  return absl::StrCat(signing_input, ".", B64(sig));
}

std::string CredsFile(absl::string_view user_jwt, absl::string_view seed) {
  return absl::StrCat("-----BEGIN NATS USER JWT-----\n", user_jwt,
                      "\n------END NATS USER JWT------\n\n"
                      "-----BEGIN USER NKEY SEED-----\n",
                      seed, "\n------END USER NKEY SEED------\n");
}

}  // namespace natsrpc::testing
