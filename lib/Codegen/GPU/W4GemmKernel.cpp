//===- W4GemmKernel.cpp - int4 weight-only GEMM kernel generator ----------===//
//
// Builds the decode-sized (M <= 16) int4 x fp16 GEMM kernel at the gpu/nvvm
// level. The algorithm is the one of `qopt-gpu-generate-w4-gemm`
// (Passes.td); the layout it reads is GPUKernelABI.h. Everything the
// generator unrolls (column tiles, groups of an iteration, the eight k16
// steps of a group) is a C++ loop here, so registers are indexed only by
// constants; the only run-time loop is the one over K.
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
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace mlir::qopt {

std::string W4GemmKernelConfig::kernelName() const {
  return llvm::formatv("qopt_w4g128_gemm_m{0}_t{1}_w{2}_u{3}{4}", maxM,
                       tilesPerWarp, warpsPerBlock, groupsPerIter,
                       prefetch ? "_p" : "")
      .str();
}

std::string W4GemmKernelConfig::verify() const {
  if (maxM < 1 || maxM > 16)
    return "max-m must be in 1..16";
  if (tilesPerWarp < 1 || tilesPerWarp > 8)
    return "tiles-per-warp must be in 1..8";
  if (warpsPerBlock < 1 || warpsPerBlock > 32)
    return "warps-per-block must be in 1..32";
  if (groupsPerIter < 1 || groupsPerIter > 8)
    return "groups-per-iter must be in 1..8";
  return {};
}

gpu::GPUModuleOp getOrCreateKernelModule(ModuleOp module) {
  constexpr StringLiteral kName = "qopt_gpu_kernels";
  if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>(kName))
    return existing;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  return gpu::GPUModuleOp::create(b, module.getLoc(), kName);
}

namespace {

/// Emits the kernel body; one instance per kernel.
class W4GemmEmitter {
public:
  W4GemmEmitter(ImplicitLocOpBuilder &b, const W4GemmKernelConfig &cfg)
      : b(b), cfg(cfg), i32(b.getI32Type()), f32(b.getF32Type()),
        v2f16(VectorType::get({2}, b.getF16Type())),
        v2f32(VectorType::get({2}, b.getF32Type())),
        v4i32(VectorType::get({4}, b.getI32Type())),
        ptr(LLVM::LLVMPointerType::get(b.getContext(), 1)) {}

  void emit(gpu::GPUFuncOp func);

private:
  Value c32(int64_t v) { return arith::ConstantIntOp::create(b, i32, v); }
  Value cf32(double v) {
    return arith::ConstantFloatOp::create(b, f32, APFloat(float(v)));
  }
  Value cv2f16(float v) {
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(v2f16, b.getF16FloatAttr(v).getValue()));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  /// `base + byteOffset` (an i32 offset, extended to i64).
  Value gep(Value base, Value byteOffset) {
    Value off = arith::ExtUIOp::create(b, b.getI64Type(), byteOffset);
    return LLVM::GEPOp::create(b, ptr, b.getI8Type(), base, ValueRange{off});
  }
  /// A read-only load: `invariant` lets NVPTX use the non-coherent path.
  Value load(Type type, Value base, Value byteOffset, unsigned align) {
    return LLVM::LoadOp::create(b, type, gep(base, byteOffset), align,
                                /*isVolatile=*/false, /*isNonTemporal=*/false,
                                /*isInvariant=*/true);
  }
  Value extract(Value vec, int64_t i) {
    return LLVM::ExtractElementOp::create(b, vec, c32(i));
  }
  Value asHalf2(Value word) { return LLVM::BitcastOp::create(b, v2f16, word); }

  /// The four fp16 pairs of one packed word, in the order b0, b1 of step
  /// 2j then b0, b1 of step 2j + 1 (GPUKernelABI.h).
  std::array<Value, 4> dequantWord(Value w);

  ImplicitLocOpBuilder &b;
  const W4GemmKernelConfig &cfg;
  Type i32;
  FloatType f32;
  VectorType v2f16, v2f32, v4i32;
  Type ptr;
};

std::array<Value, 4> W4GemmEmitter::dequantWord(Value w) {
  Value magic = c32(0x64006400);
  Value loMask = c32(0x000f000f), hiMask = c32(0x00f000f0);
  // 1024 + u, then u - 8: the subtraction of integers below 2048 is exact
  // in fp16. The high nibble of a byte gives 1024 + 16 u: times 1/16 minus
  // 72 is u - 8, also exact.
  Value bias = cv2f16(1032.0f), sixteenth = cv2f16(0.0625f),
        hiBias = cv2f16(-72.0f);
  auto lo = [&](Value word) {
    Value bits =
        arith::OrIOp::create(b, arith::AndIOp::create(b, word, loMask), magic);
    return Value(arith::SubFOp::create(b, asHalf2(bits), bias));
  };
  auto hi = [&](Value word) {
    Value bits =
        arith::OrIOp::create(b, arith::AndIOp::create(b, word, hiMask), magic);
    return Value(LLVM::FMAOp::create(b, asHalf2(bits), sixteenth, hiBias));
  };
  Value shifted = arith::ShRUIOp::create(b, w, c32(8));
  return {lo(w), hi(w), lo(shifted), hi(shifted)};
}

void W4GemmEmitter::emit(gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  Value aPtr = entry.getArgument(0), wPtr = entry.getArgument(1),
        sPtr = entry.getArgument(2), cPtr = entry.getArgument(3),
        mArg = entry.getArgument(4), nArg = entry.getArgument(5),
        kArg = entry.getArgument(6), gpsArg = entry.getArgument(7);
  const int64_t T = cfg.tilesPerWarp, G = cfg.groupsPerIter;
  const bool twoRowBlocks = cfg.maxM > 8;

  auto id = [&](Value v) { return arith::IndexCastUIOp::create(b, i32, v); };
  Value tid = id(gpu::ThreadIdOp::create(b, gpu::Dimension::x));
  Value bidX = id(gpu::BlockIdOp::create(b, gpu::Dimension::x));
  Value bidY = id(gpu::BlockIdOp::create(b, gpu::Dimension::y));
  Value splits = id(gpu::GridDimOp::create(b, gpu::Dimension::y));
  Value lane = arith::AndIOp::create(b, tid, c32(31));
  Value warp = arith::ShRUIOp::create(b, tid, c32(5));
  Value g = arith::ShRUIOp::create(b, lane, c32(2)); // row / column in tile
  Value t = arith::AndIOp::create(b, lane, c32(3));  // k quarter / col pair

  Value groups = arith::ShRUIOp::create(b, kArg, c32(7)); // K / 128
  Value numTiles = arith::ShRUIOp::create(b, nArg, c32(3));
  Value tile0 = mul(add(mul(bidX, c32(cfg.warpsPerBlock)), warp), c32(T));
  Value kgBegin = mul(bidY, gpsArg);
  Value kgEnd = arith::MinUIOp::create(b, add(kgBegin, gpsArg), groups);

  // A rows of this lane: g and g + 8. A row past M is read from row M - 1
  // (a broadcast load, always in bounds) and replaced by zeros.
  Value mMinus1 = arith::SubIOp::create(b, mArg, c32(1));
  SmallVector<Value> rowValid, rowOffset; // byte offset of the row's chunk
  Value k2 = mul(kArg, c32(2)), t64 = mul(t, c32(64));
  for (int64_t r = 0; r < (twoRowBlocks ? 2 : 1); ++r) {
    Value row = add(g, c32(8 * r));
    rowValid.push_back(
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, mArg));
    Value clamped = arith::MinUIOp::create(b, row, mMinus1);
    rowOffset.push_back(add(mul(clamped, k2), t64));
  }
  Value lane16 = mul(lane, c32(16));
  Value t2x2 = mul(t, c32(4)); // byte offset of scale pair 2t

  Value inRange =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, tile0, numTiles);
  auto ifOp = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());

  Value zero = cf32(0.0);
  Value zeroV4 = arith::ConstantOp::create(
      b, DenseElementsAttr::get(v4i32, b.getI32IntegerAttr(0).getValue()));
  const size_t rowBlocks = rowOffset.size();
  // The loads of one iteration (groups kg .. kg + G - 1), flat: per group
  // the A chunks (row block r, 16 bytes q: [r * 4 + q]), then per column
  // tile its weight chunk and scale pair.
  const size_t perGroup = rowBlocks * 4 + 2 * T;
  auto issueLoads = [&](Value kg) {
    SmallVector<Value> out;
    for (int64_t u = 0; u < G; ++u) {
      Value kgu = add(kg, c32(u));
      Value kByte = mul(kgu, c32(256)); // 128 fp16
      for (size_t r = 0; r < rowBlocks; ++r)
        for (int64_t q = 0; q < 4; ++q) {
          Value v =
              load(v4i32, aPtr, add(add(rowOffset[r], kByte), c32(16 * q)), 16);
          out.push_back(arith::SelectOp::create(b, rowValid[r], v, zeroV4));
        }
      for (int64_t j = 0; j < T; ++j) {
        Value tileGroup = add(mul(add(tile0, c32(j)), groups), kgu);
        out.push_back(
            load(v4i32, wPtr,
                 add(mul(tileGroup, c32(QRT_GPU_W4_TILE_BYTES)), lane16), 16));
        out.push_back(load(i32, sPtr, add(mul(tileGroup, c32(16)), t2x2), 4));
      }
    }
    return out;
  };

  // With prefetch, the loads of the next iteration are issued before the
  // MMAs of this one and carried in registers, so the warp's memory
  // requests overlap its arithmetic (every split has at least one
  // iteration, so the first loads are in bounds).
  SmallVector<Value> init(T * 4, zero);
  size_t numTotals = init.size();
  if (cfg.prefetch)
    llvm::append_range(init, issueLoads(kgBegin));
  Value step = c32(G);
  auto loop = scf::ForOp::create(b, kgBegin, kgEnd, step, init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kg = loop.getInductionVar();
    auto iterArgs = loop.getRegionIterArgs();
    SmallVector<Value> totals(iterArgs.begin(), iterArgs.begin() + numTotals);
    SmallVector<Value> cur, next;
    if (cfg.prefetch) {
      cur.assign(iterArgs.begin() + numTotals, iterArgs.end());
      Value kgNext = add(kg, step);
      Value more =
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, kgNext, kgEnd);
      SmallVector<Type> types;
      for (Value v : cur)
        types.push_back(v.getType());
      auto pre = scf::IfOp::create(b, types, more, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&pre.getThenRegion().front());
        scf::YieldOp::create(b, issueLoads(kgNext));
        b.setInsertionPointToStart(&pre.getElseRegion().front());
        SmallVector<Value> zeros;
        Value zeroI32 = c32(0);
        for (Type t : types)
          zeros.push_back(t == v4i32 ? zeroV4 : zeroI32);
        scf::YieldOp::create(b, zeros);
      }
      next.assign(pre.getResults().begin(), pre.getResults().end());
    } else {
      cur = issueLoads(kg);
    }
    // aChunk[u][r][q], wChunk[u][j], sPair[u][j] into `cur`.
    SmallVector<SmallVector<SmallVector<Value>>> aChunk(G);
    SmallVector<SmallVector<Value>> wChunk(G), sPair(G);
    for (int64_t u = 0; u < G; ++u) {
      size_t base = u * perGroup;
      aChunk[u].resize(rowBlocks);
      for (size_t r = 0; r < rowBlocks; ++r)
        for (int64_t q = 0; q < 4; ++q)
          aChunk[u][r].push_back(cur[base + r * 4 + q]);
      for (int64_t j = 0; j < T; ++j) {
        wChunk[u].push_back(cur[base + rowBlocks * 4 + 2 * j]);
        sPair[u].push_back(cur[base + rowBlocks * 4 + 2 * j + 1]);
      }
    }

    Value zeroH2 = cv2f16(0.0f);
    auto mmaType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                    SmallVector<Type>(4, f32));
    for (int64_t u = 0; u < G; ++u) {
      // A operands of the eight k16 steps: words 2s and 2s + 1 of each row
      // block (GPUKernelABI.h: the same k permutation as the weights).
      SmallVector<std::array<Value, 4>> aOps(8);
      for (int64_t s = 0; s < 8; ++s) {
        auto word = [&](size_t r, int64_t w) {
          if (r >= aChunk[u].size())
            return zeroH2;
          return asHalf2(extract(aChunk[u][r][w / 4], w % 4));
        };
        aOps[s] = {word(0, 2 * s), word(1, 2 * s), word(0, 2 * s + 1),
                   word(1, 2 * s + 1)};
      }
      for (int64_t j = 0; j < T; ++j) {
        SmallVector<Value> acc(4, zero);
        for (int64_t wi = 0; wi < 4; ++wi) {
          std::array<Value, 4> bq = dequantWord(extract(wChunk[u][j], wi));
          for (int64_t half = 0; half < 2; ++half) {
            int64_t s = 2 * wi + half;
            Value bOps[2] = {bq[2 * half], bq[2 * half + 1]};
            auto mma = NVVM::MmaOp::create(
                b, mmaType, aOps[s], bOps, acc, ArrayRef<int64_t>{16, 8, 16},
                std::nullopt, std::nullopt,
                std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::f16,
                                              NVVM::MMATypes::f16},
                std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                               NVVM::MMALayout::col});
            for (int64_t i = 0; i < 4; ++i)
              acc[i] = LLVM::ExtractValueOp::create(b, mma, i);
          }
        }
        // The group's scales of columns 2t and 2t + 1.
        Value scales = arith::ExtFOp::create(b, v2f32, asHalf2(sPair[u][j]));
        Value sc[2] = {extract(scales, 0), extract(scales, 1)};
        for (int64_t i = 0; i < 4; ++i)
          totals[j * 4 + i] =
              LLVM::FMAOp::create(b, acc[i], sc[i & 1], totals[j * 4 + i]);
      }
    }
    llvm::append_range(totals, next);
    scf::YieldOp::create(b, totals);
  }

  // c0, c1: row g, columns 2t, 2t + 1; c2, c3: row g + 8.
  Value single =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, splits, c32(1));
  Value nBytes = mul(nArg, c32(4));
  for (int64_t j = 0; j < T; ++j) {
    Value colBase = add(mul(add(tile0, c32(j)), c32(8)), mul(t, c32(2)));
    for (int64_t i = 0; i < 4; ++i) {
      if (i >= 2 && !twoRowBlocks)
        break;
      Value row = add(g, c32(i >= 2 ? 8 : 0));
      Value ok = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, mArg);
      auto store = scf::IfOp::create(b, ok, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&store.getThenRegion().front());
      Value off = add(mul(row, nBytes), mul(add(colBase, c32(i & 1)), c32(4)));
      Value addr = gep(cPtr, off);
      Value v = loop.getResult(j * 4 + i);
      auto choose = scf::IfOp::create(b, single, /*withElseRegion=*/true);
      b.setInsertionPointToStart(&choose.getThenRegion().front());
      LLVM::StoreOp::create(b, v, addr, 4);
      b.setInsertionPointToStart(&choose.getElseRegion().front());
      LLVM::AtomicRMWOp::create(b, LLVM::AtomicBinOp::fadd, addr, v,
                                LLVM::AtomicOrdering::monotonic);
    }
  }
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

} // namespace

