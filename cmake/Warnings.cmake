# ssmh_warnings(target): the project's warning set, applied to every target we own.
function(ssmh_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
                         # GCC 12 misreports Asio's coroutine frame allocator (GCC PR 109224).
                         -Wno-mismatched-new-delete)
  if(SSMH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# ssmh_library(name SOURCES ... DEPS ...): one layer of mocksvc_core as a static library.
# Layers link only the layers below them, so a wrong-way include fails to link.
function(ssmh_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  ssmh_warnings(${name})
endfunction()
