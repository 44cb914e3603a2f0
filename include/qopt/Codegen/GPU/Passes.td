//===- Passes.td - qopt GPU code generation passes -----------*- tablegen -*-===//
//
// Passes of the GPU code generator (NVIDIA, NVPTX). Kernels are generated
// at the gpu/nvvm level by C++ generators (KernelGenerators.h); the
// lowering to NVVM and PTX is `qopt-gpu-lower-to-nvvm` and
// lib/Target/NVPTX.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CODEGEN_GPU_PASSES_TD
#define QOPT_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def GenerateW4Gemm : Pass<"qopt-gpu-generate-w4-gemm", "ModuleOp"> {
  let summary = "Add an int4 weight-only GEMM kernel (decode, M <= 16) to "
                "the module's GPU kernels";
  let description = [{
    Generates `C = A x dequant(W)^T` for fp16 activations `A` (M x K,
    M <= max-m), int4 weights in groups of 128 along K with fp16 scales
    (symmetric, as `qopt-quantize-weights-rtn` writes them) and an f32
    result, as a `gpu.func` in the `gpu.module @qopt_gpu_kernels` (created
    if missing; the module becomes a `gpu.container_module`). The weights
    are packed ahead of time (`qrt_gpu_w4_pack`; the model lowering will
    do it at compile time) into the layout of
    include/qopt/Runtime/GPUKernelABI.h, which also states the kernel's
    parameters and launch shape.

    Algorithm: one warp owns `tiles-per-warp` tiles of 8 output columns and
    a range of K (split-K across the grid's y dimension, the partial sums
    added with `red.global.add.f32`; one split stores). Each iteration
    issues every load of `groups-per-iter` groups of 128 k first: per
    column tile a 16-byte streaming load of packed weights per lane (the
    512 bytes of a tile and group are contiguous, so a warp's load is
    coalesced), the fp16 scale pair of the lane's output columns, and 64
    bytes of each of the lane's A rows (read-only cache). Then each weight
    word is dequantized in registers with two and/or masks into fp16
    `1024 + u` pairs (one `lop3`), a subtraction and a multiply-add
    (`u - 8`, exact), and fed as the B operand of `mma.sync.m16n8k16`
    (f16 x f16 -> f32) with A's rows as the A operand; the 16 rows of the
    MMA cover M <= 16, rows past M read as zero (M <= 8 skips rows 8..15).
    Each group's MMA sum is scaled once by the group's scale into the
    running f32 sums. With `prefetch`, the loads of iteration i + 1 are
    issued before the MMAs of iteration i and carried in loop registers
    (more registers, loads overlapping arithmetic).

    Example: `qopt --qopt-gpu-generate-w4-gemm="max-m=1"` on an empty
    module gives

    ```mlir
    module attributes {gpu.container_module} {
      gpu.module @qopt_gpu_kernels {
        gpu.func @qopt_w4g128_gemm_m1_t4_w4_u2(%a: !llvm.ptr<1>, %w: !llvm.ptr<1>,
            %s: !llvm.ptr<1>, %c: !llvm.ptr<1>, %m: i32, %n: i32, %k: i32,
            %groups_per_split: i32) kernel attributes {known_block_size = ...} {
          ... scf.for ... llvm.load %p invariant {alignment = 16 : i64} ...
          ... nvvm.mma.sync A[...] B[...] C[...] ...
        }
      }
    }
    ```
  }];
  let options = [
    Option<"maxM", "max-m", "int64_t", "16",
           "Largest M (rows of A) the kernel takes, 1..16">,
    Option<"tilesPerWarp", "tiles-per-warp", "int64_t", "4",
           "Column tiles of 8 per warp, 1..8">,
    Option<"warpsPerBlock", "warps-per-block", "int64_t", "4",
           "Warps per thread block, 1..32">,
    Option<"groupsPerIter", "groups-per-iter", "int64_t", "2",
           "Groups of 128 k whose loads are issued together, 1..8">,
    Option<"prefetch", "prefetch", "bool", "false",
           "Issue the next iteration's loads before this iteration's MMAs "
           "(kernel name suffix _p)">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "LLVM::LLVMDialect",
                           "NVVM::NVVMDialect", "scf::SCFDialect",
                           "arith::ArithDialect"];
}