FailureOr<gpu::GPUFuncOp> buildW4GemmKernel(gpu::GPUModuleOp kernels,
                                            Location loc,
                                            const W4GemmKernelConfig &config) {
  if (std::string err = config.verify(); !err.empty())
    return emitError(loc) << "int4 GEMM kernel: " << err;
  std::string name = config.kernelName();
  if (auto existing = kernels.lookupSymbol<gpu::GPUFuncOp>(name))
    return existing;
  MLIRContext *ctx = kernels.getContext();
  ImplicitLocOpBuilder b(loc, ctx);
  b.setInsertionPointToEnd(kernels.getBody());
  Type ptr = LLVM::LLVMPointerType::get(ctx, 1), i32 = b.getI32Type();
  auto type = b.getFunctionType({ptr, ptr, ptr, ptr, i32, i32, i32, i32}, {});
  auto func = gpu::GPUFuncOp::create(b, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({int32_t(32 * config.warpsPerBlock), 1, 1}));
  // A, W and S are only read and never alias C: lets the backend use the
  // read-only data path.
  for (unsigned i = 0; i < 4; ++i)
    func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                    b.getUnitAttr());
  for (unsigned i = 0; i < 3; ++i)
    func.setArgAttr(i, LLVM::LLVMDialect::getReadonlyAttrName(),
                    b.getUnitAttr());
  W4GemmEmitter(b, config).emit(func);
  return func;
}

} // namespace mlir::qopt
