# Installs natsrpc as a CMake package:
#
#   <prefix>/lib/libnatsrpc.so*                     natsrpc::runtime
#   <prefix>/lib/libnatsrpc_testing.so*             natsrpc::testing (natsrpc/testing/in_process.h)
#   <prefix>/bin/protoc-gen-natsrpc                 natsrpc::protoc-gen-natsrpc (plugin/)
#   <prefix>/bin/natsrpc-fbs                        natsrpc::natsrpc-fbs (plugin/, .fbs front end)
#   <prefix>/include/natsrpc/*.h                    public API + options.pb.h
#   <prefix>/include/natsrpc/options.proto          so -I<prefix>/include finds it
#   <prefix>/lib/cmake/natsrpc/                     natsrpcConfig.cmake, ConfigVersion,
#                                                   natsrpcTargets.cmake, NatsrpcGenerate.cmake
#
# Users then write find_package(natsrpc CONFIG REQUIRED) and natsrpc_generate().
include(CMakePackageConfigHelpers)

set(NATSRPC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/natsrpc"
    CACHE STRING "Where natsrpc's CMake package files are installed")

install(TARGETS natsrpc_runtime natsrpc_testing
  EXPORT natsrpcTargets
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/runtime/include/natsrpc/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/natsrpc"
  FILES_MATCHING PATTERN "*.h")

# options.pb.h is generated into the runtime's build directory; generated
# .pb.h files of user protos that import natsrpc/options.proto include it.
get_directory_property(_natsrpc_options_gen_dir
  DIRECTORY "${PROJECT_SOURCE_DIR}/runtime" DEFINITION NATSRPC_OPTIONS_GEN_DIR)
if(NOT _natsrpc_options_gen_dir)
  set(_natsrpc_options_gen_dir "${PROJECT_BINARY_DIR}/runtime/gen")
endif()
install(FILES
    "${_natsrpc_options_gen_dir}/natsrpc/options.pb.h"
    "${PROJECT_SOURCE_DIR}/proto/natsrpc/options.proto"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/natsrpc")
unset(_natsrpc_options_gen_dir)

install(FILES "${PROJECT_SOURCE_DIR}/cmake/NatsrpcGenerate.cmake"
  DESTINATION "${NATSRPC_INSTALL_CMAKEDIR}")

install(EXPORT natsrpcTargets
  NAMESPACE natsrpc::
  FILE natsrpcTargets.cmake
  DESTINATION "${NATSRPC_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/natsrpcConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/natsrpcConfig.cmake"
  INSTALL_DESTINATION "${NATSRPC_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# Generated code checks the runtime's major version (version.h), so any
# release with the same major version is compatible.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/natsrpcConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/natsrpcConfig.cmake"
    "${PROJECT_BINARY_DIR}/natsrpcConfigVersion.cmake"
  DESTINATION "${NATSRPC_INSTALL_CMAKEDIR}")
