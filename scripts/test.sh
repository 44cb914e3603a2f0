#!/usr/bin/env bash
# The whole test suite: installs what is missing (apt-get), builds, runs every
# lit test (dialect, passes, pipelines, end-to-end runs, plugins, install).
# Usage: scripts/test.sh [extra lit arguments, e.g. a test path filter]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_deps
configure_and_build

log "running the lit suite"
results="$QOPT_BUILD/test/results.json"
set +e
"$LLVM_BIN/lit" -sv --order=lexical --output "$results" "$QOPT_BUILD/test" "$@"
status=$?
set -e

# One closing line that any CI reads the same way.
python3 - "$results" <<'PY'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
count = lambda *codes: sum(t["code"] in codes for t in tests)
passed = count("PASS", "XFAIL")
failed = count("FAIL", "XPASS", "UNRESOLVED", "TIMEOUT")
skipped = count("UNSUPPORTED", "SKIPPED", "EXCLUDED")
print(f"qopt: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
