#!/bin/sh
# Installs the Debian packages needed to build, test and demo mod_zddc_mirror.
# Idempotent: silent and offline when everything is already installed.
# Arguments name further packages to install the same way.
set -eu

PKGS="apache2 apache2-dev apache2-utils libcurl4-openssl-dev libcjson-dev python3 make gcc curl gdb openssl"
# t/cache_status_header.t: the offline listing in a real browser
PKGS="$PKGS chromium"
# make deb and t/package_deb.t (dh-apache2 comes with apache2-dev)
PKGS="$PKGS debhelper dpkg-dev fakeroot"
# t/metrics_*.t: a real Prometheus/OpenMetrics text parser
PKGS="$PKGS python3-prometheus-client"
# make fuzz: libFuzzer targets (clang 14 with its fuzzer runtime)
PKGS="$PKGS clang libfuzzer-14-dev libclang-rt-14-dev"
# t/upstream_proxy.t: a real outbound proxy
PKGS="$PKGS tinyproxy"
# the module's shared CA store (OpenSSL headers); t/upstream_ca_once.t: strace
PKGS="$PKGS libssl-dev strace"
# t/readme_commands.t: the README moves a cache root with rsync
PKGS="$PKGS rsync"
# Packages named as arguments too (bench/install-deps.sh adds its peers).
PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
    if ! dpkg -s "$p" >/dev/null 2>&1; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: not root and no sudo; please install:$missing" >&2
    exit 1
fi
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing
