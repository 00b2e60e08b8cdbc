#!/usr/bin/python3
# SPEC §4/§5 directories: one sidecar per representation (JSON by Accept,
# HTML otherwise) with Vary: Accept, revalidation, offline HTML rendered from
# the JSON sidecar, 301 to the slash, 403/404 purge the whole local
# directory, malformed JSON never stored.
import email.utils
import html
import html.parser
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
OFF_NAMES = NAMES + ['Pump "A" <rev 2> \'final\'.pdf',
                     "<script>alert(1)<\\script> 50%.pdf"]
for n in NAMES:
    m.put_file(TRN + "/" + n, b"doc " + n.encode(), mtime=T0)
for n in OFF_NAMES:
    m.put_file(OFF + "/" + n, b"doc " + n.encode(), mtime=T0)
m.mkdir(OFF + "/sub #1 (draft)", mtime=T0)
m.put_file(TRN2 + "/a.pdf", b"a", mtime=T0)
m.put_file(GONE + "/sub/deep.pdf", b"deep", mtime=T0)
m.put_file(GONE + "/top.pdf", b"top", mtime=T0)
m.put_file(DENY + "/x.pdf", b"x", mtime=T0)
m.put_file(DENY + "/sub/y.pdf", b"y", mtime=T0)
for d in (TRN, OFF, TRN2, GONE + "/sub", GONE, DENY + "/sub", DENY, PROJ):
    m.set_mtime(d, T0)

a = Apache(cache_conf(m)).start()
on_disk = a.on_disk


def side(d, kind):
    return os.path.join(on_disk(d), ".zddc-listing." + kind)


def read(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError:
        return None


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self._href, self._text = [], None, []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def anchors(text):
    """[(raw href, unescaped link text)] of an HTML page."""
    p = _Anchors()
    p.feed(text)
    p.close()
    return p.links


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
# A listing is never If-Modified-Since (SPEC §6.1): without an ETag from
# the master it is asked again unconditionally; with one, If-None-Match.
n = m.count("GET", path=TRN + "/")
r = a.get(TRN + "/", headers=JSON)
is_(r.status, 200, "JSON listing again: 200")
is_(r.header("X-Zddc-Cache"), "MISS",
    "JSON listing again, no ETag from the master: MISS")
req = m.requests("GET", path=TRN + "/")[-1]
ok(m.count("GET", path=TRN + "/") - n == 1
   and req["headers"].get("if-modified-since") is None
   and "application/json" in req["headers"].get("accept", ""),
   "revalidation: one unconditional upstream GET with Accept: "
   "application/json", repr(req["headers"]))
m.listing_etags = True
a.get(TRN + "/", headers=JSON)
a.get(TRN + "/", headers=HTML)
r = a.get(TRN + "/", headers=JSON)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "JSON listing with the master's ETag kept: REVALIDATED")
req = m.requests("GET", path=TRN + "/")[-1]
ok(req["headers"].get("if-none-match") is not None
   and req["headers"].get("if-modified-since") is None,
   "revalidation: If-None-Match, no If-Modified-Since", repr(req["headers"]))
r = a.get(TRN + "/", headers=HTML)
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "HTML listing again: REVALIDATED")
ok(vary_has_accept(r), "REVALIDATED listing: Vary: Accept")
m.listing_etags = False

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

ok(a.wait_log(r'"GET %s HTTP/1.1" 200 \S+ MISS$' % re.escape(quote_path(TRN + "/")),
              log="access"),
   "listing MISS: ZDDC_CACHE_STATUS MISS in the access log")

# --- 5xx: STALE with a sidecar, 502 without ---------------------------------------------
m.set_fault("5xx", PROJ + "/")
r = a.get(TRN + "/", headers=JSON)
ok(r.status == 200 and r.header("X-Zddc-Cache") == "STALE"
   and r.body == read(side(TRN, "json")),
   "upstream 503, JSON sidecar cached: 200 STALE with the sidecar",
   "got %r" % r)
r = a.get(TRN2 + "/", headers=JSON)
is_(r.status, 502, "upstream 503, no sidecar: 502")
ok(not os.path.exists(side(TRN2, "json")), "upstream 503: nothing stored")
m.clear_faults()

# --- query string on a directory: BYPASS ---------------------------------------------
r = a.get(TRN + "/", headers=JSON, query="sort=name")
ok(r.status == 200 and r.header("X-Zddc-Cache") == "BYPASS"
   and b"query: sort=name" in r.body,
   "directory with a query string: forwarded live (BYPASS)", "got %r" % r)

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
links = anchors(r.text)
HREF_OK = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$")
for n in OFF_NAMES:
    hits = [(h, t) for h, t in links if urllib.parse.unquote(h) == n]
    ok(hits, "offline HTML: a link whose href decodes to %r" % n,
       "links: %r" % links)
    ok(hits and HREF_OK.match(hits[0][0]) and "#" not in hits[0][0]
       and "?" not in hits[0][0],
       "offline HTML: the href of %r is percent-encoded (no raw space, "
       "'#', '?', stray '%%', quotes or '<')" % n,
       "href: %r" % (hits[0][0] if hits else None))
    ok(hits and hits[0][1] == n,
       "offline HTML: the link text is the name itself once unescaped: %r"
       % n, "text: %r" % (hits[0][1] if hits else None))
sub = [(h, t) for h, t in links
       if urllib.parse.unquote(h) == "sub #1 (draft)/"]
ok(sub and HREF_OK.match(sub[0][0]),
   "offline HTML: subdirectory link percent-encoded with trailing '/'",
   "links: %r" % links)
unlike(r.text, r"Pump & Motor|<script|\"A\" <rev", "offline HTML: no raw '&', "
       "'<' or quotes from names in the page")
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

# --- the root listing ----------------------------------------------------------------
r = a.get("/", headers=JSON)
ok(r.status == 200 and "Project 123456/" in [e["name"] for e in r.json()],
   "root listing GET / (JSON) -> 200 with the top-level entries",
   "got %r" % r)
is_(read(os.path.join(a.cache, ".zddc-listing.json")), r.body,
    "root listing stored as <root>/.zddc-listing.json")
ok(os.path.isfile(os.path.join(a.cache, ".zddc-cache")),
   "the marker survives next to the root sidecar")

# --- a trailing slash on a file's URL is not a directory to purge -----------------------
FILE = TRN + "/" + NAMES[0]
r = a.get(FILE)
ok(r.status == 200 and wait_until(lambda: os.path.isfile(on_disk(FILE)), 5),
   "precondition: file cached")
r = a.get(FILE + "/", headers=JSON)
is_(r.status, 404, "GET <file>/ (not a directory upstream) -> 404")
ok(os.path.isfile(on_disk(FILE)),
   "GET <file>/ answered 404: the cached FILE of that name is not purged "
   "(only a local directory would be)")

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

# --- HIT within ZddcCacheFreshness ----------------------------------------------------
b = Apache(cache_conf(m, "ZddcCacheFreshness 1h\n")).start()
r = b.get(TRN + "/", headers=JSON)
is_(r.header("X-Zddc-Cache"), "MISS", "freshness 1h: first listing GET MISS")
n = m.count(path=TRN + "/")
r = b.get(TRN + "/", headers=JSON)
ok(r.status == 200 and r.header("X-Zddc-Cache") == "HIT",
   "freshness 1h: second listing GET is a HIT", "got %r" % r)
is_(m.count(path=TRN + "/") - n, 0, "listing HIT: the master is not asked")
r = b.get(TRN + "/", headers=HTML)
is_(r.header("X-Zddc-Cache"), "MISS",
    "freshness 1h: the other representation is its own sidecar (MISS)")

done_testing()
