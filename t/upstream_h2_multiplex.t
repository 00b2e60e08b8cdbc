#!/usr/bin/python3
# Issue 9, SPEC §6: a walk multiplexes over HTTP/2. The upstream is a real
# Apache with mod_ssl and mod_http2 (`Protocols h2 http/1.1`) serving a
# generated tree whose directory URLs answer static pre-generated JSON
# listings chosen by Accept (as bench/conf/upstream.conf does); the
# mirror trusts the run's CA. A cold walk at ZddcMirrorParallelism 16
# fetches every file, and the upstream's access log (client port and
# protocol) shows the walk's requests on at most 2 connections, all
# HTTP/2.0. Then the master allows fewer streams per connection
# (H2MaxSessionStreams 4) than the walk's parallelism (24): libcurl would
# open a new connection for every request over the limit; the walk still
# uses at most 2. Last, one stream per connection and slow files
# (mod_ratelimit): the requests waiting for a free stream are not timed
# out by ZddcUpstreamTimeout while the others download.
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

MODDIR = "/usr/lib/apache2/modules"
if not all(os.path.exists(os.path.join(MODDIR, "mod_%s.so" % m))
           for m in ("ssl", "http2", "rewrite", "socache_shmcb")):
    skip_all("mod_ssl, mod_http2 or mod_rewrite is not installed")

T0 = 1761912000
DIRS, FILES = 6, 20
pki = test_pki()
tree = tempdir("zddc-h2tree-")


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def listing(d, entries):
    with open(os.path.join(d, ".listing.json"), "w") as f:
        json.dump(entries, f)
    with open(os.path.join(d, ".listing.html"), "w") as f:
        f.write("<html><body>%s</body></html>\n" % "".join(
            "<a href=\"%s\">%s</a>" % (e["name"], e["name"]) for e in entries))


expected = {}
top = []
for i in range(DIRS):
    dname = "2025-10-%02d_123456-EL-TRN-%04d (IFR) - Transmittal" % (i + 1, i)
    d = os.path.join(tree, dname)
    os.makedirs(d)
    entries = []
    for k in range(FILES):
        name = "123456-EL-SPC-%04d_A (IFC) - Pump Spec %d.pdf" % (k, k)
        data = ("%%PDF-1.4 %s/%s\n" % (dname, name)).encode() * (20 + k)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        os.utime(os.path.join(d, name), (T0, T0))
        expected["/%s/%s" % (dname, name)] = data
        entries.append({"name": name, "is_dir": False, "size": len(data),
                        "mod_time": rfc3339(T0)})
    listing(d, entries)
    top.append({"name": dname + "/", "is_dir": True, "size": 0,
                "mod_time": rfc3339(T0)})
listing(tree, top)
# /slow/ is not in the root's listing: only the last walk (its subtree)
# sees it. 4 files of 2 KiB at 1 KiB/s.
SLOW = {}
os.makedirs(os.path.join(tree, "slow"))
slow_entries = []
for k in range(4):
    name = "s%d.bin" % k
    data = (b"%d" % k) * 2048
    with open(os.path.join(tree, "slow", name), "wb") as f:
        f.write(data)
    os.utime(os.path.join(tree, "slow", name), (T0, T0))
    SLOW["/slow/" + name] = data
    slow_entries.append({"name": name, "is_dir": False, "size": len(data),
                         "mod_time": rfc3339(T0)})
listing(os.path.join(tree, "slow"), slow_entries)
for d, dirs, files in os.walk(tree):
    os.chmod(d, 0o755)
    for f in files:
        os.chmod(os.path.join(d, f), 0o644)

UPSTREAM = """\
SSLEngine on
SSLCertificateFile %s
SSLCertificateKeyFile %s
Protocols h2 http/1.1
H2MaxSessionStreams %d
DocumentRoot "%s"
<Directory "%s">
    Options None
    AllowOverride None
    Require all granted
</Directory>
RewriteEngine On
RewriteCond %%{HTTP:Accept} application/json
RewriteRule ^(.*/)$ "%s$1.listing.json" [L]
RewriteRule ^(.*/)$ "%s$1.listing.html" [L]
<Directory "%s/slow">
    <FilesMatch "\\.bin$">
        SetOutputFilter RATE_LIMIT
        SetEnv rate-limit 1
    </FilesMatch>
</Directory>
CustomLog {root}/logs/h2.log "%%{remote}p %%H %%>s %%{begin:msec}t %%{end:msec}t %%U"
"""
H2_SERVER = "SSLSessionCache shmcb:{root}/run/ssl_scache(512000)\n"


