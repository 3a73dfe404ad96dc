# Finds natsrpc's dependencies the way Debian 12 ships them (see docs/platform.md):
# protobuf through CMake's FindProtobuf, nats.c through pkg-config (its CMake
# config references a static library Debian does not ship), abseil through its
# CMake config without a pinned version.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(absl REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET GLOBAL libnats)
# OpenSSL's libcrypto (libssl-dev, which libnats-dev depends on): the
# runtime derives an nkey's public key from its seed with Ed25519
# (runtime/src/nats/nkey_seed.cc).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
if(NOT TARGET protobuf::libprotoc)
  message(FATAL_ERROR "natsrpc needs libprotoc (Debian: libprotoc-dev)")
endif()
# FlatBuffers: the .fbs front end (natsrpc-fbs) links libflatbuffers' parser,
# and natsrpc_generate(FBS ...) runs flatc. The package config name is
# case-sensitive; it gives flatbuffers::flatbuffers (static, not PIC),
# flatbuffers::flatbuffers_shared and flatbuffers::flatc (docs/platform.md).
find_package(FlatBuffers CONFIG REQUIRED)
