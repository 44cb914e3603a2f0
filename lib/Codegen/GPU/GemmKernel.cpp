//===- GemmKernel.cpp - Hopper wgmma + TMA prefill GEMM generator ---------===//
//
// Builds the sm_90a prefill GEMM `C = A x B^T` (f16, bf16, s8, e4m3
// operands, both K-major) at the gpu/nvvm level: TMA loads
// (cp.async.bulk.tensor) into a ring of shared-memory stages guarded by
// mbarriers, wgmma.mma_async on 128-byte-swizzled operands, a
// warp-specialized CTA (one producer warpgroup, one or two consumer
// warpgroups). The algorithm is the one of `qopt-gpu-generate-gemm`
// (Passes.td); the contract with the runtime is GPUKernelABI.h.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/GPU/KernelGenerators.h"

#include "qopt/Runtime/GPUKernelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace mlir::qopt {

bool parseGemmElementType(StringRef text, GemmElementType &out) {
  if (text == "f16")
    out = GemmElementType::F16;
  else if (text == "bf16")
    out = GemmElementType::BF16;
  else if (text == "s8")
    out = GemmElementType::S8;
  else if (text == "e4m3")
    out = GemmElementType::E4M3;
  else
    return false;
  return true;
}

bool parseGemmOutputType(StringRef text, GemmOutputType &out) {
  if (text == "f16")
    out = GemmOutputType::F16;
  else if (text == "f32")
    out = GemmOutputType::F32;
  else
    return false;
  return true;
}

StringRef stringifyGemmElementType(GemmElementType type) {
  switch (type) {
  case GemmElementType::F16:
    return "f16";
  case GemmElementType::BF16:
    return "bf16";
  case GemmElementType::S8:
    return "s8";
  case GemmElementType::E4M3:
    return "e4m3";
  }
  return "?";
}

std::string GemmKernelConfig::kernelName() const {
  return llvm::formatv("qopt_gemm_{0}_{1}_n{2}_s{3}_c{4}",
                       stringifyGemmElementType(type),
                       out == GemmOutputType::F16 ? "f16" : "f32", blockN,
                       stages, consumers)
      .str();
}

int64_t GemmKernelConfig::elementBytes() const {
  return type == GemmElementType::F16 || type == GemmElementType::BF16 ? 2 : 1;
}

int64_t GemmKernelConfig::sharedBytes() const {
  return QRT_GPU_GEMM_SMEM_BYTES(blockN, stages);
}

std::string GemmKernelConfig::verify() const {
  if (consumers < 1 || consumers > 2)
    return "consumers must be 1 or 2";
  if (blockN < 64 || blockN > 256 || blockN % 16)
    return "block-n must be a multiple of 16 in 64..256";
  if (stages < 2 || stages > 8)
    return "stages must be in 2..8";
  // Each consumer thread holds (rows / 64) x (blockN / 2) accumulators;
  // past 128 the kernel cannot keep them in registers.
  int64_t subtiles = QRT_GPU_GEMM_BLOCK_M / 64 / consumers;
  if (subtiles * blockN / 2 > 128)
    return llvm::formatv("{0} accumulators per thread (block-n={1}, "
                         "consumers={2}) exceed 128",
                         subtiles * blockN / 2, blockN, consumers)
        .str();
  // 227 KB is the most dynamic shared memory a CTA may have on sm_90.
  if (sharedBytes() > 227 * 1024)
    return llvm::formatv("{0} bytes of shared memory (block-n={1}, "
                         "stages={2}) exceed sm_90's 232448",
                         sharedBytes(), blockN, stages)
        .str();
  return {};
}

