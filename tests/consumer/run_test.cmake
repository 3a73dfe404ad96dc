# The package test (ctest: package_consumer). Installs the natsrpc build
# NATSRPC_BUILD_DIR into a fresh prefix under WORK_DIR, checks the installed
# files, then configures, builds and runs the consumer project against that
# prefix. Any failing step fails the test.
#
#   cmake -DNATSRPC_BUILD_DIR=build -DCONSUMER_SOURCE_DIR=tests/consumer \
#         -DWORK_DIR=/tmp/pkgtest -P tests/consumer/run_test.cmake

foreach(var NATSRPC_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "run_test.cmake: set -D${var}=...")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run what)
  message(STATUS "package test: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test: ${what} failed (${rc})")
  endif()
endfunction()

set(config_args)
if(NATSRPC_CONFIG)
  set(config_args --config "${NATSRPC_CONFIG}")
endif()
run("install ${NATSRPC_BUILD_DIR} into ${prefix}"
    "${CMAKE_COMMAND}" --install "${NATSRPC_BUILD_DIR}" --prefix "${prefix}"
    ${config_args})

# What a consumer needs from the prefix, by the names users rely on. The
# library directory depends on GNUInstallDirs (lib, lib64, lib/<multiarch>).
file(GLOB_RECURSE config "${prefix}/natsrpcConfig.cmake")
if(NOT config)
  message(FATAL_ERROR "package test: no natsrpcConfig.cmake under ${prefix}")
endif()
list(GET config 0 config)
get_filename_component(cmake_dir "${config}" DIRECTORY)
foreach(file
    "${prefix}/include/natsrpc/natsrpc.h"
    "${prefix}/include/natsrpc/options.proto"
    "${prefix}/include/natsrpc/options.pb.h"
    "${prefix}/bin/protoc-gen-natsrpc"
    "${cmake_dir}/natsrpcConfig.cmake"
    "${cmake_dir}/natsrpcConfigVersion.cmake"
    "${cmake_dir}/natsrpcTargets.cmake"
    "${cmake_dir}/NatsrpcGenerate.cmake")
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "package test: ${file} was not installed")
  endif()
endforeach()

# The command-line client (tools/natsrpc, when built): installed, it runs
# from the prefix (its RPATH) and finds the installed natsrpc/options.proto
# beside it, with no NATS server (describe --proto).
if(EXISTS "${NATSRPC_BUILD_DIR}/tools/natsrpc/natsrpc")
  if(NOT EXISTS "${prefix}/bin/natsrpc")
    message(FATAL_ERROR "package test: ${prefix}/bin/natsrpc was not installed")
  endif()
  execute_process(
    COMMAND "${prefix}/bin/natsrpc" describe consumer.v1.Greeter
            --proto consumer/v1/greeter.proto "-I${CONSUMER_SOURCE_DIR}/proto"
    RESULT_VARIABLE cli_result
    OUTPUT_VARIABLE cli_out
    ERROR_VARIABLE cli_err)
  string(FIND "${cli_out}" "rpc SayHello(.consumer.v1.HelloRequest)" at)
  if(NOT cli_result EQUAL 0 OR at EQUAL -1)
    message(FATAL_ERROR "package test: installed natsrpc describe exited "
                        "${cli_result}: ${cli_out}${cli_err}")
  endif()
endif()

# An installed package must not point back into the tree it was built from.
file(GLOB installed_cmake "${cmake_dir}/*.cmake")
get_filename_component(build_dir "${NATSRPC_BUILD_DIR}" ABSOLUTE)
set(trees "${build_dir}")
if(NATSRPC_SOURCE_DIR)
  list(APPEND trees "${NATSRPC_SOURCE_DIR}")
endif()
foreach(file IN LISTS installed_cmake)
  file(READ "${file}" text)
  foreach(tree IN LISTS trees)
    string(FIND "${text}" "${tree}/" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "package test: ${file} refers to ${tree}")
    endif()
  endforeach()
endforeach()

set(generator_args)
if(CMAKE_GENERATOR)
  set(generator_args -G "${CMAKE_GENERATOR}")
endif()
set(compiler_args)
if(CMAKE_CXX_COMPILER)
  set(compiler_args "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}")
endif()
run("configure the consumer against ${prefix}"
    "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}"
    ${generator_args} ${compiler_args}
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DNATSRPC_EXPECTED_PREFIX=${prefix}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
run("build the consumer"
    "${CMAKE_COMMAND}" --build "${build}" --parallel 2)

# natsrpc_generate() names outputs after the proto's path below IMPORT_DIRS,
# and the generator emits .natsrpc.{h,cc} for protos without services too.
set(gen "${build}/natsrpc_gen/greeter_proto/consumer/v1")
foreach(stem types greeter)
  foreach(ext pb.h pb.cc natsrpc.h natsrpc.cc)
    if(NOT EXISTS "${gen}/${stem}.${ext}")
      message(FATAL_ERROR "package test: ${gen}/${stem}.${ext} was not generated")
    endif()
  endforeach()
endforeach()

run("run the consumer" "${build}/natsrpc_consumer")
