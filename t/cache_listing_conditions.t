#!/usr/bin/python3
# Issue 10, SPEC §6.1 in the request path: a directory's Last-Modified does
# not move when a file in it is rewritten in place, so a directory request
# revalidating its cached listing never sends If-Modified-Since; it sends
# If-None-Match when the master gave that listing an ETag, and a 304 serves
# the cached listing as REVALIDATED. The walker follows the same rule.
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}

m = master()                    # realistic: a listing is dated by its dir
m.put_file("/D/f.pdf", b"revision A", mtime=T0)
m.put_file("/D/g.pdf", b"g", mtime=T0)
m.set_mtime("/D", T0)
m.set_mtime("/", T0)

a = Apache(cache_conf(m)).start()


def listing_reqs(accept):
    return [e for e in m.requests("GET", path="/D/")
            if accept in e["headers"].get("accept", "")]


def sizes(r):
    try:
        return {e["name"]: e["size"] for e in r.json()}
    except (ValueError, TypeError, KeyError):
        return None


r = a.get("/D/", headers=JSON)
is_(r.status, 200, "first JSON listing: 200")
is_(r.header("X-Zddc-Cache"), "MISS", "first JSON listing: MISS")
is_(sizes(r), {"f.pdf": 10, "g.pdf": 1}, "first JSON listing: the entries")
r = a.get("/D/", headers=HTML)
is_(r.header("X-Zddc-Cache"), "MISS", "first HTML listing: MISS")

# --- no If-Modified-Since, whatever is cached ---------------------------------
m.clear_log()
r = a.get("/D/", headers=JSON)
is_(r.status, 200, "cached JSON listing asked again: 200")
a.get("/D/", headers=HTML)
reqs = listing_reqs("application/json") + listing_reqs("text/html")
is_(len(reqs), 2, "each representation asked the master once")
is_([e["headers"].get("if-modified-since") for e in reqs], [None, None],
    "a directory request with a cached listing sends no If-Modified-Since")
is_([e["headers"].get("if-none-match") for e in reqs], [None, None],
    "nor If-None-Match while the master gave the listing no ETag")

# --- an in-place rewrite behind an unmoved directory mtime --------------------
dir_mtime = os.stat(m.fs_path("/D")).st_mtime
with open(m.fs_path("/D/f.pdf"), "r+b") as f:
    f.write(b"revision B, longer")
m.set_mtime("/D/f.pdf", T0 + 100)
m.set_mtime("/D", T0)
is_(os.stat(m.fs_path("/D")).st_mtime, dir_mtime,
    "the master's directory mtime did not move")
r = a.get("/D/", headers=JSON)
is_(r.status, 200, "listing after the in-place rewrite: 200")
is_(sizes(r), {"f.pdf": 18, "g.pdf": 1},
    "the request path picks up the rewritten file's new size")
is_(r.header("X-Zddc-Cache"), "MISS", "and answers it as a MISS")
with open(os.path.join(a.on_disk("/D"), ".zddc-listing.json"), "rb") as f:
    kept = json.loads(f.read())
is_({e["name"]: e["size"] for e in kept}, {"f.pdf": 18, "g.pdf": 1},
    "the JSON sidecar holds the new listing")
r = a.get("/D/", headers=HTML)
ok(r.status == 200 and "revision" not in r.text and "f.pdf" in r.text,
   "the HTML listing is fetched again too", r.status)

# --- a master that gives listings an ETag -------------------------------------
m.listing_etags = True
r = a.get("/D/", headers=JSON)
etag = r.header("ETag")
is_(r.header("X-Zddc-Cache"), "MISS",
    "JSON listing with the master's ETag: MISS (the ETag is kept)")
a.get("/D/", headers=HTML)
m.clear_log()
r = a.get("/D/", headers=JSON)
reqs = listing_reqs("application/json")
is_(len(reqs), 1, "the next JSON listing request asks the master once")
inm = reqs[0]["headers"].get("if-none-match") if reqs else None
ok(inm and inm.startswith('"'),
   "it carries If-None-Match with the master's ETag", reqs and reqs[0])
ok(reqs and reqs[0]["headers"].get("if-modified-since") is None,
   "and still no If-Modified-Since")
is_(r.status, 200, "the master's 304 gives the client the cached listing")
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "as REVALIDATED")
is_(sizes(r), {"f.pdf": 18, "g.pdf": 1}, "with its entries")
ok(etag is not None, "the client gets an ETag of its own for the listing")
r = a.get("/D/", headers=HTML)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "the HTML listing revalidates by its own ETag too")
hreqs = listing_reqs("text/html")
ok(hreqs and hreqs[-1]["headers"].get("if-none-match"),
   "with If-None-Match", hreqs and hreqs[-1]["headers"])

# A change under an ETag: the master's tag moves, the 200 replaces the copy.
m.put_file("/D/h.pdf", b"new", mtime=T0 + 200)
m.set_mtime("/D", T0)
r = a.get("/D/", headers=JSON)
is_(r.header("X-Zddc-Cache"), "MISS", "a changed listing under ETags: MISS")
is_(sizes(r), {"f.pdf": 18, "g.pdf": 1, "h.pdf": 3},
    "with the new entry")

a.stop()
m.stop()
done_testing()
