#!/usr/bin/env python3
"""Writes a tiny language model for the tokenizer tests of qrun eval.

    make-tiny-lm.py OUT_DIR VOCAB

OUT_DIR/model.textproto (an ONNX ModelProto in text format; encode it with
protoc --encode=onnx.ModelProto) and OUT_DIR/weights.bin: token ids
[batch, seq] (int64) -> Gather from an embedding [VOCAB, 4] -> MatMul with
[4, VOCAB] -> logits [batch, seq, VOCAB]. Seeded random weights: a model
whose vocabulary matches a real tokenizer's, small enough to compile in a
test (VOCAB x 4 x 2 floats). Standard library only; deterministic.
"""

import os
import random
import struct
import sys

DIM = 4


def main():
    out, vocab = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(vocab)
    count = vocab * DIM
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        for _ in range(2):
            f.write(struct.pack("<%df" % count,
                                *(rng.uniform(-1, 1) for _ in range(count))))
    length = count * 4

    def initializer(name, dims, offset):
        return ("  initializer {\n    name: \"%s\" %s data_type: 1 "
                "data_location: EXTERNAL\n"
                "    external_data { key: \"location\" value: \"weights.bin\" }\n"
                "    external_data { key: \"offset\" value: \"%d\" }\n"
                "    external_data { key: \"length\" value: \"%d\" }\n  }\n"
                % (name, " ".join("dims: %d" % d for d in dims), offset,
                   length))

    with open(os.path.join(out, "model.textproto"), "w") as f:
        f.write("ir_version: 8\nopset_import { domain: \"\" version: 18 }\n"
                "graph {\n  name: \"tiny_lm\"\n"
                "  node { input: \"E\" input: \"ids\" output: \"h\" "
                "op_type: \"Gather\" name: \"embed\" "
                "attribute { name: \"axis\" i: 0 type: INT } }\n"
                "  node { input: \"h\" input: \"W\" output: \"logits\" "
                "op_type: \"MatMul\" name: \"head\" }\n")
        f.write(initializer("E", [vocab, DIM], 0))
        f.write(initializer("W", [DIM, vocab], length))
        f.write("  input { name: \"ids\" type { tensor_type { elem_type: 7 "
                "shape { dim { dim_param: \"batch\" } dim { dim_param: "
                "\"seq\" } } } } }\n"
                "  output { name: \"logits\" type { tensor_type { elem_type: "
                "1 shape { dim { dim_param: \"batch\" } dim { dim_param: "
                "\"seq\" } dim { dim_value: %d } } } } }\n}\n" % vocab)


if __name__ == "__main__":
    main()
