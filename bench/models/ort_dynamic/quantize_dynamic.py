#!/usr/bin/python3
"""ONNX Runtime's dynamic int8 quantization of a model, without PyPI.

Rewrites every MatMul whose second input is a constant 2-D float weight
(an initializer) into the graph onnxruntime.quantization.quantize_dynamic
writes with its defaults (weight_type=QInt8, per_channel=False,
reduce_range=False, symmetric int8 weights):

    x_q, x_scale, x_zp = DynamicQuantizeLinear(x)        x_q uint8
    y_i32 = MatMulInteger(x_q, W_q, x_zp, W_zp)          W_q int8 [K, N]
    y = Cast(y_i32, float) * (x_scale * W_scale)

with W_scale = max|W| / 127 (one per tensor), W_q = round(W / W_scale)
(round half to even, as numpy and ORT do) clipped to [-127, 127] and
W_zp = 0. ORT's graph optimizer fuses each chain into one
DynamicQuantizeMatMul (MLAS's u8 x s8 QGEMM), as it does for models that
quantize_dynamic wrote. Only MatMul is rewritten (quantize_dynamic's
defaults also quantize Gather, i.e. the embedding table, which costs no
compute); the output head is rewritten too, as quantize_dynamic does, unless
--exclude names it.

Needs Debian's python3-onnx and python3-numpy (scripts/lib.sh), hence
/usr/bin/python3. Weights stored as external data are read; the output
keeps its initializers inside the model (the file is small).

usage: quantize_dynamic.py MODEL.onnx OUT.onnx [--exclude NODE_NAME ...]
Prints one line per rewritten MatMul and a summary on stderr.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--exclude", action="append", default=[],
                        help="leave the MatMul of this node name in fp32")
    args = parser.parse_args()

    model = onnx.load(args.model, load_external_data=True)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1

    nodes = []
    rewritten = 0
    dropped = set()
    new_inits = []
    for node in graph.node:
        w = inits.get(node.input[1]) if (
            node.op_type == "MatMul" and len(node.input) == 2) else None
        if (w is None or node.name in args.exclude or len(w.dims) != 2 or
                w.data_type != TensorProto.FLOAT):
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(w).astype(np.float32)
        absmax = float(np.abs(weight).max())
        scale = np.float32(absmax / 127.0 if absmax > 0 else 1.0)
        q = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
        base = node.name.strip("/").replace("/", "_") or f"matmul{rewritten}"
        wq, ws, wz = base + "_W_q", base + "_W_scale", base + "_W_zp"
        new_inits += [numpy_helper.from_array(q, wq),
                      numpy_helper.from_array(np.array(scale, np.float32), ws),
                      numpy_helper.from_array(np.array(0, np.int8), wz)]
        x, y = node.input[0], node.output[0]
        xq, xs, xz = base + "_x_q", base + "_x_scale", base + "_x_zp"
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [xq, xs, xz],
                             name=base + "_quantize"),
            helper.make_node("MatMulInteger", [xq, wq, xz, wz],
                             [base + "_y_i32"], name=base + "_matmul"),
            helper.make_node("Cast", [base + "_y_i32"], [base + "_y_f"],
                             name=base + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [xs, ws], [base + "_scale"],
                             name=base + "_scale_mul"),
            helper.make_node("Mul", [base + "_y_f", base + "_scale"], [y],
                             name=base + "_dequantize"),
        ]
        uses[w.name] -= 1
        if uses[w.name] == 0:
            dropped.add(w.name)
        rewritten += 1
        print(f"{node.name}: [{w.dims[0]}, {w.dims[1]}] int8, scale {scale:.6g}")

    if rewritten == 0:
        sys.exit(f"quantize_dynamic.py: 0 MatMul rewritten: {args.model} has "
                 "no MatMul with a constant 2-D float weight; nothing written")
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [t for t in graph.initializer if t.name not in dropped]
    for t in kept:
        # Inline any external data (already loaded) so the output stands alone.
        if t.data_location == TensorProto.EXTERNAL:
            t.data_location = TensorProto.DEFAULT
            del t.external_data[:]
    del graph.initializer[:]
    graph.initializer.extend(kept + new_inits)
    if not any(o.domain in ("", "ai.onnx") for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("", 20))
    tmp = args.out + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, args.out)
    print(f"quantize_dynamic.py: {rewritten} MatMul rewritten, "
          f"{len(dropped)} fp32 weights dropped -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
