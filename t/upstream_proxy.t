#!/usr/bin/python3
# Issue 9, SPEC §3/§5: the upstream through a real outbound proxy
# (tinyproxy on 127.0.0.1): http through it, https through CONNECT, a
# Mirror walk through it, the proxy down -> STALE (cached) / 504 (not
# cached), proxy credentials from ZddcUpstreamProxyAuthFile never in a log
# or on the status page, http_proxy in Apache's environment honoured
# without the directive and ignored with `ZddcUpstreamProxy none`, and bad
# values failing configtest naming the directive. Pins its own schemes.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from tinyproxy import TinyProxy  # noqa: E402

if not TinyProxy.available():
    skip_all("tinyproxy is not installed (make test installs it)")

T0 = 1700000000
FILE = "/Project 123456/TRN-0001/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
OTHER = "/Project 123456/TRN-0001/other.pdf"
BODY = b"%PDF-1.4 via the proxy\n" + b"p" * 3000
SECRET = "zs3cretPW-no-log"
CA = test_pki()["ca"]
STATUS = "<Location /zddc-status>\nSetHandler zddc-status\n</Location>\n"

# no proxy from the test's own environment leaks into the Apaches
for var in ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
            "ALL_PROXY", "no_proxy", "NO_PROXY"):
    os.environ.pop(var, None)

plain = master(scheme="http")
tls = master(scheme="https")
for m in (plain, tls):
    m.put_file(FILE, BODY, mtime=T0)
    m.put_file(OTHER, b"other\n", mtime=T0)

px = TinyProxy(tempdir("zddc-proxy-")).start()


def proxied(path, before=""):
    """Requests for path the proxy logged after the log text `before`."""
    return [ln for ln in px.log()[len(before):].splitlines()
            if "Request (file descriptor" in ln and path in ln]


# --- http through the proxy --------------------------------------------------
a = Apache(cache_conf(plain, "ZddcUpstreamProxy %s\nZddcUpstreamTimeout 5s\n"
                      % px.url)).start()
r = a.get(FILE)
ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "MISS",
   "http master through the proxy: 200 MISS with the body", repr(r))
ok(proxied(quote_path(FILE)), "the proxy carried the GET of the file",
   px.log()[-2000:])
ok(wait_until(lambda: a.disk(FILE) == BODY, 5), "the file is cached")

# --- https through CONNECT ----------------------------------------------------
b = Apache(cache_conf(tls, "ZddcUpstreamProxy %s\nZddcUpstreamCAFile %s\n"
                      "ZddcUpstreamTimeout 5s\n" % (px.url, CA))).start()
r = b.get(FILE)
ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "MISS",
   "https master through the proxy: 200 MISS with the body", repr(r))
like(px.log(), r"Request \(file descriptor \d+\): CONNECT 127\.0\.0\.1:%d "
     % tls.port, "the proxy carried a CONNECT tunnel to the https master")
is_(tls.count("GET", path=FILE), 1, "the https master saw the GET")

# --- a Mirror walk through the proxy -------------------------------------------
w = Apache(mirror_conf(plain, "ZddcUpstreamProxy %s\nZddcUpstreamTimeout 5s\n"
                       "ZddcMirrorParallelism 4\n" % px.url,
                       token="test-token")).start()
before = px.log()
w.get("/Project 123456/")
ok(wait_until(lambda: w.disk(FILE) == BODY and w.disk(OTHER) == b"other\n",
              15), "a walk through the proxy fetched every file")
ok(proxied(quote_path("/Project 123456/TRN-0001/"), before),
   "the walk's listing requests went through the proxy")
ok(proxied(quote_path(OTHER), before),
   "the walk's file requests went through the proxy")
w.stop()

# --- the proxy down: STALE when cached, 504 when not -------------------------
px.stop()
r = a.get(FILE)
ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "STALE",
   "proxy down, file cached: 200 STALE", "%r %r" % (r, r.header("X-Zddc-Cache")))
r = a.get(OTHER)
ok(r.status == 504 and r.header("X-Zddc-Cache") == "MISS",
   "proxy down, file not cached: 504 MISS", repr(r))
