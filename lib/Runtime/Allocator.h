//===- Allocator.h - The heap of compiled code ------------------*- C++ -*-===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_ALLOCATOR_H
#define QOPT_LIB_RUNTIME_ALLOCATOR_H

#include <cstddef>

extern "C" {
/// Allocation functions of MLIR's memref-to-LLVM lowering with
/// `use-generic-functions`; artifacts resolve them from libqrt. Large freed
/// blocks are cached for reuse (see Allocator.cpp). The free function also
/// takes pointers that came from malloc.
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *ptr);
}

#endif // QOPT_LIB_RUNTIME_ALLOCATOR_H
