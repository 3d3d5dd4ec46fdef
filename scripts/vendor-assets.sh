#!/usr/bin/env bash
# Refreshes the CSS/JS the portal serves from static/vendor/ (whitenoise), taken from the npm
# registry with `npm pack`: the portal's machine often has no internet, so nothing comes from a CDN.
#
#   scripts/vendor-assets.sh            # the pinned version below
#   BOOTSTRAP_VERSION=5.3.10 scripts/vendor-assets.sh
#
# Keeps only the minified CSS, the JS bundle (Popper included) and the LICENSE, without source-map
# comments (the maps are not shipped, and a browser would ask for them). After a version change,
# update the two paths in inventory/templates/portal/base.html and remove the old directory.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${BOOTSTRAP_VERSION:-5.3.9}"
dest="static/vendor/bootstrap-${version}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
(cd "$work" && npm pack --silent "bootstrap@${version}" >/dev/null)
tar -xzf "$work/bootstrap-${version}.tgz" -C "$work"

mkdir -p "$dest/css" "$dest/js"
sed '/sourceMappingURL=/d' "$work/package/dist/css/bootstrap.min.css" >"$dest/css/bootstrap.min.css"
sed '/sourceMappingURL=/d' "$work/package/dist/js/bootstrap.bundle.min.js" >"$dest/js/bootstrap.bundle.min.js"
cp "$work/package/LICENSE" "$dest/LICENSE"
echo "bootstrap ${version} -> ${dest}"
