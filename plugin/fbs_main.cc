// Copyright 2026 The natsrpc Authors.
//
// natsrpc-fbs: see fbs_command.h.

#include <iostream>
#include <string>
#include <vector>

#include "fbs_command.h"

int main(int argc, char* argv[]) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return natsrpc::gen::RunFbsCommand(args, std::cout, std::cerr);
}
