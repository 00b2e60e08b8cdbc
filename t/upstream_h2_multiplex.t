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
# uses at most 2.
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
CustomLog {root}/logs/h2.log "%%{remote}p %%H %%>s %%U"
"""
H2_SERVER = "SSLSessionCache shmcb:{root}/run/ssl_scache(512000)\n"


def upstream_conf(streams):
    return UPSTREAM % (pki["server_cert"], pki["server_key"], streams, tree,
                       tree, tree, tree)


up = Apache(upstream_conf(100), modules=("ssl", "http2", "rewrite",
                                         "socache_shmcb"),
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
                m = re.match(r"(\d+) (\S+) (\d+) (.*)$", ln.rstrip("\n"))
                if m and m.group(4).endswith(".pdf"):
                    lines.append(m.groups())
    except OSError:
        pass
    return lines


def cold_walk(parallelism, label):
    """A cold walk by a new mirror; the upstream's log lines of its files."""
    before = len(log_lines())
    mirror = Apache(mirror_conf(Upstream, "ZddcUpstreamCAFile %s\n"
                                "ZddcMirrorParallelism %d\n"
                                "ZddcUpstreamTimeout 10s\n"
                                % (pki["ca"], parallelism)))
    mirror.start()
    t0 = time.monotonic()
    mirror.get("/", headers={"Accept": "application/json"})
    ok(mirror.wait_log(r"walk of / finished", 60),
       "%s: the cold walk finished" % label, mirror.error_log_tail(20))
    took = time.monotonic() - t0
    missing = [p for p, data in expected.items() if mirror.disk(p) != data]
    is_(missing, [], "%s: the walk fetched all %d files" % (label,
                                                          len(expected)))
    note("%s: cold walk of %d files took %.2fs" % (label, len(expected),
                                                    took))
    mirror.stop()
    lines = wait_until(lambda: len(log_lines()) - before >= len(expected)
                       and log_lines()[before:], 10) or log_lines()[before:]
    is_(len(lines), len(expected),
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
ports = sorted(set(l[0] for l in lines))
ok(len(ports) <= 2, "over the master's stream limit (4 per connection, "
   "ZddcMirrorParallelism 24) the walk's %d requests shared at most 2 "
   "connections" % len(lines), "%d client ports: %s" % (len(ports), ports))

up.stop()
done_testing()
