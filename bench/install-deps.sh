#!/bin/sh
# Installs the Debian packages `make bench` needs beyond the test suite's
# (t/lib/install-deps.sh, which does the installing): the load generator
# and the peers it is measured against.
set -eu

# bench/run.py: load (wrk) and the walk baseline (curl)
PKGS="wrk curl"
# bench/wan.py: the peers of the WAN rows (issue 9: W2, W3) and the
# master's TLS and HTTP/2 (mod_ssl and mod_http2 come with apache2)
PKGS="$PKGS wget2 rclone openssl apache2"
# bench/run.py P2s: nginx proxy_cache_revalidate beside mod_proxy_http
PKGS="$PKGS nginx"

# shellcheck disable=SC2086
exec sh "$(dirname "$0")/../t/lib/install-deps.sh" $PKGS
