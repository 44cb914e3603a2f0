#!/usr/bin/env python3
"""Export tiny random-weight LLMs to ONNX as importer test inputs.

This script documents how the files in this folder were produced.  It builds
three small Hugging Face causal language models from their config classes
(no downloads, random weights, ``torch.manual_seed(0)`` before each model):

* ``llama`` -- LlamaConfig: RMSNorm, rotary embeddings, SwiGLU MLP,
  grouped-query attention (4 query heads, 2 key/value heads).
* ``gpt2``  -- GPT2Config: LayerNorm, fused QKV projection (Conv1D) followed
  by a Split, tanh-approximated GELU, learned position embeddings.
* ``qwen2`` -- Qwen2Config: like Llama, plus biases on the q/k/v projections.

Each model is exported with the dynamo-based ``torch.onnx.export(...,
dynamo=True)`` exporter.  The only input is ``input_ids`` (int64, dims
``["batch", "seq"]``), the only output is ``logits`` (float32, dims
``["batch", "seq", 256]``).  The example input has shape [2, 8]: the dynamo
exporter specialises any dimension whose example size is 1, so batch must be
at least 2.  Weights larger than 1 KiB are stored in an external data file
``<name>.onnx.data`` next to ``<name>.onnx`` (smaller tensors stay inline),
so an importer sees both kinds of initializer.

For each model the script also writes onnxruntime (CPU) reference outputs for
two input shapes, [2, 8] and [4, 16]:

* ``<name>.input_<B>x<S>.npy``  -- int64 input_ids,
* ``<name>.logits_<B>x<S>.npy`` -- float32 logits from onnxruntime,

and checks them against the PyTorch logits.  Finally ``manifest.json``
records, per model, the opset imports, op types with counts, input/output
names and dims, weight bytes and the torch-vs-onnxruntime max abs diff.

Usage::

    python3 export_models.py --out <directory>

Requires torch (2.6+), transformers, onnx, onnxscript, onnxruntime, numpy.
One failing architecture does not stop the others; the exit status is 1 if
any model failed.
"""

import argparse
import collections
import json
import os
import re
import sys
import traceback

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers

VOCAB = 256
EXAMPLE_SHAPE = (2, 8)
REFERENCE_SHAPES = [(2, 8), (4, 16)]
EXTERNAL_DATA_THRESHOLD = 1024  # bytes; smaller initializers stay inline
# Tolerance for the fp32 torch-vs-onnxruntime comparison.
ATOL = 1e-4


def make_configs():
    """Returns {name: (config, model class)} for the three architectures."""
    common = dict(use_cache=False)
    llama = transformers.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, vocab_size=VOCAB,
        max_position_embeddings=128, **common)
    gpt2 = transformers.GPT2Config(
        n_embd=64, n_layer=2, n_head=4, vocab_size=VOCAB, n_positions=128,
        **common)
    qwen2 = transformers.Qwen2Config(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, vocab_size=VOCAB,
        max_position_embeddings=128, **common)
    return {
        "llama": (llama, transformers.LlamaForCausalLM),
        "gpt2": (gpt2, transformers.GPT2LMHeadModel),
        "qwen2": (qwen2, transformers.Qwen2ForCausalLM),
    }


class LogitsOnly(torch.nn.Module):
    """Wraps a causal LM so that forward(input_ids) returns only the logits."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids, use_cache=False,
                          return_dict=True).logits


def build_model(config, cls):
    """Builds a random-weight model with eager attention, in eval mode."""
    torch.manual_seed(0)
    config._attn_implementation = "eager"
    model = cls(config)
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    model.eval()
    return LogitsOnly(model).eval()


def export(module, name):
    """Exports with the dynamo exporter; returns (ModelProto, method used)."""
    example = (torch.randint(0, VOCAB, EXAMPLE_SHAPE, dtype=torch.int64),)
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=128)
    attempts = [
        ("dynamic_shapes=Dim", dict(
            dynamic_shapes={"input_ids": {0: batch, 1: seq}})),
        ("dynamic_shapes=str", dict(
            dynamic_shapes={"input_ids": {0: "batch", 1: "seq"}})),
        ("dynamic_axes", dict(
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                          "logits": {0: "batch", 1: "seq"}})),
    ]
    errors = []
    for label, kwargs in attempts:
        try:
            with torch.no_grad():
                program = torch.onnx.export(
                    module, example, f=None, dynamo=True,
                    input_names=["input_ids"], output_names=["logits"],
                    optimize=True, **kwargs)
            return program.model_proto, label
        except Exception:  # noqa: BLE001 - try the next spelling
            tb = traceback.format_exc()
            print(f"[{name}] export attempt {label} failed:\n{tb}",
                  flush=True)
            errors.append(label)
    raise RuntimeError(f"{name}: all export attempts failed: {errors}")


def rename_dims(model):
    """Gives the input's symbolic dims the names "batch" and "seq".

    The exporter may name them after torch's symbols (s0, s1, ...); the
    mapping is applied to every dim_param in the graph, whole words only.
    """
    dims = model.graph.input[0].type.tensor_type.shape.dim
    mapping = {}
    for dim, want in zip(dims, ("batch", "seq")):
        if dim.HasField("dim_param") and dim.dim_param != want:
            mapping[dim.dim_param] = want
    if not mapping:
        return {}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, mapping)) + r")\b")
    values = list(model.graph.input) + list(model.graph.output) + list(
        model.graph.value_info)
    for value in values:
        if not value.type.HasField("tensor_type"):
            continue
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = pattern.sub(lambda m: mapping[m.group(1)],
                                            dim.dim_param)
    return mapping


def strip_debug_info(graph):
    """Drops exporter debug metadata (stack traces, fx node names, ...).

    The dynamo exporter attaches ``pkg.torch.onnx.*`` metadata_props with
    absolute source paths to every node; they make the files several times
    larger and machine-dependent, and carry no semantics.
    """
    for node in graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                strip_debug_info(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    strip_debug_info(sub)
    for values in (graph.input, graph.output, graph.value_info,
                   graph.initializer):
        for value in values:
            del value.metadata_props[:]
    del graph.metadata_props[:]


def iter_nodes(graph):
    """Yields every node of a graph, including nested subgraphs."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from iter_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from iter_nodes(sub)


def op_name(node):
    if node.domain in ("", "ai.onnx"):
        return node.op_type
    return f"{node.domain}::{node.op_type}"


def value_desc(value):
    tensor = value.type.tensor_type
    dims = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    return {"name": value.name,
            "elem_type": onnx.TensorProto.DataType.Name(tensor.elem_type),
            "dims": dims}


