// Copyright 2026 The natsrpc Authors.
//
// protoc-gen-natsrpc: see generator.h.

#include "generator.h"
#include "google/protobuf/compiler/plugin.h"

int main(int argc, char* argv[]) {
  natsrpc::gen::NatsrpcGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