r = b.get(OTHER)
ok(r.status == 504, "proxy down, https master, not cached: 504", repr(r))
a.stop()
b.stop()

# --- proxy credentials ---------------------------------------------------------
pa = TinyProxy(tempdir("zddc-proxy-"), auth=("zuser", SECRET)).start()
adir = tempdir("zddc-auth-")
authfile = os.path.join(adir, "proxy-auth")
with open(authfile, "w") as f:
    f.write("zuser:%s\n" % SECRET)
os.chmod(authfile, 0o600)   # root only: read at startup, before the drop
c = Apache(cache_conf(tls, "ZddcUpstreamProxy %s\nZddcUpstreamProxyAuthFile "
                      "%s\nZddcUpstreamCAFile %s\nZddcUpstreamTimeout 5s\n"
                      % (pa.url, authfile, CA)) + STATUS).start()
r = c.get(OTHER)
ok(r.status == 200 and r.body == b"other\n",
   "with ZddcUpstreamProxyAuthFile the authenticating proxy lets us through",
   repr(r))
d = Apache(cache_conf(tls, "ZddcUpstreamProxy %s\nZddcUpstreamCAFile %s\n"
                      "ZddcUpstreamTimeout 5s\n" % (pa.url, CA))).start()
r = d.get(FILE)
ok(r.status in (502, 504) and r.body != BODY,
   "without the credentials the proxy refuses: 502/504", repr(r))
d.stop()
c.get("/Project 123456/", headers={"Accept": "application/json"})
st = c.get("/zddc-status", headers={"Accept": "application/json"})
is_(st.status, 200, "the status page answers")
c.stop()
for name, text in (("error log", c.error_log()), ("access log",
                                                   c.access_log()),
                   ("status page", st.text), ("stderr", c.stderr_log())):
    ok(SECRET not in text, "the proxy password is not in the %s" % name)
pa.stop()

# --- the environment's http_proxy, and ZddcUpstreamProxy none ------------------
px.start()
os.environ["http_proxy"] = px.url
try:
    e = Apache(cache_conf(plain, "ZddcUpstreamTimeout 5s\n")).start()
    n = Apache(cache_conf(plain, "ZddcUpstreamProxy none\n"
                          "ZddcUpstreamTimeout 5s\n")).start()
finally:
    del os.environ["http_proxy"]
before = px.log()
r = e.get(OTHER)
ok(r.status == 200 and proxied(quote_path(OTHER), before),
   "without the directive, http_proxy in Apache's environment is used",
   "%r\n%s" % (r, px.log()[len(before):]))
before = px.log()
plain.clear_log()
r = n.get(FILE)
ok(r.status == 200 and r.body == BODY, "ZddcUpstreamProxy none: 200", repr(r))
is_(proxied(quote_path(FILE), before), [],
    "ZddcUpstreamProxy none: the environment's proxy is ignored")
is_(plain.count("GET", path=FILE), 1, "... the master was asked directly")
e.stop()
n.stop()
px.stop()

# --- configtest -----------------------------------------------------------------
for extra, directive, value in (
        ("ZddcUpstreamProxy ftp://127.0.0.1:1\n", "ZddcUpstreamProxy",
         "ftp://127.0.0.1:1"),
        ("ZddcUpstreamProxy http://u:pw@127.0.0.1:1\n", "ZddcUpstreamProxy",
         "ZddcUpstreamProxyAuthFile"),
        ("ZddcUpstreamProxyAuthFile /nonexistent/zddc-auth\n",
         "ZddcUpstreamProxyAuthFile", "/nonexistent/zddc-auth"),
        ("ZddcUpstreamProxyAuthFile %s\n" % CA, "ZddcUpstreamProxyAuthFile",
         "user:password")):
    rc, out = Apache(cache_conf(plain, extra)).configtest()
    ok(rc != 0 and directive in out and value in out,
       "configtest fails for %r naming %s" % (extra.strip(), directive), out)

done_testing()