namespace {

constexpr StringLiteral kSmemSymbol = "qopt_gemm_smem";
constexpr int64_t kBM = QRT_GPU_GEMM_BLOCK_M;
constexpr int64_t kRowBytes = QRT_GPU_GEMM_STAGE_K_BYTES;
/// Bytes of K one wgmma consumes (k16 of 2-byte or k32 of 1-byte types).
constexpr int64_t kStepBytes = 32;

/// Emits the kernel body; one instance per kernel.
class GemmEmitter {
public:
  GemmEmitter(ImplicitLocOpBuilder &b, const GemmKernelConfig &cfg)
      : b(b), cfg(cfg), ctx(b.getContext()), i32(b.getI32Type()),
        i64(b.getI64Type()), f32(b.getF32Type()),
        sptr(LLVM::LLVMPointerType::get(ctx, 3)),
        ptr(LLVM::LLVMPointerType::get(ctx, 0)) {}

  void emit(gpu::GPUFuncOp func);

private:
  Value c32(int64_t v) { return arith::ConstantIntOp::create(b, i32, v); }
  Value c64(int64_t v) { return arith::ConstantIntOp::create(b, i64, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  /// `base + byteOffset` in `base`'s address space.
  Value gep(Value base, Value byteOffset) {
    return LLVM::GEPOp::create(b, base.getType(), b.getI8Type(), base,
                               ValueRange{byteOffset});
  }
  /// The shared-memory address (ptr<3>) `offset` bytes into the ring.
  Value smem(Value offset) { return gep(smemBase, offset); }
  Value smem(int64_t offset) { return smem(c32(offset)); }
  Value fullBarrier(Value stage) {
    return smem(add(c32(barrierOffset), mul(stage, c32(8))));
  }
  Value emptyBarrier(Value stage) {
    return smem(add(c32(barrierOffset + 8 * cfg.stages), mul(stage, c32(8))));
  }
  /// Blocks until the mbarrier at `bar` completes the phase of `parity`.
  void wait(Value bar, Value parity) {
    // The suspend-time hint CUTLASS uses (about 10 ms): the waiting
    // thread sleeps in hardware instead of spinning.
    NVVM::MBarrierTryWaitParityOp::create(b, bar, parity, c32(0x989680));
  }
  /// The wgmma shared-memory matrix descriptor of the K-major tile at
  /// shared address `addr` (64-bit: start address >> 4 in bits 0..13,
  /// leading byte offset 1 (unused with swizzling), stride byte offset
  /// 1024 >> 4 (eight 128-byte rows), 128-byte swizzle in bits 62..63).
  Value descriptor(Value addr) {
    Value lo = arith::AndIOp::create(b, arith::ShRUIOp::create(b, addr, c64(4)),
                                     c64(0x3fff));
    int64_t fields =
        (int64_t(1) << 16) | (int64_t(1024 >> 4) << 32) | (int64_t(1) << 62);
    return arith::OrIOp::create(b, lo, c64(fields));
  }

  void emitProducer(Value tid, Value m0, Value n0, Value numK, Value maps);
  void emitConsumer(Value tid, Value wg, Value m0, Value n0, Value numK,
                    Value cPtr, Value saPtr, Value sbPtr, Value mArg,
                    Value nArg);

  ImplicitLocOpBuilder &b;
  const GemmKernelConfig &cfg;
  MLIRContext *ctx;
  Type i32, i64;
  FloatType f32;
  Type sptr, ptr;
  Value smemBase;
  int64_t stageBytes = 0, barrierOffset = 0;
};

void GemmEmitter::emitProducer(Value tid, Value m0, Value n0, Value numK,
                               Value maps) {
  // The producer needs few registers: give them to the consumers (only
  // with two consumers does the 168-register cap at entry bind).
  if (cfg.consumers == 2)
    NVVM::SetMaxRegisterOp::create(
        b, b.getI32IntegerAttr(40),
        NVVM::SetMaxRegisterActionAttr::get(
            ctx, NVVM::SetMaxRegisterAction::decrease));
  auto one = scf::IfOp::create(b, cmp(arith::CmpIPredicate::eq, tid, c32(0)),
                               /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&one.getThenRegion().front());
  Value genericMaps = LLVM::AddrSpaceCastOp::create(b, ptr, maps);
  Value mapA = genericMaps;
  Value mapB = gep(genericMaps, c32(QRT_GPU_GEMM_TENSOR_MAP_BYTES));
  auto loop = scf::ForOp::create(b, c32(0), numK, c32(1));
  b.setInsertionPointToStart(loop.getBody());
  Value it = loop.getInductionVar();
  Value stage = arith::RemUIOp::create(b, it, c32(cfg.stages));
  Value round = arith::DivUIOp::create(b, it, c32(cfg.stages));
  // The stage is free once the consumers released its previous use; the
  // first round waits on the parity of the phase before the barrier's
  // first, which counts as complete.
  Value parity =
      arith::XOrIOp::create(b, arith::AndIOp::create(b, round, c32(1)), c32(1));
  wait(emptyBarrier(stage), parity);
  Value full = fullBarrier(stage);
  NVVM::MBarrierArriveExpectTxOp::create(
      b, Type(), full, c32(stageBytes),
      NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::CTA),
      b.getBoolAttr(false), Value());
  Value stageBase = mul(stage, c32(stageBytes));
  Value kElem = mul(it, c32(kRowBytes / cfg.elementBytes()));
  // The copy's destination is a shared::cluster address; this CTA's
  // shared::cta addresses are valid ones (no cluster is launched).
  Type clusterPtr = LLVM::LLVMPointerType::get(ctx, 7);
  auto tma = [&](Value dst, Value map, Value row) {
    NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
        b, LLVM::AddrSpaceCastOp::create(b, clusterPtr, dst), map,
        ValueRange{kElem, row}, full, ValueRange{}, Value(), Value(),
        NVVM::TMALoadModeAttr::get(ctx, NVVM::TMALoadMode::TILE),
        b.getBoolAttr(false), NVVM::CTAGroupKindAttr(), Value());
  };
  tma(smem(stageBase), mapA, m0);
  tma(smem(add(stageBase, c32(kBM * kRowBytes))), mapB, n0);
}

void GemmEmitter::emitConsumer(Value tid, Value wg, Value m0, Value n0,
                               Value numK, Value cPtr, Value saPtr, Value sbPtr,
                               Value mArg, Value nArg) {
  if (cfg.consumers == 2)
    NVVM::SetMaxRegisterOp::create(
        b, b.getI32IntegerAttr(232),
        NVVM::SetMaxRegisterActionAttr::get(
            ctx, NVVM::SetMaxRegisterAction::increase));
  const bool isInt = cfg.type == GemmElementType::S8;
  const int64_t rowsPerConsumer = kBM / cfg.consumers;
  const int64_t subtiles = rowsPerConsumer / 64;
  const int64_t numAcc = cfg.blockN / 2;
  Type accElem = isInt ? Type(i32) : Type(f32);
  auto accType =
      LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(numAcc, accElem));
  Value consumer = arith::SubIOp::create(b, wg, c32(1));
  Value t = arith::AndIOp::create(b, tid, c32(127));

