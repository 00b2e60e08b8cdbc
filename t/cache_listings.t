#!/usr/bin/python3
# SPEC §4/§5 directories: one sidecar per representation (JSON by Accept,
# HTML otherwise) with Vary: Accept, revalidation, offline HTML rendered from
# the JSON sidecar, 301 to the slash, 403/404 purge the whole local
# directory, malformed JSON never stored.
import email.utils
import html
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import http_date  # noqa: E402

T0 = 1700000000
T1 = T0 + 86400
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
TRN2 = PROJ + "/2025-11-14_123456-ME-TRN-0002 (IFC) - Transmittal"
GONE = PROJ + "/2025-09-01_123456-EL-TRN-0000 (IFR) - Withdrawn"
DENY = PROJ + "/2025-08-01_123456-EL-TRN-9999 (IFR) - Restricted"
OFF = PROJ + "/Offline #1 (100%)"
NAMES = ["123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf",
         "123456-EL-SPC-2624_A (IFC) - Pump & Motor Spec.pdf",
         "\u00dcberpr\u00fcfung #3 (100%).pdf"]
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

m = master()
for n in NAMES:
    m.put_file(TRN + "/" + n, b"doc " + n.encode(), mtime=T0)
    m.put_file(OFF + "/" + n, b"doc " + n.encode(), mtime=T0)
m.mkdir(OFF + "/sub #1 (draft)", mtime=T0)
m.put_file(TRN2 + "/a.pdf", b"a", mtime=T0)
m.put_file(GONE + "/sub/deep.pdf", b"deep", mtime=T0)
m.put_file(GONE + "/top.pdf", b"top", mtime=T0)
m.put_file(DENY + "/x.pdf", b"x", mtime=T0)
m.put_file(DENY + "/sub/y.pdf", b"y", mtime=T0)
for d in (TRN, OFF, TRN2, GONE + "/sub", GONE, DENY + "/sub", DENY, PROJ):
    m.set_mtime(d, T0)

a = Apache("""\
ZddcMode Cache
ZddcUpstream %s
ZddcUpstreamBearer test-token
ZddcCacheRoot {cache}
""" % m.base_url).start()


def on_disk(path):
    return os.path.join(a.cache, path.lstrip("/"))


def side(d, kind):
    return os.path.join(on_disk(d), ".zddc-listing." + kind)


def read(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError:
        return None


def vary_has_accept(r):
    return "accept" in [v.strip().lower()
                        for v in (r.header("Vary") or "").split(",")]


# --- JSON representation -----------------------------------------------------------
r = a.get(TRN + "/", headers=JSON)
is_(r.status, 200, "JSON listing: GET dir/ with Accept: application/json "
    "-> 200")
like(r.header("Content-Type"), r"^application/json",
     "JSON listing: Content-Type application/json")
try:
    names = sorted(e["name"] for e in r.json())
except ValueError:
    names = None
is_(names, sorted(NAMES), "JSON listing: the master's entries")
is_(r.header("X-Zddc-Cache"), "MISS", "JSON listing: first GET is a MISS")
ok(vary_has_accept(r), "JSON listing: Vary: Accept",
   "Vary: %r" % r.header("Vary"))
is_(read(side(TRN, "json")), r.body,
    "JSON listing: stored as <dir>/.zddc-listing.json with the served body")
lm = r.header("Last-Modified")
if lm:
    is_(int(os.stat(side(TRN, "json")).st_mtime),
        int(email.utils.parsedate_to_datetime(lm).timestamp()),
        "JSON sidecar mtime = upstream Last-Modified")
ok(not os.path.exists(side(TRN, "html")),
   "JSON request stores no HTML sidecar")

# --- HTML representation -----------------------------------------------------------
r = a.get(TRN + "/", headers=HTML)
is_(r.status, 200, "HTML listing: GET dir/ with a browser Accept -> 200")
like(r.header("Content-Type"), r"^text/html", "HTML listing: text/html")
ok(vary_has_accept(r), "HTML listing: Vary: Accept",
   "Vary: %r" % r.header("Vary"))
is_(read(side(TRN, "html")), r.body,
    "HTML listing: stored as <dir>/.zddc-listing.html with the served body")
r = a.get(TRN + "/")
like(r.header("Content-Type"), r"^text/html",
     "no Accept header at all: the HTML representation")
is_(read(side(TRN, "json")) is not None, True, "JSON sidecar still there")

# --- revalidation --------------------------------------------------------------------
n = m.count("GET", path=TRN + "/")
r = a.get(TRN + "/", headers=JSON)
is_(r.status, 200, "JSON listing again: 200")
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "JSON listing again: REVALIDATED")
req = m.requests("GET", path=TRN + "/")[-1]
ok(m.count("GET", path=TRN + "/") - n == 1
   and req["headers"].get("if-modified-since") is not None
   and "application/json" in req["headers"].get("accept", ""),
   "revalidation: one conditional upstream GET with Accept: application/json",
   repr(req["headers"]))
r = a.get(TRN + "/", headers=HTML)
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "HTML listing again: REVALIDATED")
ok(vary_has_accept(r), "REVALIDATED listing: Vary: Accept")

# a changed directory is fetched again
m.put_file(TRN + "/123456-EL-SPC-2627_0 (IFI) - Added.pdf", b"added",
           mtime=T1)
m.set_mtime(TRN, T1)
r = a.get(TRN + "/", headers=JSON)
ok(r.status == 200 and r.header("X-Zddc-Cache") == "MISS"
   and "123456-EL-SPC-2627_0 (IFI) - Added.pdf"
   in [e["name"] for e in r.json()],
   "changed directory: MISS with the new entry", "got %r" % r)
