//===- Artifact.h - native artifacts for the host CPU -----------*- C++ -*-===//
//
// Turns a module lowered to the LLVM dialect into a qopt artifact: a shared
// library with the C ABI of qopt/Runtime/ArtifactABI.h, plus a weights file
// that the runtime maps instead of reading. LLVM's code generator and lld run
// in process. The signature, weights file and descriptor are those of every
// artifact (qopt/Target/Common/Artifact.h); this is the host's object code,
// that of a CUDA artifact too, whose kernels `qopt-cuda-codegen` has already
// embedded as PTX (MLIR's NVVM target, which lib/Target/NVPTX registers).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TARGET_CPU_ARTIFACT_H
#define QOPT_TARGET_CPU_ARTIFACT_H

#include "qopt/Target/Common/Artifact.h"

#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>

namespace mlir {
class ModuleOp;
class DialectRegistry;

namespace qopt {

/// Code generation options.
struct ArtifactOptions {
  /// `host` or an LLVM CPU name (`x86-64-v3`, `sapphirerapids`, ...).
  std::string cpu = "host";
  /// LLVM feature string (`+avx2,+fma`); empty: the CPU's own features.
  std::string features;
  unsigned optLevel = 3;
  /// Constants of at least this many bytes go to the weights file; the rest
  /// stay in the library's read-only data.
  uint64_t weightsThreshold = 4096;
  /// Where the model's code runs (a qart_device): QART_DEVICE_CUDA for the
  /// output of `qopt-cuda-codegen`, whose kernels read every constant, so
  /// all of them go to the weights file (libqrt copies it to the GPU) and
  /// its buffers come from libqrt's managed allocator.
  int device = 0;
  /// The GPU architecture of a CUDA artifact (e.g. sm_90a).
  std::string deviceArch;
};

/// The resolved CPU name and feature string for `options`.
std::pair<std::string, std::string>
resolveTarget(const ArtifactOptions &options);

/// f32 lanes of the widest vector unit `features` enable (16 with AVX-512F,
/// 8 with AVX, 4 otherwise): the pipeline's `vector-width`.
int64_t getVectorWidth(StringRef features);

/// What `emitArtifact` writes.
enum class ArtifactOutput { SharedLibrary, Object, LLVMIR };

/// Compiles `module` (LLVM dialect; `entry` was lowered with
/// `llvm.emit_c_interface`) into `outputPath`, plus `outputPath.weights` for
/// a shared library with external weights. Files are written to temporaries
/// and renamed at the end, so a failure leaves nothing behind. On failure
/// returns an error message.
std::string emitArtifact(ModuleOp module, StringRef entry,
                         const ArtifactSignature &signature,
                         const ArtifactOptions &options, ArtifactOutput output,
                         StringRef outputPath);

/// Adds the LLVM IR translations `emitArtifact` needs to `registry`.
void registerArtifactTranslations(DialectRegistry &registry);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TARGET_CPU_ARTIFACT_H
