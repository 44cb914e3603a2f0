#!/usr/bin/env bash
# GPTQ time for one linear layer through qopt-quantize-weights-gptq: a
# random ROWSxCOLS weight (default 4096x4096) and the Hessian 2 X^T X of a
# synthetic input X of TOKENS tokens (default 128 x 2048 = 262144, channel
# scales spread over 100x, correlated channels), written once as MLIR with
# dense_resource blobs into DIR (reused by later runs), then `qopt
# --mlir-timing` runs the pass (int4 g128 symmetric; extra pass options
# after DIR) and this prints the pass's own time, beside the time to parse
# the input. Compare with bench/gptq_reference.py (PyTorch, the GPTQ
# authors' algorithm) on the same threads and on a GPU.
#
#   bench/gptq_layer.sh DIR [PASS OPTION=VALUE...]
#   ROWS=4096 COLS=4096 TOKENS=262144 bench/gptq_layer.sh /tmp/gptq-bench
#
# The GPTQ time does not depend on TOKENS (only generating H does: about
# 9 TFLOP at the default, minutes on 2 cores; TOKENS=8192 is quicker).
# OpenBLAS uses every core unless OPENBLAS_NUM_THREADS says otherwise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:?usage: bench/gptq_layer.sh DIR [PASS OPTION=VALUE...]}"
shift
rows=${ROWS:-4096} cols=${COLS:-4096} tokens=${TOKENS:-262144}
qopt="${QOPT_BIN:-$root/build/bin}/qopt"
python=python3
python3 -c 'import numpy' 2>/dev/null || python=/usr/bin/python3
mkdir -p "$dir"
input="$dir/layer-${rows}x${cols}-t${tokens}.mlir"
if [ ! -f "$input" ]; then
  echo "writing $input (H from $tokens tokens)" >&2
  start=$(date +%s.%N)
  "$python" - "$input" "$rows" "$cols" "$tokens" <<'PY'
import sys
import numpy as np
path, rows, cols, tokens = sys.argv[1], *map(int, sys.argv[2:])
rng = np.random.default_rng(0)
W = (rng.standard_normal((rows, cols)) * 0.02).astype(np.float32)
mix = (np.eye(cols) + 0.3 * rng.standard_normal((cols, cols)) /
       np.sqrt(cols)).astype(np.float32)
scale = np.exp(rng.uniform(-2.3, 2.3, cols)).astype(np.float32)
H = np.zeros((cols, cols))
chunk = 8192
for start in range(0, tokens, chunk):
    n = min(chunk, tokens - start)
    X = (rng.standard_normal((n, cols), dtype=np.float32) @ mix) * scale
    H += 2.0 * (X.T @ X)  # f32 product, f64 sum (as the hessian observer)
def blob(a, align):
    return "0x" + align.to_bytes(4, "little").hex() + a.tobytes().hex()
with open(path + ".tmp", "w") as f:
    f.write(f"""func.func @layer(%x: tensor<?x{cols}xf32>) -> tensor<?x{rows}xf32> {{
  %w = arith.constant dense_resource<w> : tensor<{rows}x{cols}xf32>
  %h = qopt.observe %x name "fc:input" observer <kind = hessian> stats <samples = {tokens}, hessian = dense_resource<h> : tensor<{cols}x{cols}xf64>> : tensor<?x{cols}xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x{cols}xf32>, tensor<{rows}x{cols}xf32> -> tensor<?x{rows}xf32> loc("fc")
  %r = arith.negf %y : tensor<?x{rows}xf32>
  return %r : tensor<?x{rows}xf32>
}}
{{-#
  dialect_resources: {{
    builtin: {{
      w: "{blob(W, 4)}",
      h: "{blob(H, 8)}"
    }}
  }}
#-}}
""")
import os
os.replace(path + ".tmp", path)
PY
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "generated in %.1f s\n", e - s }' >&2
fi
options="bits=4 granularity=per-group group-size=128 $*"
"$qopt" "$input" -o /dev/null --mlir-timing --mlir-timing-display=list \
  --pass-pipeline="builtin.module(qopt-quantize-weights-gptq{$options})" \
  2>"$dir/timing.txt"
pass=$(grep -m1 "%)  QuantizeWeightsGPTQ" "$dir/timing.txt" | awk '{print $1}')
parse=$(grep -m1 "%)  Parser" "$dir/timing.txt" | awk '{print $1}')
total=$(grep -m1 "%)  Total" "$dir/timing.txt" | awk '{print $1}')
printf 'qopt gptq %dx%d (%s): %.2f s (parse %.2f s, qopt total %.2f s, %s cores)\n' \
  "$rows" "$cols" "$options" "$pass" "$parse" "$total" "$(nproc)"
