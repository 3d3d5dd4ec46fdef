#!/usr/bin/env bash
# Proves the README's `make test` on a fresh Debian 12: a debootstrap chroot holding only python3,
# python3-venv, make, git and ca-certificates, a clone of this checkout's committed HEAD inside it,
# and `make test` run there exactly as a newcomer would, as root.
#
#   scripts/fresh-machine.sh [--keep]      (root; also `make fresh-machine`)
#
# The chroot gets this host's apt sources, CA certificates, pip settings and resolver, so it
# reaches the same package registries; nothing else of the host. It lives in var/fresh-machine
# (ARROW_FRESH_DIR sets another place) and is removed at the end unless --keep. At the end it
# prints make test's pytest summaries and fails when make test failed, when a process of the run
# is still alive, or when something was written to the home directory outside the checkout.
# The full log is kept in var/fresh-machine.log.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${ARROW_FRESH_DIR:-$repo/var/fresh-machine}
log=$repo/var/fresh-machine.log
mirror=${ARROW_MIRROR:-http://deb.debian.org/debian}
keep=0
[ "${1:-}" = --keep ] && keep=1

say() { printf 'fresh-machine: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot, mounts)"

# Processes whose root directory is the chroot: what make test started and left behind.
chroot_pids() {
  local link
  for link in /proc/[0-9]*/root; do
    [ "$(readlink "$link" 2>/dev/null)" = "$root" ] && { link=${link%/root}; echo "${link#/proc/}"; }
  done
  return 0
}

unmount_all() {
  # Deepest first; network namespaces made inside show up here as mounts too.
  awk -v r="$root" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo |
    sort -r | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
}

cleanup() {
  local pids
  pids=$(chroot_pids)
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  unmount_all
  if [ "$keep" = 0 ]; then rm -rf --one-file-system "$root"; else say "kept $root"; fi
}

unmount_all
rm -rf --one-file-system "$root"
mkdir -p "$root" "$(dirname "$log")"
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$repo/scripts/system-packages.sh" fresh-machine
started=$(date +%s)
say "debootstrap bookworm into $root (from $mirror)"
debootstrap --variant=minbase --include=python3,python3-venv,make,git,ca-certificates \
  bookworm "$root" "$mirror" >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "debootstrap failed"; }

# Only what lets the chroot reach the registries this host reaches.
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null &&
  rm -f "$root/etc/apt/sources.list"
cp /etc/apt/apt.conf.d/99* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$root" update-ca-certificates >/dev/null 2>&1
[ ! -f /etc/pip.conf ] || cp /etc/pip.conf "$root/etc/pip.conf"

# On a real machine / is a mount point; `ip netns` (the network lab) needs it to be one.
mount --bind "$root" "$root" && mount --make-private "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount -t tmpfs tmpfs "$root/run"

git clone --quiet "$repo" "$root/root/arrow"
say "cloned $(git -C "$repo" rev-parse --short HEAD) into /root/arrow; running make test"
home_before=$(chroot "$root" find /root -mindepth 1 -maxdepth 3 -not -path '/root/arrow*' | sort)

status=0
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${PIP_CERT:+PIP_CERT=$PIP_CERT} \
  bash -c 'cd /root/arrow && make test' >>"$log" 2>&1 || status=$?

echo
grep -E '^(=+ )?[0-9]+ (passed|failed).* in [0-9.]+s' "$log" || true
grep -E '^(FAILED|ERROR) ' "$log" | head -n 30 || true
say "make test exited $status after $(( $(date +%s) - started )) s (full log: $log)"

problems=0
left=$(chroot_pids)
if [ -n "$left" ]; then
  say "still running after make test:"; ps -o pid,args -p "${left//$'\n'/,}" >&2 || true
  problems=1
fi
# What the run wrote to the home directory. Debian's packages may create something there while
# apt-get runs (an empty /root/.ssh was seen); that is told apart by its time, and only said.
apt_end=$(stat -c %Y "$root/var/log/apt/history.log" 2>/dev/null || echo 0)
home_after=$(chroot "$root" find /root -mindepth 1 -maxdepth 3 -not -path '/root/arrow*' | sort)
while read -r path; do
  [ -n "$path" ] || continue
  if [ "$(stat -c %Y "$root$path")" -le "$apt_end" ]; then
    say "made while Debian packages were installed (not by the tests): $path"
  else
    say "written to the home directory outside the checkout: $path"
    problems=1
  fi
done < <(comm -13 <(echo "$home_before") <(echo "$home_after"))
if grep -E '^(=+ )?[0-9]+ (passed|failed).* in [0-9.]+s' "$log" | grep -q skipped; then
  say "a test was skipped"; problems=1
fi
[ "$status" -eq 0 ] && [ "$problems" -eq 0 ]
