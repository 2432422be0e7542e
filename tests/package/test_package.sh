#!/usr/bin/env bash
# The Debian package, as a user gets it: builds it (tools/package), runs lintian, installs it
# with apt-get, checks what it ships (binary, man page, completion, example config and
# systemd units), then mounts the installed /usr/bin/dbbackupfs against cloudsim with
# `mount -t fuse.dbbackupfs` and with an fstab line (`mount -T FILE MNT`), walks, unmounts,
# and removes the package again so that it shadows nothing.
#
#   tests/package/test_package.sh [DEB]    (without DEB, builds one)
#
# Needs root (or sudo -n) for apt-get and mount; exits 77 without FUSE or root.
# CLOUDSIM names the simulator (default: build/tests/cloudsim/cloudsim).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }

[ -c /dev/fuse ] || skip "no /dev/fuse"
if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif sudo -n true 2>/dev/null; then
  as_root() { sudo -n "$@"; }
else
  skip "needs root or passwordless sudo (apt-get install, mount)"
fi
cloudsim=${CLOUDSIM:-$root/build/tests/cloudsim/cloudsim}
[ -x "$cloudsim" ] || fail "no simulator at $cloudsim (build first: meson setup build && ninja -C build)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dbbackupfs-pkgtest.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt"
sim=
# From the mount table: stat() of a dead FUSE mount fails, of a wedged one hangs.
is_mounted() { awk -v m="$mnt" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
# Waits for dpkg's lock: other sessions on the machine may be installing too.
apt_get() { as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"; }
cleanup() {
  local rc=$?
  set +e
  if is_mounted; then as_root umount "$mnt" || as_root umount -l "$mnt"; fi
  [ -n "$sim" ] && kill "$sim" 2>/dev/null && wait "$sim" 2>/dev/null
  if dpkg-query -W -f='${Status}' dbbackupfs 2>/dev/null | grep -q "install ok installed"; then
    apt_get purge -y -qq dbbackupfs >/dev/null
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

. tools/deps.sh
dbb_install_package_deps

# --- build --------------------------------------------------------------------------
deb=${1:-}
if [ -z "$deb" ]; then
  start=$SECONDS
  deb=$(tools/package --out "$tmp/out" | tail -n 1)
  echo "tools/package: $((SECONDS - start)) s"
fi
[ -f "$deb" ] || fail "no package at $deb"
version=$(dpkg-parsechangelog -S Version)
case $(basename "$deb") in
"dbbackupfs_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb") ok "package $(basename "$deb")" ;;
*) fail "package named $(basename "$deb"), not dbbackupfs_${version}_<arch>.deb" ;;
esac

# --- lintian: no errors ---------------------------------------------------------------
lintian_rc=0
lintian_out=$(lintian --pedantic -I --fail-on error "$deb" 2>&1) || lintian_rc=$?
lintian_out=$(grep -v '^running with root privileges' <<<"$lintian_out" || true)
[ -z "$lintian_out" ] || printf '%s\n' "$lintian_out"
n_err=$(grep -c '^E: ' <<<"$lintian_out" || true)
n_warn=$(grep -c '^W: ' <<<"$lintian_out" || true)
n_other=$(grep -c '^[IPX]: ' <<<"$lintian_out" || true)
echo "lintian: $n_err errors, $n_warn warnings, $n_other info/pedantic/experimental"
[ "$n_err" -eq 0 ] && [ $lintian_rc -eq 0 ] || fail "lintian reports errors (status $lintian_rc)"

# --- what the package ships -----------------------------------------------------------
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/dbbackupfs ./usr/share/man/man1/dbbackupfs.1.gz \
  ./usr/share/bash-completion/completions/dbbackupfs \
  ./usr/share/doc/dbbackupfs/examples/dbbackupfs.conf \
  ./usr/share/doc/dbbackupfs/examples/mnt-backups.mount \
  ./usr/share/doc/dbbackupfs/examples/mnt-backups.automount \
  ./usr/share/doc/dbbackupfs/copyright; do
  grep -qxF "$f" <<<"$contents" || fail "package lacks $f"
done
! grep -q cloudsim <<<"$contents" || fail "cloudsim is in the package"
ok "package contents"

# --- install (idempotent: a dbbackupfs left installed by an earlier run is replaced) -----
if dpkg-query -W -f='${Status}' dbbackupfs 2>/dev/null | grep -q "install ok installed"; then
  echo "note: a dbbackupfs package is installed already; replacing it (removed at the end)"
  apt_get purge -y -qq dbbackupfs >/dev/null
fi
start=$SECONDS
(cd "$(dirname "$deb")" && apt_get install -y -qq --no-install-recommends "./$(basename "$deb")") \
  >"$tmp/apt.log" 2>&1 || fail "apt-get install ./$(basename "$deb"): $(cat "$tmp/apt.log")"
echo "apt-get install: $((SECONDS - start)) s"
[ "$(dpkg-query -W -f='${Version}' dbbackupfs)" = "$version" ] || fail "installed version"
[ "$(/usr/bin/dbbackupfs --version | sed -n 1p)" = "dbbackupfs $version" ] || fail "dbbackupfs --version"
[ "$(man -w dbbackupfs)" = /usr/share/man/man1/dbbackupfs.1.gz ] || fail "man -w dbbackupfs"
ok "installed $version: /usr/bin/dbbackupfs, man dbbackupfs"

# The man page: each section once (a merge once left a second copy of half the page), and
# services= gives the default order that --help gives.
man_src=$(zcat /usr/share/man/man1/dbbackupfs.1.gz)
dup_sections=$(grep -E '^\.S[HS] ' <<<"$man_src" | sort | uniq -d)
[ -z "$dup_sections" ] || fail "man page sections given twice: $dup_sections"
man_services=$(sed -n '/^\.BI services= /,/^\.TP/p' <<<"$man_src" | sed -n 's/^\.BR \([a-z]*:[a-z:]*\) \.$/\1/p')
help_services=$(/usr/bin/dbbackupfs --help | sed -n 's/.*services=.*(default: \([a-z:]*\)).*/\1/p')
[ -n "$help_services" ] && [ "$man_services" = "$help_services" ] ||
  fail "services= default: man page '$man_services', --help '$help_services'"
ok "man page: no section twice; services= default $man_services as in --help"

# --- example systemd units: valid, and their man: reference resolves -------------------
examples=/usr/share/doc/dbbackupfs/examples
mkdir "$tmp/units"
cp "$examples/mnt-backups.mount" "$examples/mnt-backups.automount" "$tmp/units/"
systemd-analyze verify "$tmp/units/mnt-backups.mount" "$tmp/units/mnt-backups.automount" ||
  fail "systemd-analyze verify of the example units"
grep -qx 'Type=fuse.dbbackupfs' "$tmp/units/mnt-backups.mount" || fail "mount unit type"
grep -q '^Options=.*nosuid,nodev' "$tmp/units/mnt-backups.mount" || fail "mount unit nosuid,nodev"
ok "systemd-analyze verify mnt-backups.mount mnt-backups.automount"

# --- example config: every option of --help, every group of DESIGN, no secret set ------
conf_example=$examples/dbbackupfs.conf
own=$(/usr/bin/dbbackupfs --help | sed -n '/^dbbackupfs options:/,/^$/p' |
  grep -oE -- '-o [a-z_]+=' | sed 's/^-o //; s/=$//' | grep -vxE 'config|uid|gid')
[ -n "$own" ] || fail "no options found in --help"
for o in $own metrics metrics_interval log max_records max_listing_bytes allow_insecure_http; do
  grep -qE "^#?$o = " "$conf_example" || fail "example config lacks $o"
done
for k in ak sk security_token domain_id token token_file user domain password_file; do
  grep -qE "^#$k = " "$conf_example" || fail "example config lacks [auth] $k"
done
for g in '[dbbackupfs]' '[auth]' '#[project ' '#[service '; do
  grep -qF "$g" "$conf_example" || fail "example config lacks $g"
done
! grep -qE '^(sk|token|security_token|password_file|token_file) *=' "$conf_example" ||
  fail "example config sets a secret"
ok "example config covers $(wc -w <<<"$own") --help options, [auth], [project], [service]"

# --- bash completion: loaded by bash-completion, completes options and -o names --------
bash --norc --noprofile <<'EOF' || fail "bash completion"
set -u
. /usr/share/bash-completion/bash_completion
_completion_loader dbbackupfs 2>/dev/null || __load_completion dbbackupfs
[ "$(complete -p dbbackupfs)" = "complete -F _dbbackupfs dbbackupfs" ] || { complete -p dbbackupfs; exit 1; }
# Drives the function as bash does: COMP_WORDS split at blanks and at = and :.
t() {
  local line=$1 want=$2; shift 2
  COMP_LINE=$line COMP_POINT=${#line} COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
  _dbbackupfs
  local got; got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || { echo "completing '$line': got '$got', want '$want'"; exit 1; }
}
t 'dbbackupfs --v' '--version ' dbbackupfs --v
t 'dbbackupfs -' '--help --version -V -d -f -h -o -s ' dbbackupfs -
t 'dbbackupfs -o tt' 'ttl= ' dbbackupfs -o tt
t 'dbbackupfs -o ttl=5,negative' '5,negative_ttl= ' dbbackupfs -o ttl = 5,negative
t 'dbbackupfs -o max_c' 'max_conns= ' dbbackupfs -o max_c
t 'dbbackupfs -o allow_o' 'allow_other ' dbbackupfs -o allow_o
t 'dbbackupfs -o config=/usr/share/doc/dbbackupfs/examples/dbbackupfs.c' \
  '/usr/share/doc/dbbackupfs/examples/dbbackupfs.conf ' \
  dbbackupfs -o config = /usr/share/doc/dbbackupfs/examples/dbbackupfs.c
t 'dbbackupfs -o services=ddm:geminid' 'geminidb ' dbbackupfs -o services = ddm : geminid
t 'dbbackupfs /usr/shar' '/usr/share ' dbbackupfs /usr/shar
# Every own option of --help is offered after -o.
COMP_LINE='dbbackupfs -o ' COMP_POINT=14 COMP_WORDS=(dbbackupfs -o '') COMP_CWORD=2
_dbbackupfs
for o in $(dbbackupfs --help | grep -oE -- '-o [a-z_]+=' | sed 's/^-o //'); do
  grep -qxF -- "$o" <<<"$(printf '%s\n' "${COMPREPLY[@]}")" || { echo "-o $o not offered"; exit 1; }
done
EOF
ok "bash completion: complete -p and the function"

# And through bash's own completion engine: an interactive bash on a pty with
# bash-completion loaded, as a user has it, typing TAB.
python3 - <<'EOF' || fail "bash completion, interactive"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], dict(os.environ, PS1="$ ", TERM="dumb"))
def read_until(want, timeout=10):
    out, end = b"", time.monotonic() + timeout
    while time.monotonic() < end and want not in out:
        if select.select([fd], [], [], 0.1)[0]:
            out += os.read(fd, 4096)
    return out
