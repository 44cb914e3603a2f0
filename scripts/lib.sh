# Shared by the scripts: install what is missing, configure, build.
# Sourced, not run.

QOPT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QOPT_BUILD="${QOPT_BUILD:-$QOPT_ROOT/build}"
LLVM_BIN=/usr/lib/llvm-22/bin

# Debian 12 packages qopt needs to build and test. LLVM/MLIR 22 come from
# bookworm's security/updates suites.
QOPT_PACKAGES=(
  cmake ninja-build ccache python3 git
  clang-22 lld-22 clang-format-22
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_deps() {
  local missing=()
  for pkg in "${QOPT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
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

configure_and_build() {
  if [ ! -f "$QOPT_BUILD/build.ninja" ]; then
    log "configuring $QOPT_BUILD"
    cmake -G Ninja -S "$QOPT_ROOT" -B "$QOPT_BUILD" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DLLVM_USE_LINKER=lld -DQOPT_WERROR=ON
  fi
  log "building"
  cmake --build "$QOPT_BUILD"
}
