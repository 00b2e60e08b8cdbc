#!/usr/bin/python3
# Self-test of the fake ZDDC master (t/lib/fake_master.py) alone, no Apache:
# ACLs, status codes, conditional GETs, listings, faults, down/up, request log.
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import http_date  # noqa: E402

T0 = 1700000000  # a fixed, old mtime (2023-11-14)
SPEC = "/Project A/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
BODY = b"%PDF-1.4 pump spec " + b"x" * 4000

# this file talks plain http to the fake master itself: pinned to http
m = master(acl={"all": ["/"], "proj": ["/Project A/"]}, scheme="http")
m.slow_seconds = 0.6
m.put_file(SPEC, BODY, mtime=T0)
m.put_file("/Project A/sub #1/50% é.txt", "hello", mtime=T0)
m.put_file("/Project B/secret.pdf", b"secret", mtime=T0)
m.put_file("/top.txt", b"top", mtime=T0)
for d in ("/Project A/sub #1", "/Project A", "/Project B"):
    m.set_mtime(d, T0)
m.set_mtime("/", T0)


def req(method, path, token="all", headers=None, body=None, raw=False,
        conn=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    c = conn or http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
    target = path if raw else quote_path(path)
    try:
        c.request(method, target, body=body, headers=h)
        r = c.getresponse()
        try:
            data, broken = r.read(), False
        except http.client.IncompleteRead as e:
            data, broken = e.partial, True
        return r.status, r.msg, data, broken
    finally:
        if conn is None:
            c.close()


# --- auth ---------------------------------------------------------------
is_(req("GET", SPEC, token=None)[0], 401, "no bearer -> 401")
is_(req("GET", SPEC, token="nope")[0], 401, "unknown bearer -> 401")
st, h, data, _ = req("GET", SPEC)
is_(st, 200, "file GET -> 200")
is_(data, BODY, "file body served whole")
is_(h["Last-Modified"], http_date(T0), "Last-Modified is the file mtime")
is_(h["Content-Type"], "application/pdf", "Content-Type guessed")
is_(h["Content-Length"], str(len(BODY)), "Content-Length set")
st, h, data, _ = req("HEAD", SPEC)
ok(st == 200 and data == b"" and h["Content-Length"] == str(len(BODY)),
   "HEAD -> 200, headers only", repr((st, data[:20])))
is_(req("GET", "/Project A/sub #1/50% é.txt")[2], b"hello",
    "percent-encoded UTF-8, '#' and '%' names decoded")
is_(req("GET", "/nope.pdf")[0], 404, "missing file -> 404")
is_(req("GET", "/a/%2E%2E/%2E%2E/etc/passwd", raw=True)[0], 400,
    "'..' escape refused")

# --- ACL ----------------------------------------------------------------
is_(req("GET", "/Project B/secret.pdf", token="proj")[0], 403,
    "file outside ACL -> 403")
is_(req("GET", "/Project B/", token="proj")[0], 403, "dir outside ACL -> 403")
is_(req("GET", "/Project B/missing.pdf", token="proj")[0], 403,
    "missing file outside ACL -> 403, not 404")
is_(req("GET", "/top.txt", token="proj")[0], 403,
    "file in an ancestor dir -> 403")
is_(req("GET", SPEC, token="proj")[0], 200, "file inside ACL -> 200")
st, h, data, _ = req("GET", "/", token="proj",
                     headers={"Accept": "application/json"})
names = [e["name"] for e in json.loads(data)] if st == 200 else None
is_(names, ["Project A/"], "root listing filtered to the visible ancestor")
st, h, data, _ = req("GET", "/", headers={"Accept": "application/json"})
is_([e["name"] for e in json.loads(data)],
    ["Project A/", "Project B/", "top.txt"], "full token sees everything")

# --- listings -----------------------------------------------------------
st, h, data, _ = req("GET", "/Project A/",
                     headers={"Accept": "application/json"})
entries = json.loads(data)
is_(h["Content-Type"], "application/json", "JSON listing by Accept")
is_(entries[0], {"name": "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf",
                 "is_dir": False, "size": len(BODY),
                 "mod_time": "2023-11-14T22:13:20Z"},
    "JSON entry has name, is_dir, size, mod_time (RFC 3339)")
is_((entries[1]["name"], entries[1]["is_dir"]), ("sub #1/", True),
    "directory names carry a trailing slash")
st, h, data, _ = req("GET", "/Project A/", headers={"Accept": "text/html"})
like(h["Content-Type"], r"^text/html", "HTML listing otherwise")
like(data, r'<a href="sub%20%231/">sub #1/</a>', "HTML links encoded")
is_(h["Last-Modified"], http_date(T0), "listing Last-Modified = max mtime")
st, h, _, _ = req("GET", "/Project A")
ok(st == 301 and h["Location"] == "/Project%20A/",
   "dir without slash -> 301 to slash", repr((st, h["Location"])))
is_(req("GET", "/Project A/",
        headers={"If-Modified-Since": http_date(T0)})[0], 304,
    "listing honours If-Modified-Since")

# --- conditional GET ----------------------------------------------------
is_(req("GET", SPEC, headers={"If-Modified-Since": http_date(T0)})[0], 304,
    "IMS == mtime -> 304")
is_(req("GET", SPEC, headers={"If-Modified-Since": http_date(T0 + 5)})[0],
    304, "IMS > mtime -> 304")
is_(req("GET", SPEC, headers={"If-Modified-Since": http_date(T0 - 5)})[0],
    200, "IMS < mtime -> 200")

# ACL change bumps listing Last-Modified
before = m.acl_changed_at
m.acl["proj"] = ["/Project A/", "/Project B/"]
ok(m.acl_changed_at > before and m.acl_changed_at >= time.time() - 5,
   "changing the ACL bumps acl_changed_at")
st, h, _, _ = req("GET", "/Project A/",
                  headers={"If-Modified-Since": http_date(T0)})
is_(st, 304, "realistic (default): an ACL change leaves a listing's "
    "Last-Modified, the directory's mtime, alone")
m.realistic = False
st, h, _, _ = req("GET", "/Project A/",
                  headers={"If-Modified-Since": http_date(T0)})
is_(st, 200, "realistic=False: listing IMS after ACL change -> 200")
m.realistic = True

# --- listing ETags (switch) ---------------------------------------------
st, h, _, _ = req("GET", "/Project A/", headers={"Accept": "application/json"})
ok("ETag" not in h, "no listing ETag by default")
m.listing_etags = True
st, h, _, _ = req("GET", "/Project A/", headers={"Accept": "application/json"})
etag = h.get("ETag")
ok(st == 200 and etag and etag.startswith('"'), "listing_etags: an ETag",
   repr(etag))
is_(req("GET", "/Project A/", headers={"Accept": "application/json",
                                       "If-None-Match": etag})[0], 304,
    "If-None-Match with the listing's ETag -> 304")
is_(req("GET", "/Project A/", headers={"Accept": "application/json",
                                       "If-None-Match": '"other"',
                                       "If-Modified-Since": http_date(T0)})[0],
    200, "another ETag -> 200 (If-None-Match decides, not the date)")
m.listing_etags = False

# --- no-store, query, writes --------------------------------------------
m.no_store.add("/top.txt")
is_(req("GET", "/top.txt")[1]["Cache-Control"], "no-store",
    "no_store path answers Cache-Control: no-store")
st, _, data, _ = req("GET", "/top.txt?q=pump", raw=True)
ok(st == 200 and b"q=pump" in data, "query string echoed", repr(data))
is_(m.requests(path="/top.txt")[-1]["query"], "q=pump", "query logged")
is_(req("PUT", "/Project A/new.txt", body=b"new")[0], 201, "PUT -> 201")
is_(m.read_file("/Project A/new.txt"), b"new", "PUT wrote the file")
is_(req("POST", "/Project A/form", body=b"a=1")[0], 200, "POST -> 200")
is_(m.requests("POST")[-1]["body"], b"a=1", "POST body recorded")
is_(req("DELETE", "/Project A/new.txt")[0], 204, "DELETE -> 204")
ok(not m.exists("/Project A/new.txt"), "DELETE removed the file")

# --- faults -------------------------------------------------------------
for name, want in (("5xx", 503), ("401", 401), ("403", 403), ("404", 404),
                   ("410", 410)):
    m.set_fault(name, "/Project A/")
    is_(req("GET", SPEC)[0], want, "fault %s -> %d" % (name, want))
    m.clear_faults()
m.faults["*"] = "5xx"
m.faults["/top"] = "404"
is_(req("GET", "/top.txt")[0], 404, "longest fault prefix wins over '*'")
is_(req("GET", SPEC)[0], 503, "'*' fault applies elsewhere")
m.clear_faults()
is_(req("GET", SPEC)[0], 200, "clear_faults() restores service")

m.set_fault("slow")
t = time.monotonic()
st = req("GET", SPEC)[0]
ok(st == 200 and time.monotonic() - t >= 0.5, "slow delays the answer")
m.clear_faults()

m.set_fault("drip", SPEC)
c = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
t = time.monotonic()
c.request("GET", quote_path(SPEC), headers={"Authorization": "Bearer all"})
r = c.getresponse()
first = r.read(1024)
t_first = time.monotonic() - t
rest = r.read()
t_all = time.monotonic() - t
c.close()
# "At once": the first KiB does not wait for the 0.6 s pause the rest waits
# for (a gap, not a wall-clock bound, so a loaded machine cannot fail it).
ok(len(first) == 1024 and t_all - t_first >= 0.3,
   "drip sends the first KiB at once", "t_first=%.2f t_all=%.2f"
   % (t_first, t_all))
ok(first + rest == BODY and t_all >= 0.5, "drip delivers the rest later",
   "t_all=%.2f" % t_all)
m.clear_faults()

m.set_fault("truncate", SPEC)
st, h, data, broken = req("GET", SPEC)
ok(st == 200 and broken and len(data) == len(BODY) // 2,
   "truncate: full Content-Length, half the body, then close",
   repr((st, broken, len(data))))
m.clear_faults()

m.set_fault("badjson")
st, _, data, _ = req("GET", "/Project A/",
                     headers={"Accept": "application/json"})
try:
    json.loads(data)
    parsed = True
except ValueError:
    parsed = False
ok(st == 200 and not parsed, "badjson: 200 with malformed JSON")
is_(req("GET", SPEC)[2], BODY, "badjson leaves files alone")
m.clear_faults()

# --- request log and connections ----------------------------------------
m.clear_log()
c = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
for _ in range(3):
    req("GET", SPEC, conn=c)
c.close()
is_(m.count("GET", path=SPEC), 3, "request log counts by method and path")
is_(m.connections, 1, "keep-alive: three requests on one connection")
e = m.requests()[0]
ok(e["raw_path"] == quote_path(SPEC) and e["headers"]["authorization"]
   == "Bearer all", "log has raw path and lowercase headers", repr(e))
is_(m.count(prefix="/Project A/"), 3, "count by prefix")

m.slow_seconds = 0.5
m.set_fault("slow")
m.clear_log()
import threading  # noqa: E402
ths = [threading.Thread(target=req, args=("GET", SPEC)) for _ in range(4)]
for th in ths:
    th.start()
for th in ths:
    th.join(10)
m.clear_faults()
is_(m.max_inflight, 4, "max concurrent in-flight requests recorded")
is_(m.connections, 4, "one TCP connection per client counted")

# --- down / up on the same port -----------------------------------------
port = m.port
keep = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
req("GET", SPEC, conn=keep)
m.stop()
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    refused = False
except OSError:
    refused = True
ok(refused, "stop(): connections refused")
try:
    req("GET", SPEC, conn=keep)
    kept = True
except (OSError, http.client.HTTPException):
    kept = False
ok(not kept, "stop(): open keep-alive connections are closed too")
keep.close()
m.start()
is_(m.port, port, "start() listens on the same port")
is_(req("GET", SPEC)[0], 200, "serves again after start()")

done_testing()