  // Shared addresses as integers for the descriptors.
  Value smemInt = LLVM::PtrToIntOp::create(b, i64, smemBase);
  Value consumerRowBytes = arith::ExtUIOp::create(
      b, i64, mul(consumer, c32(rowsPerConsumer * kRowBytes)));

  NVVM::WGMMATypes wtype;
  switch (cfg.type) {
  case GemmElementType::F16:
    wtype = NVVM::WGMMATypes::f16;
    break;
  case GemmElementType::BF16:
    wtype = NVVM::WGMMATypes::bf16;
    break;
  case GemmElementType::S8:
    wtype = NVVM::WGMMATypes::s8;
    break;
  case GemmElementType::E4M3:
    wtype = NVVM::WGMMATypes::e4m3;
    break;
  }
  int64_t kPerOp = kStepBytes / cfg.elementBytes();
  auto shape = NVVM::MMAShapeAttr::get(ctx, 64, cfg.blockN, kPerOp);
  auto typeAB = NVVM::WGMMATypesAttr::get(ctx, wtype);
  auto typeD = NVVM::WGMMATypesAttr::get(ctx, isInt ? NVVM::WGMMATypes::s32
                                                    : NVVM::WGMMATypes::f32);
  auto scaleOne = NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one);
  auto scaleZero = NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::zero);
  auto inOne = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
  // row-major A and column-major B: both K-major.
  auto rowL = NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row);
  auto colL = NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::col);

  // One k step of 128 bytes: wait for the stage, four wgmma per 64-row
  // subtile, commit, let the previous step's group finish and release its
  // stage. `first` (k step 0, peeled) overwrites the accumulators
  // (scale-d = 0), so they need no zero initialization: registers written
  // outside wgmma between the asynchronous MMAs would make ptxas serialize
  // them.
  auto kStep = [&](Value it, SmallVector<Value> acc, bool first) {
    Value stage = arith::RemUIOp::create(b, it, c32(cfg.stages));
    Value round = arith::DivUIOp::create(b, it, c32(cfg.stages));
    wait(fullBarrier(stage), arith::AndIOp::create(b, round, c32(1)));
    Value stageAddr = add(
        smemInt, arith::ExtUIOp::create(b, i64, mul(stage, c32(stageBytes))));
    Value descA = descriptor(add(stageAddr, consumerRowBytes));
    Value descB = descriptor(add(stageAddr, c64(kBM * kRowBytes)));
    NVVM::WgmmaFenceAlignedOp::create(b);
    for (int64_t j = 0; j < kRowBytes / kStepBytes; ++j)
      for (int64_t r = 0; r < subtiles; ++r) {
        // Descriptor fields are in units of 16 bytes: stepping K by 32
        // bytes inside the swizzle atom adds 2, the next 64 rows 512.
        Value dA = add(descA, c64((j * kStepBytes + r * 64 * kRowBytes) >> 4));
        Value dB = add(descB, c64((j * kStepBytes) >> 4));
        acc[r] = NVVM::WgmmaMmaAsyncOp::create(
            b, accType, acc[r], dA, dB, shape, typeAB, typeAB, typeD,
            first && j == 0 ? scaleZero : scaleOne, inOne, inOne, rowL, colL,
            NVVM::MMAIntOverflowAttr());
      }
    NVVM::WgmmaGroupSyncAlignedOp::create(b);
    // Keep this step's group in flight; the previous one is then done, so
    // its stage goes back to the producer (one arrival per consumer).
    NVVM::WgmmaWaitGroupSyncOp::create(b, 1);
    if (first)
      return acc;
    auto rel = scf::IfOp::create(b, cmp(arith::CmpIPredicate::eq, t, c32(0)),
                                 /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPointToStart(&rel.getThenRegion().front());
    Value prev = arith::RemUIOp::create(
        b, arith::SubIOp::create(b, add(it, c32(cfg.stages)), c32(1)),
        c32(cfg.stages));
    NVVM::MBarrierArriveOp::create(
        b, Type(), emptyBarrier(prev), Value(),
        NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::CTA));
    return acc;
  };
  // K >= 1, so there is at least one step.
  SmallVector<Value> init;
  for (int64_t r = 0; r < subtiles; ++r)
    init.push_back(LLVM::UndefOp::create(b, accType));
  init = kStep(c32(0), init, /*first=*/true);
  auto loop = scf::ForOp::create(b, c32(1), numK, c32(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> acc(loop.getRegionIterArgs().begin(),
                           loop.getRegionIterArgs().end());
    scf::YieldOp::create(b, kStep(loop.getInductionVar(), acc, false));
  }
  NVVM::WgmmaWaitGroupSyncOp::create(b, 0);

  // Epilogue. Accumulator 4j + i of a 64-row subtile is row
  // 16 warp + lane / 4 (+ 8 for i >= 2), column 8 j + 2 (lane % 4) (+ 1
  // for odd i): stored as column pairs, scaled for s8 and e4m3.
  const bool scaled = isInt || cfg.type == GemmElementType::E4M3;
  const bool outF16 = cfg.out == GemmOutputType::F16;
  Value warp = arith::ShRUIOp::create(b, t, c32(5));
  Value lane = arith::AndIOp::create(b, t, c32(31));
  Value rowInTile =
      add(add(mul(consumer, c32(rowsPerConsumer)), mul(warp, c32(16))),
          arith::ShRUIOp::create(b, lane, c32(2)));
  Value colInTile = mul(arith::AndIOp::create(b, lane, c32(3)), c32(2));
  Value col0 = add(n0, colInTile);
  auto v2f32 = VectorType::get({2}, f32);
  auto v2f16 = VectorType::get({2}, b.getF16Type());
  int64_t outBytes = outF16 ? 2 : 4;
  Value n64 = arith::ExtUIOp::create(b, i64, nArg);
  for (int64_t r = 0; r < subtiles; ++r) {
    Value result = loop.getResult(r);
    for (int64_t h = 0; h < 2; ++h) {
      Value row = add(add(m0, rowInTile), c32(r * 64 + h * 8));
      auto rowOk = scf::IfOp::create(
          b, cmp(arith::CmpIPredicate::ult, row, mArg), false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&rowOk.getThenRegion().front());
      Value row64 = arith::ExtUIOp::create(b, i64, row);
      Value rowBase = gep(cPtr, mul(mul(row64, n64), c64(outBytes)));
      Value sa;
      if (scaled)
        sa = LLVM::LoadOp::create(b, f32, gep(saPtr, mul(row64, c64(4))), 4,
                                  false, false, true);
      for (int64_t j = 0; j < cfg.blockN / 8; ++j) {
        Value col = add(col0, c32(8 * j));
        auto colOk = scf::IfOp::create(
            b, cmp(arith::CmpIPredicate::ult, col, nArg), false);
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&colOk.getThenRegion().front());
        Value col64 = arith::ExtUIOp::create(b, i64, col);
        Value v[2];
        for (int64_t i = 0; i < 2; ++i) {
          v[i] = LLVM::ExtractValueOp::create(b, result, 4 * j + 2 * h + i);
          if (isInt)
            v[i] = arith::SIToFPOp::create(b, f32, v[i]);
        }
        if (scaled) {
          Value sb = LLVM::LoadOp::create(
              b, v2f32, gep(sbPtr, mul(col64, c64(4))), 8, false, false, true);
          for (int64_t i = 0; i < 2; ++i) {
            Value s = arith::MulFOp::create(
                b, sa, LLVM::ExtractElementOp::create(b, sb, c32(i)));
            v[i] = arith::MulFOp::create(b, v[i], s);
          }
        }
        Value pair = LLVM::UndefOp::create(b, v2f32);
        for (int64_t i = 0; i < 2; ++i)
          pair = LLVM::InsertElementOp::create(b, pair, v[i], c32(i));
        if (outF16)
          pair = arith::TruncFOp::create(b, v2f16, pair);
        LLVM::StoreOp::create(b, pair, gep(rowBase, mul(col64, c64(outBytes))),
                              2 * outBytes);
      }
    }
  }
}

