//===- Artifact.h - native artifacts for the host CPU -----------*- C++ -*-===//
//
// Turns a module lowered to the LLVM dialect into a qopt artifact: a shared
// library with the C ABI of qopt/Runtime/ArtifactABI.h, plus a weights file
// that the runtime maps instead of reading. LLVM's code generator and lld run
// in process.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TARGET_CPU_ARTIFACT_H
#define QOPT_TARGET_CPU_ARTIFACT_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>

namespace mlir {
class ModuleOp;
class DialectRegistry;
namespace func {
class FuncOp;
} // namespace func

namespace qopt {

/// One input or output of an artifact, as `qart_tensor_desc` describes it.
struct TensorSignature {
  std::string name;
  int32_t dtype = 0;
  SmallVector<int64_t> dims;         // -1 where dynamic
  SmallVector<std::string> dimNames; // "" where unnamed; empty: none
};

/// The entry point's inputs and outputs.
struct ArtifactSignature {
  SmallVector<TensorSignature> inputs;
  SmallVector<TensorSignature> outputs;
};

/// Reads the signature of `func`: every argument and result must be a ranked
/// tensor of a supported element type. Names come from the `qopt.onnx_name`
/// argument/result attributes (else `input_<i>`/`output_<i>`), dimension
/// names from `qopt.dim_names`. Reports what is unsupported on `func`.
FailureOr<ArtifactSignature> getArtifactSignature(func::FuncOp func);

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
