#!/bin/sh
# Installs the Debian packages `make bench` needs beyond the test suite's
# (t/lib/install-deps.sh): the load generator and the peers it is measured
# against. Idempotent: silent and offline when everything is installed.
set -eu

# bench/run.py: load (wrk) and the walk baseline (curl)
PKGS="wrk curl"
# bench/wan.py: the peers of the WAN rows (issue 9: W2, W3) and the
# master's TLS and HTTP/2 (mod_ssl and mod_http2 come with apache2)
PKGS="$PKGS wget2 rclone openssl apache2"
# bench/run.py P2s: nginx proxy_cache_revalidate beside mod_proxy_http
PKGS="$PKGS nginx"

missing=""
for p in $PKGS; do
    if ! dpkg -s "$p" >/dev/null 2>&1; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "bench/install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "bench/install-deps: not root and no sudo; please install:$missing" >&2
    exit 1
fi
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing
