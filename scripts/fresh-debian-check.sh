#!/usr/bin/env bash
# Runs the README's commands on a fresh Debian 12, the way a new user would:
# debootstraps a minimal bookworm root, gives it the host's Debian apt
# sources, copies in a clean clone of the committed HEAD and runs
# scripts/test.sh, then scripts/run.sh, inside it (chroot). A package that
# was installed by hand where CI passed, or any other state of this machine
# the scripts silently rely on (build/, ccache, node_modules, npm's cache),
# cannot leak in. Run it before closing an issue that touches dependencies.
#
# Usage: scripts/fresh-debian-check.sh [OPTIONS] [DIR]
#   DIR           the new root: missing or empty (default: mktemp under /tmp);
#                 removed at the end unless --keep
#   --test-only   run scripts/test.sh only
#   --run-only    run scripts/run.sh only
#   --deps-only   only install_deps, configure (cmake), ensure_ort and
#                 ensure_tokenizers: proves apt, the package list and npm in
#                 minutes, builds nothing
#   --uncommitted also copy uncommitted changes to tracked files and untracked,
#                 non-ignored files (never ignored ones: build/, node_modules)
#   --keep        keep the root (e.g. to chroot into it afterwards)
# Needs root, debootstrap, git, python3, and the Debian and npm registries.
# Prints a table of wall times at the end; exits 1 if a command failed.
set -euo pipefail

die() { printf 'fresh-debian-check: %s\n' "$*" >&2; exit 2; }
say() { printf '\033[1;34m### %s\033[0m\n' "$*" >&2; }

mode=both keep=0 uncommitted=0 root=""
for arg in "$@"; do
  case $arg in
    --test-only) mode="test" ;;
    --run-only) mode=run ;;
    --deps-only) mode=deps ;;
    --keep) keep=1 ;;
    --uncommitted) uncommitted=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) [ -z "$root" ] || die "one DIR only"; root=$arg ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
for tool in debootstrap git python3 mount chroot; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install $tool)"
done
repo="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"

if [ -z "$root" ]; then
  root="$(mktemp -d /tmp/qopt-fresh.XXXXXX)"
else
  [ ! -e "$root" ] || [ -z "$(ls -A "$root")" ] || die "$root is not empty"
  mkdir -p "$root"
  root="$(cd "$root" && pwd)"
fi
[ "$root" != / ] || die "refusing / as the root"
work="$(mktemp -d /tmp/qopt-fresh-work.XXXXXX)"  # times, sources; small

mounted() {  # the mount points at or under $root, deepest first
  awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r
}
cleanup() {
  local status=$? m
  set +e
  # Unmount before anything else: the root holds bind mounts of the host's
  # /dev and /sys, which a removal must never reach.
  for m in dev sys proc; do
    mountpoint -q "$root/$m" && { umount -R "$root/$m" || umount -Rl "$root/$m"; }
  done
  if [ -n "$(mounted)" ]; then
    printf 'fresh-debian-check: still mounted, %s left in place:\n%s\n' \
      "$root" "$(mounted)" >&2
  elif [ "$keep" -eq 1 ]; then
    say "kept the root: $root (chroot $root /bin/bash; mount /proc etc. first)"
  else
    rm -rf --one-file-system "$root"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The table: one "phase<TAB>seconds<TAB>note" row per line.
table="$work/table"
: >"$table"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$table"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
t_all=$EPOCHREALTIME

# The host's Debian sources, bookworm, bookworm-updates and
# bookworm-security only: other repositories (NodeSource, vendors', backports)
# are exactly what a fresh machine does not have. deb822 .sources and
# one-line .list files both, as written on the host (mirror, Signed-By).
say "apt sources from the host"
python3 - "$work" <<'PY'
import glob, os, re, sys
out, keep = sys.argv[1], {"bookworm", "bookworm-updates", "bookworm-security"}
stanzas, lines, seen, mirror = [], [], set(), "http://deb.debian.org/debian"
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for block in re.split(r"\n\s*\n", open(path).read()):
        fields = {}  # in file order; continuation lines (inline keys) kept
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and fields:
                fields[list(fields)[-1]] += "\n" + line
            else:
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
        if fields.get("Enabled", "yes").lower() == "no":
            continue
        suites = [s for s in fields.get("Suites", "").split() if s in keep]
        if not suites:
            continue
        if "bookworm" in suites:
            mirror = fields["URIs"].split()[0]
        fields["Suites"] = " ".join(suites)
        seen.update(suites)
        stanzas.append("".join(f"{k}: {v}\n" for k, v in fields.items()))
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    for line in open(path) if os.path.exists(path) else []:
        words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
        if len(words) >= 3 and words[0] in ("deb", "deb-src") and words[2] in keep:
            if words[2] == "bookworm":
                mirror = words[1]
            seen.add(words[2])
            lines.append(line)
if seen != keep:
    sys.exit(f"the host's apt sources lack {sorted(keep - seen)}")
if stanzas:
    open(os.path.join(out, "debian.sources"), "w").write("\n".join(stanzas))
if lines:
    open(os.path.join(out, "debian.list"), "w").write("".join(lines))
open(os.path.join(out, "mirror"), "w").write(mirror)
PY
mirror="$(cat "$work/mirror")"

say "debootstrap --variant=minbase bookworm $root $mirror"
t=$EPOCHREALTIME
debootstrap --variant=minbase bookworm "$root" "$mirror"
row debootstrap "$(since "$t")" "minbase, $(du -sh --one-file-system "$root" | cut -f1)"

t=$EPOCHREALTIME
rm -f "$root/etc/apt/sources.list"
sources=("$work"/debian.*)
cp "${sources[@]}" "$root/etc/apt/sources.list.d/"
# A Signed-By keyring the root lacks (debian-archive-keyring is in minbase).
{ grep -ho 'signed-by=[^] ]*\|^Signed-By: */[^ ]*' "${sources[@]}" || true; } |
  sed 's/.*[=:] *//' | sort -u | while IFS= read -r key; do
    [ -e "$root$key" ] || install -D -m 644 "$key" "$root$key"
  done
# The network's settings, not the machine's: DNS, and local trust anchors
# (a TLS-intercepting egress proxy's CA), which ca-certificates' postinst
# adds to the root's store when install_deps brings it in.
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  install -D -m 644 -t "$root/usr/local/share/ca-certificates" \
    /usr/local/share/ca-certificates/*.crt
fi
# No service may start from a package's postinst inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# A clean clone (objects copied, not hard-linked): only what is committed,
# plus with --uncommitted the working tree's source changes.
src=/root/qopt
git clone --quiet --no-local "$repo" "$root$src"
head="$(git -C "$root$src" log -1 --format='%h %s')"
if [ "$uncommitted" -eq 1 ]; then
  git -C "$repo" diff --binary HEAD | git -C "$root$src" apply --allow-empty
  git -C "$repo" ls-files -z --others --exclude-standard |
    (cd "$repo" && xargs -0r cp --parents -t "$root$src")
  head="$head + uncommitted"
fi

mount -t proc proc "$root/proc"
for m in sys dev; do
  mount --rbind "/$m" "$root/$m"
  mount --make-rslave "$root/$m"  # so unmounting them never reaches the host
done
row "setup" "$(since "$t")" "sources, resolv.conf, clone, mounts"

# Only the network's variables pass into the chroot (a proxy, an extra CA
# for node); nothing of the host's build setup (CCACHE_*, QOPT_BUILD, npm's).
net_env=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
    NODE_EXTRA_CA_CERTS; do
  [ -z "${!var:-}" ] || net_env+=("$var=${!var}")
done

# Runs a command in the chroot with a clean environment, echoing its output and
# noting when each of lib.sh's "==> " log lines appears. Then adds a row per
# phase: install (apt), build (configure, ninja), npm (onnxruntime-node),
# test (lit), main job (compile, evaluate).
in_chroot() {  # NAME COMMAND
  local name=$1 cmd=$2 marks="$work/marks.$1" t0=$EPOCHREALTIME status
  : >"$marks"
  say "$name, in the chroot: $cmd"
  set +e
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "${net_env[@]}" /bin/bash -c "cd $src && $cmd" 2>&1 |
    while IFS= read -r line || [ -n "$line" ]; do
      printf '%s\n' "$line"
      case $line in
        *$'\033[1m==> '*)
          line=${line#*==> }
          printf '%s\t%s\n' "$EPOCHREALTIME" "${line%$'\033'*}" >>"$marks" ;;
      esac
    done
  status=${PIPESTATUS[0]}
  set -e
  awk -F'\t' -v name="$name" -v t0="$t0" -v t1="$EPOCHREALTIME" '
    function phase(m) {
      if (m ~ /^(installing:|dependencies)/) return "install"
      if (m ~ /^(configuring|building)/) return "build"
      if (m ~ /onnxruntime/) return "npm"
      if (m ~ /^running/) return "test"
      if (m ~ /^(compiling|quantizing|evaluating)/) return "main job"
      return "other"
    }
    { t[NR] = $1; p[NR] = phase($2) }
    END {
      t[NR + 1] = t1; p[0] = "install"; t[0] = t0
      for (i = 0; i <= NR; i++) {
        if (!(p[i] in sum)) order[++n] = p[i]
        sum[p[i]] += t[i + 1] - t[i]
      }
      for (i = 1; i <= n; i++)
        printf "%s: %s\t%.1f\t\n", name, order[i], sum[order[i]]
    }' "$marks" >>"$table"
  row "$name" "$(since "$t0")" "total, exit $status"
  return "$status"
}

failed=()
case $mode in
  deps)
    in_chroot deps 'source scripts/lib.sh && install_deps && configure_build && ensure_ort && ensure_tokenizers' \
      || failed+=(deps) ;;
  *)
    if [ "$mode" != run ]; then in_chroot test.sh scripts/test.sh || failed+=(test.sh); fi
    if [ "$mode" != test ]; then in_chroot run.sh scripts/run.sh || failed+=(run.sh); fi ;;
esac
row total "$(since "$t_all")" "$(nproc) cores"

printf '\nfresh Debian 12 check of %s (%s)\n' "$head" "$(date -u +%F)"
awk -F'\t' '{ printf "  %-24s %8s s  %s\n", $1, $2, $3 }' "$table"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[*]}"
  exit 1
fi
echo "PASS"
