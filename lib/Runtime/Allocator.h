//===- Allocator.h - The heap of compiled code ------------------*- C++ -*-===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_ALLOCATOR_H
#define QOPT_LIB_RUNTIME_ALLOCATOR_H

#include <cstddef>
#include <unordered_set>

extern "C" {
/// Allocation functions of MLIR's memref-to-LLVM lowering with
/// `use-generic-functions`; artifacts resolve them from libqrt. Large freed
/// blocks are cached for reuse (see Allocator.cpp). The free function also
/// takes pointers that came from malloc.
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *ptr);
}

namespace qrt {
/// Records the blocks that the artifact's code allocates on the calling
/// thread while the scope lives (scopes nest), so that a run which ends
/// early, at a failed run-time check, can free what it had allocated.
/// Blocks allocated on pool workers are not recorded: their code frees them
/// before the run's check could fail.
class AllocationScope {
public:
  AllocationScope();
  ~AllocationScope();
  AllocationScope(const AllocationScope &) = delete;
  AllocationScope &operator=(const AllocationScope &) = delete;
  /// Frees every recorded block that is still allocated.
  void releaseAll();

private:
  friend struct AllocationScopeAccess;
  AllocationScope *previous;
  std::unordered_set<void *> live;
};
} // namespace qrt

#endif // QOPT_LIB_RUNTIME_ALLOCATOR_H
