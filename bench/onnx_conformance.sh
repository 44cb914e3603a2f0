#!/usr/bin/env bash
# All ONNX backend node tests of Debian's libonnx-testdata (932 cases),
# compiled to artifacts by qopt-compile and run by qrun (the optimizing CPU
# path), compared with ONNX's expected outputs (rtol 1e-3, atol 1e-7).
# Prints the totals, the pass rate over the cases whose ops are all in the
# LLM op list of the import issue and over the cases whose ops qopt-import
# claims (qopt-import --list-ops), and the reasons behind the rest.
#
# usage: bench/onnx_conformance.sh [BUILD_DIR] [OUT.json]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
out="${2:-$build/onnx-conformance.json}"
"$build/bin/qrun" conformance /usr/share/libonnx-testdata/data/node \
  --json "$out" 2>"$out.log" || true
"$build/bin/qopt-import" --list-ops >"$out.ops"
python3 - "$out" "$out.ops" <<'PY'
import collections, json, sys
data = json.load(open(sys.argv[1]))
claimed = set(open(sys.argv[2]).read().split())
llm = set("""Add Sub Mul Div Pow Sqrt Reciprocal Neg Exp Log Tanh Sigmoid Erf Cos
Sin Relu Gelu Softmax LogSoftmax MatMul Gemm ReduceMean ReduceSum ReduceMax
LayerNormalization Cast Reshape Transpose Concat Slice Split Gather GatherND
GatherElements Unsqueeze Squeeze Shape Expand Where Equal Less LessOrEqual
Greater GreaterOrEqual And Or Not IsNaN Max Min Range Trilu CumSum
ConstantOfShape Constant Identity Dropout""".split())
cases = data["cases"]
print(f'{data["passed"]} passed, {data["failed"]} failed, '
      f'{data["unsupported"]} unsupported (of {len(cases)})')
for title, ops in (("LLM op list", llm), ("claimed ops", claimed)):
    sel = {n: c for n, c in cases.items() if c["ops"] and set(c["ops"]) <= ops}
    count = collections.Counter(c["status"] for c in sel.values())
    print(f'{title}: {len(sel)} cases, {count["passed"]} passed '
          f'({100 * count["passed"] / max(len(sel), 1):.1f}%), '
          f'{count["failed"]} failed, {count["unsupported"]} unsupported')
    for n, c in sorted(sel.items()):
        if c["status"] != "passed":
            print(f'  {n}: {c["status"]}: {c["reason"][:150]}')
reasons = collections.Counter()
for n, c in cases.items():
    if c["status"] == "unsupported":
        key = ("ops " + ", ".join(c["unsupported_ops"])
               if c.get("unsupported_ops") else c["reason"][:90])
        reasons[key] += 1
print("\nunsupported, by reason (cases):")
for reason, n in reasons.most_common(40):
    print(f'  {n:4d}  {reason}')
PY