def tensor_bytes(tensor):
    itemsize = np.dtype(
        onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    return int(np.prod(tensor.dims, dtype=np.int64)) * itemsize


def describe(model, path):
    """Summarises a saved model (loaded without external data)."""
    ops = collections.Counter(op_name(n) for n in iter_nodes(model.graph))
    init = list(model.graph.initializer)
    external = [t for t in init
                if t.data_location == onnx.TensorProto.EXTERNAL]
    return {
        "ir_version": model.ir_version,
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "opset_import": {(o.domain or "ai.onnx"): o.version
                         for o in model.opset_import},
        "inputs": [value_desc(v) for v in model.graph.input],
        "outputs": [value_desc(v) for v in model.graph.output],
        "num_nodes": sum(ops.values()),
        "op_types": dict(sorted(ops.items())),
        "functions": sorted(f"{f.domain}::{f.name}" for f in model.functions),
        "num_initializers": len(init),
        "num_external_initializers": len(external),
        "weight_bytes": sum(tensor_bytes(t) for t in init),
        "onnx_file_bytes": os.path.getsize(path),
        "data_file_bytes": os.path.getsize(path + ".data")
        if os.path.exists(path + ".data") else 0,
    }


def process(name, config, cls, out_dir):
    module = build_model(config, cls)
    proto, method = export(module, name)
    mapping = rename_dims(proto)
    strip_debug_info(proto.graph)

    path = os.path.join(out_dir, f"{name}.onnx")
    data_name = f"{name}.onnx.data"
    if os.path.exists(os.path.join(out_dir, data_name)):
        os.remove(os.path.join(out_dir, data_name))
    onnx.save_model(proto, path, save_as_external_data=True,
                    all_tensors_to_one_file=True, location=data_name,
                    size_threshold=EXTERNAL_DATA_THRESHOLD)
    onnx.checker.check_model(path, full_check=False)

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    diffs = {}
    for batch, seq in REFERENCE_SHAPES:
        ids = rng.integers(0, VOCAB, size=(batch, seq), dtype=np.int64)
        (ort_logits,) = session.run(["logits"], {"input_ids": ids})
        with torch.no_grad():
            ref = module(torch.from_numpy(ids)).numpy()
        assert ort_logits.shape == (batch, seq, VOCAB), ort_logits.shape
        diff = float(np.max(np.abs(ort_logits - ref)))
        tag = f"{batch}x{seq}"
        diffs[tag] = diff
        np.save(os.path.join(out_dir, f"{name}.input_{tag}.npy"), ids)
        np.save(os.path.join(out_dir, f"{name}.logits_{tag}.npy"),
                ort_logits.astype(np.float32))
        print(f"[{name}] {tag}: torch vs ORT max abs diff {diff:.3e} "
              f"(max |logit| {float(np.max(np.abs(ref))):.3e})", flush=True)

    info = describe(onnx.load(path, load_external_data=False), path)
    info.update({
        "export_method": method,
        "renamed_dims": mapping,
        "num_parameters": sum(p.numel() for p in module.parameters()),
        "torch_vs_ort_max_abs_diff": diffs,
        "reference_shapes": [list(s) for s in REFERENCE_SHAPES],
        "passed": all(d <= ATOL for d in diffs.values()),
    })
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--models", nargs="*", default=None,
                        help="subset of models to export (default: all)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)

    versions = {"python": sys.version.split()[0], "torch": torch.__version__,
                "transformers": transformers.__version__,
                "onnx": onnx.__version__, "onnxruntime": ort.__version__,
                "numpy": np.__version__}
    try:
        import onnxscript
        versions["onnxscript"] = onnxscript.__version__
    except Exception:  # noqa: BLE001
        pass
    print("versions:", versions, flush=True)

    manifest = {"generator": "export_models.py", "versions": versions,
                "example_input_shape": list(EXAMPLE_SHAPE), "models": {}}
    failed = []
    for name, (config, cls) in make_configs().items():
        if args.models and name not in args.models:
            continue
        try:
            manifest["models"][name] = process(name, config, cls, args.out)
        except Exception:  # noqa: BLE001 - keep going with other models
            print(f"[{name}] FAILED:\n{traceback.format_exc()}", flush=True)
            failed.append(name)

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")

    print("\n=== summary ===")
    print(f"{'model':6} {'opset':18} {'nodes':>5} {'weights':>9} "
          f"{'max diff 2x8':>12} {'max diff 4x16':>13}  io dims")
    for name, info in manifest["models"].items():
        d = info["torch_vs_ort_max_abs_diff"]
        io = " -> ".join(str(v["dims"]) for v in info["inputs"] +
                         info["outputs"])
        print(f"{name:6} {json.dumps(info['opset_import']):18} "
              f"{info['num_nodes']:5d} {info['weight_bytes']:9d} "
              f"{d['2x8']:12.3e} {d['4x16']:13.3e}  {io}")
        print(f"       ops: {info['op_types']}")
    for name in failed:
        print(f"{name:6} FAILED")
    bad = failed + [n for n, i in manifest["models"].items()
                    if not i["passed"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
