#!/usr/bin/env bash
# Runs all ONNX backend node tests of Debian's libonnx-testdata through
# qopt-import + qopt's lowering + mlir-runner (two workers) and writes a JSON
# summary {"passed", "failed", "unsupported", "cases"} plus a table of the
# reasons behind unsupported cases.
#
# usage: bench/onnx_node_tests.sh [BUILD_DIR] [OUT.json]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
out="${2:-$build/onnx-node-tests.json}"
data=/usr/share/libonnx-testdata/data/node
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ls -d "$data"/*/ > "$work/cases"
split -n l/2 "$work/cases" "$work/part_"
for part in "$work"/part_*; do
  python3 "$root/test/Import/Conformance/run_node_tests.py" \
    --bin "$build/bin" --runner /usr/lib/llvm-22/bin/mlir-runner \
    --libdir /usr/lib/llvm-22/lib --json "$part.json" $(cat "$part") \
    > "$part.log" 2>&1 || true &
done
wait
python3 - "$out" "$work"/part_*.json <<'PY'
import collections, json, re, sys
cases = {}
for path in sys.argv[2:]:
    cases.update(json.load(open(path))["cases"])
count = collections.Counter(c["status"] for c in cases.values())
summary = {"passed": count["passed"], "failed": count["fail"],
           "unsupported": count["unsupported"], "cases": cases}
json.dump(summary, open(sys.argv[1], "w"), indent=1, sort_keys=True)
print(f"{len(cases)} cases: {count['passed']} passed, {count['fail']} failed, "
      f"{count['unsupported']} unsupported")
reasons = collections.Counter()
for c in cases.values():
    if c["status"] != "unsupported":
        continue
    r = c["reason"]
    m = re.match(r"ops: (.*)", r)
    if m:
        for op in m.group(1).split(", "):
            reasons["op " + op] += 1
    else:
        reasons[re.sub(r"^.*?error: (node \S+ )?", "", r)[:90]] += 1
print("\nunsupported, by reason (top 25):")
for reason, n in reasons.most_common(25):
    print(f"  {n:4d}  {reason}")
failed = [k for k, c in cases.items() if c["status"] == "fail"]
if failed:
    print("\nfailed:")
    for k in sorted(failed):
        print(f"  {k}: {cases[k]['reason']}")
PY
