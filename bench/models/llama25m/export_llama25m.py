#!/usr/bin/env python3
"""Exports the 25.7M-parameter Llama benchmark model (model.onnx + weights.json).

Uses the helpers of test/Import/Inputs/models/export_models.py (the tiny test
models) with a bigger LlamaConfig:

    hidden 512, 8 layers, 8 heads, 4 key/value heads, intermediate 1408,
    vocab 2048, max positions 2048, untied embeddings, eager attention,
    use_cache=False  ->  25,698,816 parameters

torch.onnx dynamo export, opset 20, input `input_ids` int64 [batch, seq]
(both dynamic; example shape [2, 8]), output `logits` float32
[batch, seq, 2048]; initializers over 1 KiB go to `model.onnx.data`.

Steps:
 1. export, strip debug metadata, save model.onnx + model.onnx.data;
 2. check torch vs onnxruntime logits with torch's own random weights;
 3. classify every external initializer (all ones -> "ones", all zeros ->
    "zeros", mean ~0 / std ~0.02 -> "uniform" std 0.02, small others ->
    "literal") and write weights.json, the manifest make_weights.py reads;
 4. replace model.onnx.data by the file make_weights.py generates from the
    manifest (the deterministic weights everyone regenerates), record its
    sha256 in weights.json;
 5. run onnxruntime on the regenerated weights (finite, non-degenerate
    logits) and write a small reference input/logits pair.

Needs torch, transformers, onnx, onnxscript, onnxruntime, numpy.

usage: export_llama25m.py --out DIR
"""

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "test", "Import", "Inputs", "models"))
sys.path.insert(0, HERE)

import export_models as em  # noqa: E402
import make_weights  # noqa: E402

VOCAB = 2048
SEED = 20261127
STD = 0.02


def make_config():
    return transformers.LlamaConfig(
        hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
        num_attention_heads=8, num_key_value_heads=4, vocab_size=VOCAB,
        max_position_embeddings=2048, tie_word_embeddings=False,
        use_cache=False)


def export(module):
    example = (torch.randint(0, VOCAB, (2, 8), dtype=torch.int64),)
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=2048)
    with torch.no_grad():
        program = torch.onnx.export(
            module, example, f=None, dynamo=True, opset_version=20,
            input_names=["input_ids"], output_names=["logits"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}}, optimize=True)
    return program.model_proto


def classify(values):
    flat = values.reshape(-1)
    if np.all(flat == 1):
        return {"init": "ones"}
    if np.all(flat == 0):
        return {"init": "zeros"}
    mean, std = float(flat.mean()), float(flat.std())
    if flat.size >= 1024 and abs(mean) < 2e-3 and 0.015 < std < 0.025:
        return {"init": "uniform", "std": STD}
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    data_path = path + ".data"

    config = make_config()
    module = em.build_model(config, transformers.LlamaForCausalLM)
    nparams = sum(p.numel() for p in module.parameters())
    print(f"parameters: {nparams}", flush=True)

    t = time.time()
    proto = export(module)
    em.rename_dims(proto)
    em.strip_debug_info(proto.graph)
    opsets = {(o.domain or "ai.onnx"): o.version for o in proto.opset_import}
    assert opsets == {"ai.onnx": 20}, opsets
    if os.path.exists(data_path):
        os.remove(data_path)
    onnx.save_model(proto, path, save_as_external_data=True,
                    all_tensors_to_one_file=True,
                    location=os.path.basename(data_path),
                    size_threshold=em.EXTERNAL_DATA_THRESHOLD)
    onnx.checker.check_model(path, full_check=False)
    print(f"exported in {time.time() - t:.1f}s", flush=True)

    # 2. torch vs ORT with torch's weights.
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    diffs = {}
    for b, s in [(1, 128), (2, 64), (1, 512)]:
        ids = rng.integers(0, VOCAB, size=(b, s), dtype=np.int64)
        (got,) = sess.run(["logits"], {"input_ids": ids})
        with torch.no_grad():
            ref = module(torch.from_numpy(ids)).numpy()
        diffs[f"{b}x{s}"] = float(np.max(np.abs(got - ref)))
        print(f"torch vs ORT {b}x{s}: max abs diff {diffs[f'{b}x{s}']:.3e} "
              f"(max |logit| {float(np.max(np.abs(ref))):.3e})", flush=True)
    del sess

    # 3. manifest.
    model = onnx.load(path, load_external_data=False)
    entries = []
    with open(data_path, "rb") as f:
        data = f.read()
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        ext = {e.key: e.value for e in tensor.external_data}
        assert ext["location"] == os.path.basename(data_path), ext
        offset, length = int(ext.get("offset", 0)), int(ext["length"])
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(
            tensor.data_type))
        values = np.frombuffer(data, dtype=dtype, count=length //
                               dtype.itemsize, offset=offset)
        entry = {"name": tensor.name, "offset": offset, "length": length,
                 "dtype": dtype.name, "shape": list(tensor.dims)}
        kind = classify(values) if dtype == np.float32 else None
        if kind is None:
            if length > 65536:
                raise SystemExit(f"cannot classify {tensor.name}: "
                                 f"mean {values.mean()} std {values.std()}")
            kind = {"init": "literal",
                    "hex": data[offset:offset + length].hex()}
        entry.update(kind)
        entries.append(entry)
    kinds = {}
    for e in entries:
        kinds[e["init"]] = kinds.get(e["init"], 0) + 1
    print(f"external initializers: {len(entries)} {kinds}", flush=True)
    manifest = {
        "model": "model.onnx",
        "data_file": os.path.basename(data_path),
        "data_file_bytes": len(data),
        "seed": SEED,
        "num_parameters": nparams,
        "config": config.to_diff_dict() if hasattr(config, "to_diff_dict")
        else {},
        "versions": {"torch": torch.__version__,
                     "transformers": transformers.__version__,
                     "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__},
        "torch_vs_ort_max_abs_diff_export_weights": diffs,
        "initializers": entries,
    }
    del data

    # 4. regenerate the data file from the manifest.
    t = time.time()
    make_weights.write_data(manifest, data_path)
    manifest["sha256"] = make_weights.sha256_file(data_path)
    print(f"regenerated weights in {time.time() - t:.1f}s, sha256 "
          f"{manifest['sha256']}", flush=True)

    # 5. ORT on the regenerated weights.
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    checks = {}
    for b, s in [(1, 128), (2, 32), (8, 128), (1, 512)]:
        ids = rng.integers(0, VOCAB, size=(b, s), dtype=np.int64)
        (got,) = sess.run(["logits"], {"input_ids": ids})
        assert got.shape == (b, s, VOCAB), got.shape
        checks[f"{b}x{s}"] = {"finite": bool(np.all(np.isfinite(got))),
                              "std": float(got.std()),
                              "max_abs": float(np.max(np.abs(got)))}
        print(f"regenerated weights, ORT {b}x{s}: {checks[f'{b}x{s}']}",
              flush=True)
        if (b, s) == (2, 32):
            np.save(os.path.join(args.out, "ref.input_2x32.npy"), ids)
            np.save(os.path.join(args.out, "ref.logits_2x32.npy"), got)
    manifest["ort_check_regenerated_weights"] = checks
    with open(os.path.join(args.out, "weights.json"), "w") as f:
        json.dump(manifest, f, indent=1, default=str)
        f.write("\n")
    ok = all(c["finite"] and c["std"] > 1e-3 for c in checks.values())
    ok = ok and all(d < 1e-3 for d in diffs.values())
    print("OK" if ok else "FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
