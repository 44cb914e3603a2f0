//===- Artifact.h - what every qopt artifact shares -------------*- C++ -*-===//
//
// The target-neutral parts of an artifact (qopt/Runtime/ArtifactABI.h): the
// entry point's signature, read from the MLIR function; the weights file
// that the runtime maps instead of reading; and the descriptor, the
// `qart_artifact_v1` table through which the runtime finds everything else.
// CPU and CUDA artifacts both get them from here; the host library's object
// code comes from lib/Target/CPU, a CUDA artifact's kernels from
// lib/Target/NVPTX.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TARGET_COMMON_ARTIFACT_H
#define QOPT_TARGET_COMMON_ARTIFACT_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"

#include <cstdint>
#include <string>

namespace llvm {
class GlobalVariable;
class Module;
} // namespace llvm

namespace mlir {
class ModuleOp;
namespace func {
class FuncOp;
} // namespace func

namespace qopt {

//===----------------------------------------------------------------------===//
// Signature
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

/// Adds `qopt_weights_base`, the pointer through which the code reads the
/// weights file once the runtime has mapped it (the descriptor points at
/// it).
llvm::GlobalVariable *addWeightsBase(llvm::Module &module);

/// Moves every constant global of `module` of at least `threshold` bytes,
/// except those named in `keep`, into `weights` (each at a 64-byte aligned
/// offset) and rewrites its uses to `*weightsBase + offset`. Globals whose
/// initializers it cannot serialize stay.
void externalizeWeights(llvm::Module &module, llvm::GlobalVariable *weightsBase,
                        uint64_t threshold, std::string &weights,
                        const llvm::StringSet<> &keep);

/// The identity of `weights` that the descriptor and the weights file's
/// header share, so that the runtime refuses a stale file.
uint64_t getWeightsId(StringRef weights);

/// The size of the weights file of `weights` (header and padding included);
/// 0 when there are none.
uint64_t getWeightsFileSize(StringRef weights);

/// The weights file: `qart_weights_header`, zeros up to
/// `QART_WEIGHTS_DATA_OFFSET`, then `weights`. `id` is getWeightsId(weights).
std::string getWeightsFile(StringRef weights, uint64_t id);

//===----------------------------------------------------------------------===//
// Descriptor
//===----------------------------------------------------------------------===//

/// What the descriptor records besides the signature.
struct ArtifactDescriptor {
  /// The CPU name and feature string the host code was compiled for.
  std::string cpu, features;
  /// File name of the weights file beside the library; empty: none.
  std::string weightsFile;
  /// getWeightsFileSize and getWeightsId of the weights.
  uint64_t weightsSize = 0, weightsId = 0;
  /// From addWeightsBase.
  llvm::GlobalVariable *weightsBase = nullptr;
  /// Where the model's code runs (a qart_device), and for
  /// QART_DEVICE_CUDA the GPU architecture (e.g. sm_90a).
  int device = 0;
  std::string deviceArch;
};

/// Adds to `llvmModule` (translated from `module`) the entry point
/// `void qopt_entry(void **args)`, which unpacks `args` into the C-interface
/// wrapper of `entry`, and the descriptor `QART_SYMBOL` with `signature`,
/// `descriptor` and the table of observation points of `module`'s
/// `qopt.observe_points` (written by `qopt-lower-observe`). On failure
/// returns an error message.
std::string addArtifactDescriptor(llvm::Module &llvmModule, ModuleOp module,
                                  StringRef entry,
                                  const ArtifactSignature &signature,
                                  const ArtifactDescriptor &descriptor);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TARGET_COMMON_ARTIFACT_H