void GemmEmitter::emit(gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  Value maps = entry.getArgument(0), cPtr = entry.getArgument(1),
        saPtr = entry.getArgument(2), sbPtr = entry.getArgument(3),
        mArg = entry.getArgument(4), nArg = entry.getArgument(5),
        kArg = entry.getArgument(6);
  stageBytes = (kBM + cfg.blockN) * kRowBytes;
  barrierOffset = cfg.stages * stageBytes;

  auto id = [&](Value v) { return arith::IndexCastUIOp::create(b, i32, v); };
  Value tid = id(gpu::ThreadIdOp::create(b, gpu::Dimension::x));
  Value m0 = mul(id(gpu::BlockIdOp::create(b, gpu::Dimension::x)), c32(kBM));
  Value n0 =
      mul(id(gpu::BlockIdOp::create(b, gpu::Dimension::y)), c32(cfg.blockN));
  Value wg = arith::ShRUIOp::create(b, tid, c32(7));
  // ceil(K * bytes / 128) stages of K; the tail past K reads zeros.
  Value numK = arith::DivUIOp::create(
      b, add(mul(kArg, c32(cfg.elementBytes())), c32(kRowBytes - 1)),
      c32(kRowBytes));
  smemBase = LLVM::AddressOfOp::create(b, sptr, kSmemSymbol);

  // One thread initializes the barriers: full[s] completes when the
  // producer's arrival and the TMA bytes are in, empty[s] when every
  // consumer released the stage.
  {
    auto init =
        scf::IfOp::create(b, cmp(arith::CmpIPredicate::eq, tid, c32(0)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&init.getThenRegion().front());
    for (int64_t s = 0; s < cfg.stages; ++s) {
      NVVM::MBarrierInitOp::create(b, fullBarrier(c32(s)), c32(1), Value());
      NVVM::MBarrierInitOp::create(b, emptyBarrier(c32(s)), c32(cfg.consumers),
                                   Value());
    }
    // Makes the initialization visible to the async proxy (TMA).
    NVVM::FenceMbarrierInitOp::create(b);
  }
  gpu::BarrierOp::create(b);

  auto roles = scf::IfOp::create(b, cmp(arith::CmpIPredicate::eq, wg, c32(0)),
                                 /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&roles.getThenRegion().front());
    emitProducer(tid, m0, n0, numK, maps);
    b.setInsertionPointToStart(&roles.getElseRegion().front());
    emitConsumer(tid, wg, m0, n0, numK, cPtr, saPtr, sbPtr, mArg, nArg);
  }
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

} // namespace