def upstream_conf(streams):
    return UPSTREAM % (pki["server_cert"], pki["server_key"], streams, tree,
                       tree, tree, tree, tree)


up = Apache(upstream_conf(100), modules=("ssl", "http2", "rewrite",
                                         "socache_shmcb", "ratelimit"),
            server_conf=H2_SERVER)
up.start()
base = "https://127.0.0.1:%d" % up.port


class Upstream:
    base_url = base


def log_lines():
    lines = []
    try:
        with open(os.path.join(up.root, "logs", "h2.log")) as f:
            for ln in f:
                m = re.match(r"(\d+) (\S+) (\d+) (\d+) (\d+) (.*)$",
                             ln.rstrip("\n"))
                if m and m.group(6).endswith((".pdf", ".bin")):
                    lines.append(m.groups())
    except OSError:
        pass
    return lines


def most_at_once(lines):
    """The most connections open at once, a connection's life taken from
    its first request's start to its last request's end."""
    life = {}
    for port, _, _, begin, end, _ in lines:
        b, e = life.get(port, (int(begin), int(end)))
        life[port] = (min(b, int(begin)), max(e, int(end)))
    return max(sum(1 for b, e in life.values() if b <= t < e)
               for t, _ in life.values())


def cold_walk(parallelism, label, files=expected, subtree="/",
              timeout="10s"):
    """A cold walk by a new mirror; the upstream's log lines of its files."""
    before = len(log_lines())
    mirror = Apache(mirror_conf(Upstream, "ZddcUpstreamCAFile %s\n"
                                "ZddcMirrorParallelism %d\n"
                                "ZddcMirrorSubtree %s\n"
                                "ZddcUpstreamTimeout %s\n"
                                % (pki["ca"], parallelism, subtree, timeout)))
    mirror.start()
    t0 = time.monotonic()
    mirror.get(subtree.rstrip("/") + "/",
               headers={"Accept": "application/json"})
    ok(mirror.wait_log(r"walk of %s finished" % re.escape(subtree), 60),
       "%s: the cold walk finished" % label, mirror.error_log_tail(20))
    took = time.monotonic() - t0
    missing = [p for p, data in files.items() if mirror.disk(p) != data]
    ok(not missing, "%s: the walk fetched all %d files" % (label,
                                                         len(files)),
       "missing %s\n%s" % (missing, mirror.error_log_tail(10)))
    note("%s: cold walk of %d files took %.2fs" % (label, len(files), took))
    mirror.stop()
    lines = wait_until(lambda: len(log_lines()) - before >= len(files)
                       and log_lines()[before:], 10) or log_lines()[before:]
    is_(len(lines), len(files),
        "%s: the upstream logged one GET per file" % label)
    return lines


lines = cold_walk(16, "parallelism 16")
protos = sorted(set(l[1] for l in lines))
is_(protos, ["HTTP/2.0"], "every file of the walk went over HTTP/2")
ports = sorted(set(l[0] for l in lines))
ok(len(ports) <= 2, "the walk's %d requests shared at most 2 connections "
   "(ZddcMirrorParallelism 16)" % len(lines), "client ports: %s" % ports)

# More requests in flight than the master takes on one connection.
up.write_conf(upstream_conf(4), H2_SERVER)
up.graceful()
lines = cold_walk(24, "4 streams per connection")
is_(sorted(set(l[1] for l in lines)), ["HTTP/2.0"],
    "over the stream limit: every file went over HTTP/2")
# A new connection takes more streams than the master allows until its
# SETTINGS arrive; the master refuses those and libcurl retries them on a
# new connection, so count connections open at once.
ports = sorted(set(l[0] for l in lines))
ok(most_at_once(lines) <= 2, "over the master's stream limit (4 per "
   "connection, ZddcMirrorParallelism 24) the walk's %d requests used at "
   "most 2 connections at once" % len(lines),
   "%d connections: %s" % (len(ports), ports))

# One stream per connection, 2 s per file, 1 s upstream timeout: two
# files download while the other two wait for a stream.
up.write_conf(upstream_conf(1), H2_SERVER)
up.graceful()
lines = cold_walk(4, "1 stream per connection, slow files", files=SLOW,
                  subtree="/slow", timeout="1s")
ok(most_at_once(lines) <= 2, "1 stream per connection: at most 2 "
   "connections at once")

up.stop()
done_testing()
