# natsrpc_generate(): generates natsrpc client stubs and service skeletons
# (plus the protobuf message code) and adds them to a target.
#
#   natsrpc_generate(TARGET <target>
#                    [PROTOS <file.proto>...]
#                    [FBS <file.fbs>...]
#                    [IMPORT_DIRS <dir>...]
#                    [OUT_DIR <dir>]
#                    [RUNTIME <target>]
#                    [GENERATE_MOCKS])
#
# TARGET       An existing library or executable defined in the same directory
#              (CMake runs a custom command only for targets of its own
#              directory). The generated sources are added to it, OUT_DIR is
#              added to its PUBLIC include directories and it links
#              natsrpc::runtime PUBLIC (so use the keyword form of
#              target_link_libraries() for this target elsewhere too).
# PROTOS       .proto files (relative paths are relative to the current source
#              directory). Each gives <name>.pb.{h,cc} and <name>.natsrpc.{h,cc}.
# FBS          FlatBuffers schemas (rpc_service). Each gives flatc's
#              <base>_generated.h (`flatc --cpp --gen-name-strings`) and
#              <base>.natsrpc.{h,cc} (natsrpc-fbs), directly in OUT_DIR: as
#              with flatc, <base> is the file name without directory or
#              .fbs, so base names must be unique within OUT_DIR. The target
#              also links libflatbuffers (shared: the static library is not
#              position-independent). List included schemas too; each
#              schema's generation re-runs when any FBS file of the call
#              changes.
# IMPORT_DIRS  The proto_path roots (protoc -I), searched in order. A file's
#              generated name is its path relative to the first import dir
#              that contains it. Default: the current source directory.
#              The directory holding natsrpc/options.proto and protobuf's own
#              include directory (google/protobuf/*.proto) are always added
#              after these. For FBS they are flatc's -I include directories.
# OUT_DIR      Where generated files go. Default:
#              ${CMAKE_CURRENT_BINARY_DIR}/natsrpc_gen/<target>.
# GENERATE_MOCKS  Also generate, for every service Svc, Svc::ClientInterface
#              (which Svc::Client implements; code under test takes it) and
#              Svc::MockClient, its gMock mock, in <name>.natsrpc_mock.h
#              (protoc-gen-natsrpc's generate_mock_code=true, natsrpc-fbs
#              --generate-mock-code). The mock header is only included by
#              tests, which link GTest::gmock themselves; <target> does not.
# RUNTIME      The runtime target to link. Default: natsrpc::runtime. natsrpc's
#              own tests of internal classes pass natsrpc_runtime_static.
#
# Example: with proto/example/v1/calculator.proto
#
#   find_package(natsrpc CONFIG REQUIRED)    # not needed inside natsrpc itself
#   add_library(calculator_proto STATIC)
#   natsrpc_generate(TARGET calculator_proto
#                    PROTOS proto/example/v1/calculator.proto
#                    IMPORT_DIRS proto)
#   add_executable(server server.cc)
#   target_link_libraries(server PRIVATE calculator_proto)
#
# generates OUT_DIR/example/v1/calculator.{pb,natsrpc}.{h,cc}, so server.cc
# writes `#include "example/v1/calculator.natsrpc.h"`. Likewise
#
#   natsrpc_generate(TARGET calculator_fbs FBS fbs/example/calculator.fbs
#                    IMPORT_DIRS fbs)
#
# generates OUT_DIR/calculator_generated.h and calculator.natsrpc.{h,cc}
# (`#include "calculator.natsrpc.h"`).
#
# Generation re-runs when a .proto (or a file it imports) changes and when the
# protoc-gen-natsrpc plugin is rebuilt. The plugin is the in-tree target named
# by NATSRPC_PLUGIN_TARGET when natsrpc itself is being built, and the
# imported target natsrpc::protoc-gen-natsrpc after find_package(natsrpc).
# The same holds for the .fbs front end: NATSRPC_FBS_TARGET in-tree,
# natsrpc::natsrpc-fbs from the package; flatc is flatbuffers::flatc (from
# find_package(FlatBuffers CONFIG), which natsrpcConfig.cmake calls) or the
# flatc on PATH.
#
# Set NATSRPC_OPTIONS_IMPORT_DIR before including this file to say where
# natsrpc/options.proto lives (natsrpcConfig.cmake does); the default is the
# proto/ directory of the natsrpc source tree this file belongs to.

include_guard(GLOBAL)
# Functions keep the policies in effect where they are defined; do not change
# the includer's.
cmake_policy(PUSH)
cmake_policy(VERSION 3.22)