def CopiesToLinalg : Pass<"qopt-gpu-copies-to-linalg", "func::FuncOp"> {
  let summary = "Turn memref.copy into linalg.copy so that copies run on the "
                "GPU";
  let description = [{
    After bufferization, slices, concatenations, pads and the clones of the
    deallocation pipeline are `memref.copy` ops, which MLIR lowers to host
    code (`llvm.memcpy` or `memrefCopy`). In the whole-model CUDA path the
    buffers are managed memory: a host copy is legal but migrates the pages
    to the CPU and the next kernel's accesses fault them back. Rewritten as
    `linalg.copy`, each copy becomes a kernel like any other linalg op.

    ```mlir
    memref.copy %a, %b : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
    // becomes
    linalg.copy ins(%a : memref<4x8xf32, strided<[16, 1]>>)
                outs(%b : memref<4x8xf32>)
    ```
  }];
  let dependentDialects = ["linalg::LinalgDialect"];
}

def MapParallelLoops : Pass<"qopt-gpu-map-parallel-loops", "func::FuncOp"> {
  let summary = "Map each outermost scf.parallel to a 1-D grid of thread "
                "blocks";
  let description = [{
    The whole-model CUDA path (`qopt-cuda-codegen`) turns every linalg op
    into an `scf.parallel` over its parallel dimensions (reductions stay
    sequential `scf.for`s inside) and then into a kernel launch with
    upstream's `convert-parallel-loops-to-gpu`, which launches what the
    loops' `mapping` attributes say. Upstream's `gpu-map-parallel-loops`
    maps loop dimensions to block ids one to one, so a loop without a
    nested parallel loop runs one thread per block, and a dimension past
    65535 in y or z cannot launch at all.

    Algorithm: for every outermost `scf.parallel` outside a GPU launch and
    without reductions, collapse all its dimensions into one (upstream's
    `collapseParallelLoops`: one linear index, delinearized in the body,
    innermost dimension fastest, so consecutive threads touch consecutive
    elements of row-major buffers), tile that dimension by `block-size`
    with constant inner bounds and a guard (`tileParallelLoop`), and map the
    outer loop to block x and the inner one to thread x. A loop with a
    static trip count below `block-size` gets a block of that count
    rounded up to a multiple of 32. Parallel loops nested inside run
    sequentially in each thread. Loops with reductions are left alone (they
    run on the host). Inside each thread, the accumulator of a sequential
    loop (a `memref.load` and a later `memref.store` at the same
    loop-invariant indices, the buffer used nowhere else in the loop: a
    matmul's output element over K) becomes an `iter_args` value loaded
    before the loop and stored after it, since the kernels' pointers carry
    no aliasing information that would let LLVM do it.

    Example (block-size 256):

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c1000) step (%c1, %c1) {...}
    // becomes
    scf.parallel (%b) = (%c0) to (%c4000) step (%c256) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        %k = arith.addi %t, %b
        scf.if (%k < %c4000) { %i = %k / 1000, %j = %k % 1000 ... }
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, ...>]}
    } {mapping = [#gpu.loop_dim_map<processor = block_x, ...>]}
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "Threads per block, a multiple of 32 from 32 to 1024">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "scf::SCFDialect",
                           "arith::ArithDialect"];
}

