# qopt_add_library(name SOURCES... [DEPENDS tgt...] [LINK_LIBS lib...]
#                  [MLIR_LIBS MLIRx...])
#
# A shared library that links libMLIR.so, installs into the `qoptTargets`
# export set and is visible to out-of-tree plugins as `qopt::name`.
#
# Our libraries are shared, not static, for the same reason we link the MLIR
# dylib: a pass plugin that uses the qopt dialect must resolve the dialect's
# TypeIDs to the one copy that the `qopt` tool itself registered.
function(qopt_add_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LINK_LIBS;MLIR_LIBS" ${ARGN})
  add_library(${name} SHARED ${ARG_UNPARSED_ARGUMENTS})
  add_library(qopt::${name} ALIAS ${name})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK_LIBS})
  mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
  # libMLIR.so does not re-export LLVM: name the LLVM dylib ourselves.
  target_link_libraries(${name} PUBLIC LLVM)
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${QOPT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${QOPT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(${name} PROPERTIES OUTPUT_NAME ${name})
  set_property(GLOBAL APPEND PROPERTY QOPT_LIBS ${name})
  install(TARGETS ${name} EXPORT qoptTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()