# Remember, for every later call (whatever its directory scope), where
# natsrpc/options.proto and google/protobuf/*.proto are found.
if(NOT DEFINED NATSRPC_OPTIONS_IMPORT_DIR)
  set(NATSRPC_OPTIONS_IMPORT_DIR "${CMAKE_CURRENT_LIST_DIR}/../proto")
endif()
get_filename_component(_natsrpc_options_dir "${NATSRPC_OPTIONS_IMPORT_DIR}"
                       ABSOLUTE)
if(NOT EXISTS "${_natsrpc_options_dir}/natsrpc/options.proto")
  message(FATAL_ERROR
    "natsrpc: natsrpc/options.proto not found under ${_natsrpc_options_dir} "
    "(NATSRPC_OPTIONS_IMPORT_DIR)")
endif()
set_property(GLOBAL PROPERTY NATSRPC_OPTIONS_IMPORT_DIR "${_natsrpc_options_dir}")
unset(_natsrpc_options_dir)

# In-tree, NATSRPC_PLUGIN_TARGET is set in natsrpc's top directory; keep it
# for callers outside that directory (natsrpc added to a bigger project).
if(DEFINED NATSRPC_PLUGIN_TARGET)
  set_property(GLOBAL PROPERTY NATSRPC_PLUGIN_TARGET "${NATSRPC_PLUGIN_TARGET}")
endif()

if(DEFINED NATSRPC_FBS_TARGET)
  set_property(GLOBAL PROPERTY NATSRPC_FBS_TARGET "${NATSRPC_FBS_TARGET}")
endif()

if(Protobuf_INCLUDE_DIRS)
  set_property(GLOBAL PROPERTY NATSRPC_PROTOBUF_IMPORT_DIRS
               "${Protobuf_INCLUDE_DIRS}")
endif()

# Returns in <out> the command-line path of the plugin and in <out>_DEPENDS
# what the generation step depends on.
function(_natsrpc_find_plugin out)
  if(NOT DEFINED NATSRPC_PLUGIN_TARGET)
    get_property(NATSRPC_PLUGIN_TARGET GLOBAL PROPERTY NATSRPC_PLUGIN_TARGET)
  endif()
  if(NATSRPC_PLUGIN_TARGET AND TARGET "${NATSRPC_PLUGIN_TARGET}")
    set(plugin "${NATSRPC_PLUGIN_TARGET}")
  elseif(TARGET natsrpc::protoc-gen-natsrpc)
    set(plugin natsrpc::protoc-gen-natsrpc)
  else()
    message(FATAL_ERROR
      "natsrpc_generate: no protoc-gen-natsrpc target. Call "
      "find_package(natsrpc CONFIG REQUIRED) first (in this directory or a "
      "parent), or set NATSRPC_PLUGIN_TARGET to the in-tree plugin target.")
  endif()
  # The target name gives a target-level dependency for in-tree builds; the
  # file gives a file-level one, so a rebuilt plugin re-runs generation.
  set(${out} "$<TARGET_FILE:${plugin}>" PARENT_SCOPE)
  set(${out}_DEPENDS "${plugin}" "$<TARGET_FILE:${plugin}>" PARENT_SCOPE)
endfunction()

# Like _natsrpc_find_plugin(), for natsrpc-fbs.
function(_natsrpc_find_fbs_tool out)
  if(NOT DEFINED NATSRPC_FBS_TARGET)
    get_property(NATSRPC_FBS_TARGET GLOBAL PROPERTY NATSRPC_FBS_TARGET)
  endif()
  if(NATSRPC_FBS_TARGET AND TARGET "${NATSRPC_FBS_TARGET}")
    set(tool "${NATSRPC_FBS_TARGET}")
  elseif(TARGET natsrpc::natsrpc-fbs)
    set(tool natsrpc::natsrpc-fbs)
  else()
    message(FATAL_ERROR
      "natsrpc_generate: no natsrpc-fbs target. Call "
      "find_package(natsrpc CONFIG REQUIRED) first, or set "
      "NATSRPC_FBS_TARGET to the in-tree natsrpc-fbs target.")
  endif()
  set(${out} "$<TARGET_FILE:${tool}>" PARENT_SCOPE)
  set(${out}_DEPENDS "${tool}" "$<TARGET_FILE:${tool}>" PARENT_SCOPE)
endfunction()

