#!/usr/bin/env bash
# Makes sure the Debian packages a make target needs are installed (requirements/system.txt).
#
#   scripts/system-packages.sh TARGET     test, image or bench
#
# Nothing missing: prints nothing, exits 0. Missing and root: `apt-get update`, then installs them
# without recommends. Missing and not root: prints the exact apt-get line and exits 1.
#
# Installing never starts or enables a service on the developer's machine: while apt runs, a
# policy-rc.d forbids starting services; afterwards every systemd unit and SysV init script the
# new packages ship is disabled; and PostgreSQL's packaged cluster is never created
# (createcluster.d drop-in). The tests start their own servers (scripts/testdb.sh, tests/e2e)
# and stop them.
set -euo pipefail

target="${1:?usage: $0 TARGET (test, image or bench)}"
list="$(dirname "$0")/../requirements/system.txt"

wanted=()
while read -r package targets; do
  case "$package" in '' | '#'*) continue ;; esac
  [[ " $targets " == *" $target "* ]] && wanted+=("$package")
done <"$list"
[ ${#wanted[@]} -gt 0 ] || { echo "$0: no package in $list names target '$target'" >&2; exit 2; }

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

install_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "make $target needs these Debian packages; as root run:" >&2
  echo "    $install_line" >&2
  exit 1
fi

echo "make $target: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Debian's postgresql-common reads this directory before it creates the packaged "main" cluster.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/arrow-no-main-cluster.conf

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# scripts/system-packages.sh: no service starts while it installs\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if command -v systemctl >/dev/null; then
  for package in "${missing[@]}"; do
    dpkg -L "$package" 2>/dev/null | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.(service|socket)$' |
      xargs -r -n1 basename | xargs -r systemctl disable --quiet 2>/dev/null || true
  done
fi
# SysV init scripts as well (openipmi ships one, and no unit): on a machine without systemd, or
# through systemd's SysV generator, an enabled script would start at the next boot.
for package in "${missing[@]}"; do
  dpkg -L "$package" 2>/dev/null | grep -E '^/etc/init\.d/[^/]+$' | xargs -r -n1 basename |
    while read -r script; do update-rc.d "$script" disable >/dev/null 2>&1 || true; done
done
echo "make $target: Debian packages installed" >&2