def GenerateGemm : Pass<"qopt-gpu-generate-gemm", "ModuleOp"> {
  let summary = "Add a Hopper wgmma + TMA prefill GEMM kernel (f16, bf16, "
                "W8A8 s8, FP8 e4m3) to the module's GPU kernels";
  let description = [{
    Generates `C[M,N] = A[M,K] x B[N,K]^T` for sm_90a as a `gpu.func` in
    the `gpu.module @qopt_gpu_kernels` (created if missing), with both
    operands K-major: f16 or bf16 accumulating in f32; s8 accumulating in
    s32 and e4m3 in f32, both then scaled by a per-row activation scale
    and a per-column weight scale (the W8A8 scheme of
    `qopt-quantize-w8a8`); C in f16 or f32. Parameters, launch shape and
    the TMA descriptors the host encodes are in
    include/qopt/Runtime/GPUKernelABI.h.

    Algorithm: a CTA computes a 128 x block-n tile of C with
    `128 * (1 + consumers)` threads, warp-specialized. Warpgroup 0 is the
    producer: one thread walks K in steps of 128 bytes (64 f16 or 128
    8-bit elements) and, for each step, waits for the stage's `empty`
    mbarrier, announces the stage's bytes on its `full` mbarrier
    (`mbarrier.arrive.expect_tx`) and issues two TMA loads
    (`cp.async.bulk.tensor.2d`, 128-byte swizzle) of the 128 A rows and
    the block-n B rows into that stage of a `stages`-deep ring in dynamic
    shared memory. Warpgroups 1..consumers each own 128 / consumers rows:
    they wait on `full`, issue four `wgmma.mma_async` (m64 n<block-n>
    k16 for 2-byte types, k32 for 1-byte ones) per 64-row subtile on
    shared-memory descriptors (the K step is a 32-byte offset inside the
    swizzle atom), commit, and wait until at most one group is in flight,
    so the previous stage is free: one thread per consumer arrives on its
    `empty` barrier. The accumulators stay in registers across the loop
    (with two consumers, `setmaxnreg` moves registers from the producer
    to them). The epilogue converts (s32 to f32), scales, rounds to the
    output type and stores column pairs, skipping rows and columns past
    M and N (TMA reads zeros there, and for k past K).

    Example: `qopt --qopt-gpu-generate-gemm="element-type=s8"` on an empty
    module gives

    ```mlir
    module attributes {gpu.container_module} {
      gpu.module @qopt_gpu_kernels {
        llvm.mlir.global external @qopt_gemm_smem() {addr_space = 3 : i32,
            alignment = 1024 : i64} : !llvm.array<0 x i8>
        gpu.func @qopt_gemm_s8_f16_n128_s4_c2(%maps: !llvm.ptr<1>,
            %c: !llvm.ptr<1>, %sa: !llvm.ptr<1>, %sb: !llvm.ptr<1>, %m: i32,
            %n: i32, %k: i32) kernel attributes {known_block_size = ...} {
          ... nvvm.cp.async.bulk.tensor.shared.cluster.global ...
          ... nvvm.wgmma.mma_async ... D[<s32>, <one>], A[<s8>, ...] ...
        }
      }
    }
    ```
  }];
  let options = [
    Option<"elementType", "element-type", "std::string", "\"f16\"",
           "Operand element type: f16, bf16, s8 or e4m3">,
    Option<"outputType", "output-type", "std::string", "\"f16\"",
           "Element type of C: f16 or f32">,
    Option<"blockN", "block-n", "int64_t", "128",
           "Columns of C per CTA (wgmma's n), a multiple of 16 in 64..256">,
    Option<"stages", "stages", "int64_t", "4",
           "Shared-memory stages of the TMA pipeline, 2..8">,
    Option<"consumers", "consumers", "int64_t", "2",
           "Consumer warpgroups, 1 or 2">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "LLVM::LLVMDialect",
                           "NVVM::NVVMDialect", "scf::SCFDialect",
                           "arith::ArithDialect"];
}