# Sets <out> to the path of <file> relative to the first of <import_dirs>
# that contains it.
function(_natsrpc_relative_path out file import_dirs)
  foreach(dir IN LISTS import_dirs)
    cmake_path(IS_PREFIX dir "${file}" NORMALIZE inside)
    if(inside)
      cmake_path(RELATIVE_PATH file BASE_DIRECTORY "${dir}"
                 OUTPUT_VARIABLE rel)
      set(${out} "${rel}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  list(JOIN import_dirs "\n  " dirs)
  message(FATAL_ERROR
    "natsrpc_generate: ${file} is not inside any of IMPORT_DIRS:\n  ${dirs}\n"
    "Add the directory its import paths are relative to (protoc -I).")
endfunction()

# protoc + protoc-gen-natsrpc for each .proto; appends the generated sources
# to the variable named by <sources_var>.
function(_natsrpc_generate_protos sources_var out_dir import_dirs mocks)
  if(NOT TARGET protobuf::protoc)
    message(FATAL_ERROR
      "natsrpc_generate: protoc not found (Debian: protobuf-compiler); "
      "find_package(Protobuf) must provide protobuf::protoc")
  endif()
  _natsrpc_find_plugin(plugin)

  set(include_args)
  foreach(dir IN LISTS import_dirs)
    list(APPEND include_args "-I${dir}")
  endforeach()

  set(sources)
  foreach(proto IN LISTS ARGN)
    get_filename_component(proto "${proto}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${proto}")
      message(FATAL_ERROR "natsrpc_generate: ${proto} does not exist")
    endif()
    _natsrpc_relative_path(rel "${proto}" "${import_dirs}")
    string(REGEX REPLACE "\\.proto$" "" stem "${rel}")
    set(outputs
      "${out_dir}/${stem}.pb.h"
      "${out_dir}/${stem}.pb.cc"
      "${out_dir}/${stem}.natsrpc.h"
      "${out_dir}/${stem}.natsrpc.cc")
    set(natsrpc_out "${out_dir}")
    if(mocks)
      list(APPEND outputs "${out_dir}/${stem}.natsrpc_mock.h")
      set(natsrpc_out "generate_mock_code=true:${out_dir}")
    endif()
    set(depfile "${out_dir}/${stem}.natsrpc.d")
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${out_dir}"
      COMMAND protobuf::protoc
              "--plugin=protoc-gen-natsrpc=${plugin}"
              "--cpp_out=${out_dir}"
              "--natsrpc_out=${natsrpc_out}"
              "--dependency_out=${depfile}"
              ${include_args}
              "${proto}"
      DEPENDS "${proto}" protobuf::protoc ${plugin_DEPENDS}
      DEPFILE "${depfile}"
      COMMENT "natsrpc: generating ${rel} (protobuf + natsrpc)"
      VERBATIM)
    list(APPEND sources ${outputs})
  endforeach()
  set(${sources_var} ${${sources_var}} ${sources} PARENT_SCOPE)
endfunction()

# flatc --cpp + natsrpc-fbs for each .fbs; appends the generated sources to
# the variable named by <sources_var>.
function(_natsrpc_generate_fbs sources_var out_dir import_dirs mocks)
  if(TARGET flatbuffers::flatc)
    set(flatc flatbuffers::flatc)
  else()
    find_program(NATSRPC_FLATC_EXECUTABLE flatc)
    if(NOT NATSRPC_FLATC_EXECUTABLE)
      message(FATAL_ERROR
        "natsrpc_generate: flatc not found (Debian: flatbuffers-compiler); "
        "find_package(FlatBuffers CONFIG) provides flatbuffers::flatc")
    endif()
    set(flatc "${NATSRPC_FLATC_EXECUTABLE}")
  endif()
  if(NOT TARGET flatbuffers::flatbuffers_shared)
    message(FATAL_ERROR
      "natsrpc_generate: FBS needs libflatbuffers (Debian: "
      "libflatbuffers-dev); call find_package(FlatBuffers CONFIG REQUIRED)")
  endif()
  _natsrpc_find_fbs_tool(tool)

  set(include_args)
  foreach(dir IN LISTS import_dirs)
    list(APPEND include_args -I "${dir}")
  endforeach()

  set(schemas)
  foreach(fbs IN LISTS ARGN)
    get_filename_component(fbs "${fbs}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${fbs}")
      message(FATAL_ERROR "natsrpc_generate: ${fbs} does not exist")
    endif()
    list(APPEND schemas "${fbs}")
  endforeach()

  set(mock_flag)
  if(mocks)
    set(mock_flag --generate-mock-code)
  endif()
  set(sources)
  set(stems)
  foreach(fbs IN LISTS schemas)
    get_filename_component(stem "${fbs}" NAME_WLE)
    if(stem IN_LIST stems)
      message(FATAL_ERROR
        "natsrpc_generate: two FBS files are named ${stem}.fbs; flatc and "
        "natsrpc-fbs name outputs after the base name only, so they would "
        "overwrite each other. Use two targets or rename one.")
    endif()
    list(APPEND stems "${stem}")
    set(outputs
      "${out_dir}/${stem}_generated.h"
      "${out_dir}/${stem}.natsrpc.h"
      "${out_dir}/${stem}.natsrpc.cc")
    if(mocks)
      list(APPEND outputs "${out_dir}/${stem}.natsrpc_mock.h")
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${out_dir}"
      COMMAND ${flatc} --cpp --gen-name-strings -o "${out_dir}"
              ${include_args} "${fbs}"
      COMMAND "${tool}" -o "${out_dir}" ${mock_flag} ${include_args} "${fbs}"
      DEPENDS ${schemas} ${flatc} ${tool_DEPENDS}
      COMMENT "natsrpc: generating ${stem} (flatc + natsrpc-fbs)"
      VERBATIM)
    list(APPEND sources ${outputs})
  endforeach()
  set(${sources_var} ${${sources_var}} ${sources} PARENT_SCOPE)