os.write(fd, b". /usr/share/bash-completion/bash_completion; echo READY\n")
read_until(b"READY\r\n$ ")
for typed, want in [(b"dbbackupfs -o max_st", b"dbbackupfs -o max_stale="),
                    (b"dbbackupfs -o ttl=5,negat", b"dbbackupfs -o ttl=5,negative_ttl="),
                    (b"dbbackupfs --vers", b"dbbackupfs --version ")]:
    os.write(fd, typed + b"\t")
    out = read_until(want, 5)
    os.write(fd, b"\x15")  # ^U: drop the line
    if want not in out:
        sys.exit(f"typed {typed!r} + TAB: got {out!r}, want {want!r}")
    print("ok: completes", typed.decode(), "->", want.decode())
os.write(fd, b"exit\n")
EOF

# --- mount the installed binary against cloudsim -------------------------------------
: >"$tmp/cloudsim.log" # before the background job opens it: sed reads it at once
"$cloudsim" --port 0 --seed 8 --projects 2 --instances 2 --backups 3 --no-extras \
  >"$tmp/cloudsim.log" 2>&1 &
sim=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^cloudsim listening on \(http[^ ]*\).*/\1/p' "$tmp/cloudsim.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || fail "cloudsim did not start: $(cat "$tmp/cloudsim.log")"
fleet=$(curl -fsS "$url/_sim/fleet")
expected=$(jq '[.projects[] | .[] | objects | select(has("backups")) |
  ((.backups + (.table_backups // [])) | map(.id) | unique | length)] | add' <<<"$fleet")
conf=$tmp/dbbackupfs.conf
(
  umask 077
  printf '[dbbackupfs]\nendpoint = %s/{service}\nttl = 300\n\n[auth]\nak = %s\nsk = %s\n' \
    "$url" "$(jq -r .credentials.ak <<<"$fleet")" "$(jq -r .credentials.sk <<<"$fleet")" >"$conf"
)

# The daemon serving $mnt (its exe and argv), once mounted.
daemon_pid() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/dbbackupfs ] || continue
    [[ " $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" == *" $mnt "* ]] && { echo "${p#/proc/}"; return; }
  done
}
walk_and_unmount() {
  local how=$1 line pid n f flags
  line=$(awk -v m="$mnt" '$5 == m' /proc/self/mountinfo)
  [ -n "$line" ] || fail "$how: not mounted"
  grep -q ' - fuse.dbbackupfs dbbackupfs ' <<<"$line" || fail "$how: mount entry: $line"
  flags=$(awk '{print $6}' <<<"$line" | tr , '\n')
  for f in ro nosuid nodev ${2:-}; do
    grep -qx "$f" <<<"$flags" || fail "$how: not $f: $line"
  done
  pid=$(daemon_pid)
  [ -n "$pid" ] || fail "$how: no /usr/bin/dbbackupfs process serves $mnt"
  n=$(as_root find "$mnt" -type f -name '*.json' | wc -l)
  [ "$n" -eq "$expected" ] || fail "$how: walked $n backup files, the fleet has $expected"
  as_root find "$mnt" -type f -name '*.json' -print0 | as_root xargs -0 jq -e .id >/dev/null ||
    fail "$how: a backup file is not JSON with an id"
  # dbbackupfs(1): directories have st_size 0, so du --apparent-size is the files' sum.
  local du_b files_b
  du_b=$(as_root du -sb "$mnt" | cut -f1)
  files_b=$(as_root find "$mnt" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')
  [ "$du_b" -eq "$files_b" ] || fail "$how: du -sb says $du_b, the files hold $files_b bytes"
  as_root umount "$mnt" || fail "$how: umount"
  for _ in $(seq 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  [ ! -d "/proc/$pid" ] || fail "$how: dbbackupfs (pid $pid) still running after umount"
  ! is_mounted || fail "$how: still mounted"
  ok "$how: $n files walked (as in the fleet), unmounted, daemon gone"
}

# mount(8) runs mount.fuse3, which runs "dbbackupfs" through sh without a PATH of its own:
# it finds /usr/bin/dbbackupfs only because the package puts it there.
as_root mount -t fuse.dbbackupfs -o "ro,nosuid,nodev,config=$conf" dbbackupfs "$mnt" ||
  fail "mount -t fuse.dbbackupfs"
walk_and_unmount "mount -t fuse.dbbackupfs"

# The fstab line takes the example unit's options, so they are known to work.
unit_opts=$(sed -n 's/^Options=//p' "$tmp/units/mnt-backups.mount")
[[ $unit_opts == *config=/etc/dbbackupfs.conf* ]] || fail "mount unit options: $unit_opts"
printf '# written by tests/package/test_package.sh\ndbbackupfs  %s  fuse.dbbackupfs  %s  0  0\n' \
  "$mnt" "${unit_opts/config=\/etc\/dbbackupfs.conf/config=$conf}" >"$tmp/fstab"
as_root mount -T "$tmp/fstab" "$mnt" || fail "mount -T $tmp/fstab $mnt"
walk_and_unmount "mount -T fstab (the example unit's options)" noexec

echo "PASS: package test"