def NativeMath : Pass<"qopt-gpu-native-math", "gpu::GPUModuleOp"> {
  let summary = "Replace calls of libdevice functions that PTX has "
                "instructions for by LLVM intrinsics";
  let description = [{
    Upstream's `convert-gpu-to-nvvm` sends every `math` op to a libdevice
    function (`math.absf` to `__nv_fabsf`; it even marks `llvm.intr.fabs`
    illegal), and `gpu-module-to-binary` can link libdevice only from a
    CUDA toolkit. A model whose polynomial tanh or GELU takes an absolute
    value then cannot be compiled for the GPU on a machine without the
    toolkit, although PTX computes `abs.f32` in one instruction.

    Algorithm: on each kernel module after that conversion, every
    `llvm.call` of one of these f32/f64 libdevice functions becomes the LLVM
    intrinsic that the NVPTX backend selects to one instruction, and the
    declarations no call uses any more are erased:

    | function | intrinsic | PTX |
    |---|---|---|
    | `__nv_fabs[f]` | `llvm.intr.fabs` | `abs` |
    | `__nv_copysign[f]` | `llvm.intr.copysign` | `and`/`or` on the bits |
    | `__nv_fma[f]` | `llvm.intr.fma` | `fma.rn` |
    | `__nv_floor[f]`, `__nv_ceil[f]`, `__nv_trunc[f]`, `__nv_rint[f]` | `llvm.intr.floor`, `ceil`, `trunc`, `roundeven` | `cvt.rmi`, `cvt.rpi`, `cvt.rzi`, `cvt.rni` |
    | `__nv_sqrt[f]` | `llvm.intr.sqrt` | `sqrt.rn` (correctly rounded) |

    Transcendental functions (exp, log, sin, pow, rsqrt) stay libdevice
    calls: PTX has only approximations of them, which libdevice refines.
    Other types (f16 calls, which upstream widens to f32 first, do not
    occur) are left alone.

    Example:

    ```mlir
    %a = llvm.call @__nv_fabsf(%x) : (f32) -> f32
    // becomes
    %a = llvm.intr.fabs(%x) : (f32) -> f32
    ```
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

def AsyncLaunches : Pass<"qopt-gpu-async-launches", "func::FuncOp"> {
  let summary = "Launch kernels without waiting, and wait only where host "
                "code needs their results";
  let description = [{
    After `convert-parallel-loops-to-gpu` every kernel launch is
    synchronous: `gpu-to-llvm` follows each with a stream synchronization,
    so a model's forward pays one round trip to the GPU per kernel (a
    decode step of the bundled model launches about a hundred). Upstream's
    `gpu-async-region` makes launches asynchronous but waits before every
    host op with a memory effect, allocations included, which in this
    pipeline come between nearly all launches.

    Algorithm: in each block of a host function, the synchronous
    `gpu.launch_func` ops become asynchronous ones chained on one stream
    (the first depends on a fresh `gpu.wait async`, each later one on the
    previous launch's token). A `gpu.wait` on the chain goes before the
    first op that is not a launch and does not run beside kernels, and
    before the block's terminator. Ops that run beside kernels: those
    without memory effects (index arithmetic, `memref.dim`, views) and
    those whose only effects are allocations and frees. libqrt's CUDA
    allocator makes the latter safe: a freed block goes back to its cache
    and is handed out again to a buffer whose kernels run after the
    pending ones on the same stream, and host code that writes it waits
    first. Host loads, stores, copies, calls (`qrt_observe`) and ops with
    regions get a wait before them; the launches inside a region get their
    own chains.

    Example:

    ```mlir
    gpu.launch_func @k0::@k blocks in (...) threads in (...) args(%a : ...)
    %b = memref.alloc() : memref<64xf32>
    gpu.launch_func @k1::@k blocks in (...) threads in (...) args(%a, %b ...)
    %x = memref.load %b[%c0] : memref<64xf32>
    // becomes
    %t0 = gpu.wait async
    %t1 = gpu.launch_func async [%t0] @k0::@k ...
    %b = memref.alloc() : memref<64xf32>
    %t2 = gpu.launch_func async [%t1] @k1::@k ...
    gpu.wait [%t2]
    %x = memref.load %b[%c0] : memref<64xf32>
    ```
  }];
  let dependentDialects = ["gpu::GPUDialect"];
}

#endif // QOPT_CODEGEN_GPU_PASSES_TD