endfunction()

function(natsrpc_generate)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "GENERATE_MOCKS" "TARGET;OUT_DIR;RUNTIME"
                        "PROTOS;FBS;IMPORT_DIRS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "natsrpc_generate: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_TARGET)
    message(FATAL_ERROR "natsrpc_generate: TARGET is required")
  endif()
  if(NOT TARGET "${ARG_TARGET}")
    message(FATAL_ERROR
      "natsrpc_generate: ${ARG_TARGET} is not a target; create it first "
      "(e.g. add_library(${ARG_TARGET} STATIC))")
  endif()
  if(NOT ARG_PROTOS AND NOT ARG_FBS)
    message(FATAL_ERROR "natsrpc_generate: give PROTOS and/or FBS files")
  endif()
  if(NOT ARG_RUNTIME)
    set(ARG_RUNTIME natsrpc::runtime)
  endif()
  if(NOT TARGET ${ARG_RUNTIME})
    message(FATAL_ERROR
      "natsrpc_generate: natsrpc::runtime not found; call "
      "find_package(natsrpc CONFIG REQUIRED) first")
  endif()

  if(NOT ARG_OUT_DIR)
    set(ARG_OUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/natsrpc_gen/${ARG_TARGET}")
  endif()
  get_filename_component(out_dir "${ARG_OUT_DIR}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  file(MAKE_DIRECTORY "${out_dir}")

  if(NOT ARG_IMPORT_DIRS)
    set(ARG_IMPORT_DIRS "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  set(import_dirs)
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    get_filename_component(dir "${dir}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND import_dirs "${dir}")
  endforeach()

  set(sources)
  if(ARG_PROTOS)
    get_property(options_dir GLOBAL PROPERTY NATSRPC_OPTIONS_IMPORT_DIR)
    get_property(protobuf_dirs GLOBAL PROPERTY NATSRPC_PROTOBUF_IMPORT_DIRS)
    if(NOT protobuf_dirs)
      set(protobuf_dirs ${Protobuf_INCLUDE_DIRS})
    endif()
    set(proto_import_dirs ${import_dirs} "${options_dir}" ${protobuf_dirs})
    list(REMOVE_DUPLICATES proto_import_dirs)
    _natsrpc_generate_protos(sources "${out_dir}" "${proto_import_dirs}"
                             "${ARG_GENERATE_MOCKS}" ${ARG_PROTOS})
  endif()
  if(ARG_FBS)
    _natsrpc_generate_fbs(sources "${out_dir}" "${import_dirs}"
                          "${ARG_GENERATE_MOCKS}" ${ARG_FBS})
    target_link_libraries(${ARG_TARGET} PUBLIC flatbuffers::flatbuffers_shared)
  endif()

  target_sources(${ARG_TARGET} PRIVATE ${sources})
  target_include_directories(${ARG_TARGET} PUBLIC "$<BUILD_INTERFACE:${out_dir}>")
  target_link_libraries(${ARG_TARGET} PUBLIC ${ARG_RUNTIME})
endfunction()

cmake_policy(POP)