FailureOr<gpu::GPUFuncOp> buildGemmKernel(gpu::GPUModuleOp kernels,
                                          Location loc,
                                          const GemmKernelConfig &config) {
  if (std::string err = config.verify(); !err.empty())
    return emitError(loc) << "GEMM kernel: " << err;
  std::string name = config.kernelName();
  if (auto existing = kernels.lookupSymbol<gpu::GPUFuncOp>(name))
    return existing;
  MLIRContext *ctx = kernels.getContext();
  ImplicitLocOpBuilder b(loc, ctx);
  // The dynamic shared memory, declared once per module as
  // `extern __shared__ __align__(1024) char smem[]`: the 128-byte swizzle
  // needs 1024-byte aligned tiles.
  if (!kernels.lookupSymbol<LLVM::GlobalOp>(kSmemSymbol)) {
    b.setInsertionPointToStart(kernels.getBody());
    auto global = LLVM::GlobalOp::create(
        b, LLVM::LLVMArrayType::get(b.getI8Type(), 0), /*isConstant=*/false,
        LLVM::Linkage::External, kSmemSymbol, Attribute(), /*alignment=*/1024,
        /*addrSpace=*/3);
    (void)global;
  }
  b.setInsertionPointToEnd(kernels.getBody());
  Type ptr = LLVM::LLVMPointerType::get(ctx, 1), i32 = b.getI32Type();
  auto type = b.getFunctionType({ptr, ptr, ptr, ptr, i32, i32, i32}, {});
  auto func = gpu::GPUFuncOp::create(b, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({int32_t(config.threads()), 1, 1}));
  // One CTA per SM: caps the registers at entry (65536 / threads), which
  // setmaxnreg needs to redistribute them between the warpgroups.
  func->setAttr("nvvm.minctasm", b.getI32IntegerAttr(1));
  func.setArgAttr(1, LLVM::LLVMDialect::getNoAliasAttrName(), b.getUnitAttr());
  for (unsigned i : {0u, 2u, 3u})
    func.setArgAttr(i, LLVM::LLVMDialect::getReadonlyAttrName(),
                    b.getUnitAttr());
  GemmEmitter(b, config).emit(func);
  return func;
}

} // namespace mlir::qopt