ok(b"Added.pdf" in (read(side(TRN, "json")) or b""),
   "changed directory: JSON sidecar replaced")

# --- directory without slash ---------------------------------------------------------
for label, path in (("cached", TRN), ("never cached", TRN2)):
    r = a.get(path)
    is_(r.status, 301, "%s directory without '/': 301" % label)
    loc = urllib.parse.urlsplit(r.header("Location") or "")
    is_(urllib.parse.unquote(loc.path), path + "/",
        "%s directory without '/': Location is the same path with '/'" % label)
    ok(loc.netloc in ("", "127.0.0.1:%d" % a.port),
       "%s directory without '/': Location points at the mirror, not the "
       "master" % label, "Location: %r" % r.header("Location"))

# --- offline: HTML rendered from the JSON sidecar ------------------------------------
r = a.get(OFF + "/", headers=JSON)
ok(r.status == 200 and os.path.isfile(side(OFF, "json")),
   "precondition: only the JSON sidecar of the offline dir is cached")
ok(not os.path.exists(side(OFF, "html")), "precondition: no HTML sidecar")
m.stop()
r = a.get(OFF + "/", headers=HTML)
is_(r.status, 200, "master down, only JSON sidecar: HTML request -> 200")
like(r.header("Content-Type"), r"^text/html",
     "offline HTML listing: Content-Type text/html")
is_(r.header("X-Zddc-Cache"), "STALE", "offline HTML listing: STALE")
ok(vary_has_accept(r), "offline HTML listing: Vary: Accept")
for n in NAMES:
    href = urllib.parse.quote(n, safe="")
    like(r.text, re.escape('href="%s"' % href),
         "offline HTML: link percent-encoded: %s" % href)
    like(r.text, re.escape(">" + html.escape(n, quote=False) + "<"),
         "offline HTML: name HTML-escaped: %s" % html.escape(n))
like(r.text, r'href="sub%20%231%20%28draft%29/"',
     "offline HTML: subdirectory link percent-encoded with trailing '/'")
unlike(r.text, r"Pump & Motor", "offline HTML: no raw '&' in names")
r = a.get(OFF + "/", headers=JSON)
ok(r.status == 200 and r.header("X-Zddc-Cache") == "STALE"
   and r.body == read(side(OFF, "json")),
   "master down: JSON request -> the JSON sidecar, STALE", "got %r" % r)
r = a.get(TRN2 + "/", headers=HTML)
is_(r.status, 504, "master down, no sidecar at all: 504")
m.start()

# --- 404 / 403 on a directory purge it whole ------------------------------------------
for path in (GONE + "/", GONE + "/sub/"):
    a.get(path, headers=JSON)
    a.get(path, headers=HTML)
a.get(GONE + "/top.pdf")
a.get(GONE + "/sub/deep.pdf")
ok(wait_until(lambda: os.path.isfile(on_disk(GONE + "/sub/deep.pdf")), 5)
   and os.path.isfile(side(GONE + "/sub", "json")),
   "precondition: directory tree cached")
m.remove(GONE)
r = a.get(GONE + "/", headers=JSON)
is_(r.status, 404, "directory removed upstream: 404")
ok(not os.path.lexists(on_disk(GONE)),
   "directory 404: the local directory and everything below it is purged")
ok(os.path.isfile(side(TRN, "json")) and os.path.isdir(on_disk(PROJ)),
   "directory 404: siblings and the parent are untouched")

a.get(DENY + "/", headers=HTML)
a.get(DENY + "/x.pdf")
a.get(DENY + "/sub/y.pdf")
ok(wait_until(lambda: os.path.isfile(on_disk(DENY + "/sub/y.pdf")), 5),
   "precondition: restricted tree cached")
m.acl["test-token"] = [TRN + "/", OFF + "/", TRN2 + "/", GONE + "/"]
r = a.get(DENY + "/", headers=HTML)
is_(r.status, 403, "directory now forbidden upstream: 403")
ok(not os.path.lexists(on_disk(DENY)),
   "directory 403: the local directory and everything below it is purged")
m.acl["test-token"] = ["/"]

# --- malformed JSON is never stored -----------------------------------------------------
before = read(side(TRN, "json"))
mtime_before = os.stat(side(TRN, "json")).st_mtime
m.put_file(TRN + "/123456-EL-SPC-2628_0 (IFI) - Newer.pdf", b"n",
           mtime=T1 + 60)
m.set_fault("badjson", PROJ + "/")
r = a.get(TRN + "/", headers=JSON)
ok(not (r.status == 200 and b'"is_dir": fal' in r.body
        and not r.body.rstrip().endswith(b"]")),
   "malformed upstream JSON is not passed on as a 200 listing",
   "got %r %r" % (r, r.body[:80]))
is_(read(side(TRN, "json")), before,
    "malformed upstream JSON: the previous sidecar is kept unchanged")
is_(os.stat(side(TRN, "json")).st_mtime, mtime_before,
    "malformed upstream JSON: the previous sidecar keeps its mtime")
r = a.get(TRN2 + "/", headers=JSON)
isnt(r.status, 200, "malformed JSON with no sidecar: not a 200")
ok(not os.path.exists(side(TRN2, "json")),
   "malformed JSON with no sidecar: nothing stored")
m.clear_faults()
r = a.get(TRN + "/", headers=JSON)
ok(r.status == 200 and b"Newer.pdf" in r.body,
   "after the fault clears: the new listing is served and stored",
   "got %r" % r)

done_testing()
