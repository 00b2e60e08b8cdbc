#!/usr/bin/python3
# SPEC §5: Cache-Control: no-store passed through and not stored; query
# strings and write methods forwarded live (BYPASS) with their body; a 2xx
# write drops the local copy and the parent's listing sidecars; the client's
# Authorization and Cookie never reach the master, the mirror's bearer does.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
NOSTORE = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec (draft).pdf"
QFILE = TRN + "/123456-EL-SPC-2624_A (IFC) - Motor Spec.pdf"
PUTF = TRN + "/123456-EL-SPC-2625_B (IFR) - Cable Spec #2.pdf"
POSTF = TRN + "/123456-EL-CMT-0001 - Comments (100%).txt"
DELF = TRN + "/123456-EL-DWG-0007_A (IFC) - Superseded.pdf"
FAILF = TRN + "/123456-EL-DWG-0008_A (IFC) - Write fails.pdf"
NEWF = TRN + "/123456-EL-SPC-2626_A (IFR) - New \u00dcbersicht.pdf"
BEARER = "test-token"
CLIENT_AUTH = "Basic Y2xpZW50OnN1cGVyLXNlY3JldA=="
CLIENT_COOKIE = "zddc_session=client-cookie-value; theme=dark"

m = master()
for p in (NOSTORE, QFILE, PUTF, POSTF, DELF, FAILF):
    m.put_file(p, b"original " + p.encode(), mtime=T0)
m.set_mtime(TRN, T0)
m.no_store.add(NOSTORE)
NSDIR = PROJ + "/Drafts (not for storage)"
m.put_file(NSDIR + "/plan.pdf", b"plan", mtime=T0)
m.no_store.add(NSDIR + "/")

a = Apache(cache_conf(m, "ZddcForwardWrites On\n", token=BEARER)).start()
on_disk = a.on_disk


def get_stored(path):
    """GET path (a MISS) and wait until the copy is published on disk."""
    r = a.get(path)
    wait_until(lambda: os.path.isfile(on_disk(path)), 5)
    return r


def sidecars(d):
    base = on_disk(d)
    return [n for n in (".zddc-listing.json", ".zddc-listing.html")
            if os.path.isfile(os.path.join(base, n))]


def cache_listings(d):
    a.get(d + "/", headers={"Accept": "application/json"})
    a.get(d + "/", headers={"Accept": "text/html"})
    return sidecars(d)


# --- Cache-Control: no-store -----------------------------------------------------
r = a.get(NOSTORE)
ok(r.status == 200 and r.body == b"original " + NOSTORE.encode(),
   "no-store: GET -> 200 with the upstream body", "got %r" % r)
like(r.header("Cache-Control", ""), r"no-store",
     "no-store: Cache-Control: no-store is passed to the client")
ok(not os.path.lexists(on_disk(NOSTORE)), "no-store: the file is not stored")
isnt(r.header("X-Zddc-Cache"), "HIT", "no-store: verdict is not HIT")
n = m.count("GET", path=NOSTORE)
r = a.get(NOSTORE)
ok(r.status == 200 and r.body == b"original " + NOSTORE.encode(),
   "no-store: second GET -> 200 again", "got %r" % r)
is_(m.count("GET", path=NOSTORE) - n, 1,
    "no-store: the second GET goes upstream again")
ok(not os.path.lexists(on_disk(NOSTORE)), "no-store: still not stored")

# listings too: a no-store listing is passed through and no sidecar written
for label, hdrs, kind in (("JSON", {"Accept": "application/json"}, "json"),
                          ("HTML", {"Accept": "text/html"}, "html")):
    r = a.get(NSDIR + "/", headers=hdrs)
    ok(r.status == 200 and b"plan.pdf" in r.body,
       "no-store %s listing: 200 with the master's listing" % label,
       "got %r" % r)
    like(r.header("Cache-Control", ""), r"no-store",
         "no-store %s listing: Cache-Control: no-store is passed to the "
         "client" % label)
    ok(not os.path.exists(os.path.join(on_disk(NSDIR),
                                       ".zddc-listing." + kind)),
       "no-store %s listing: no sidecar stored" % label)

# --- query string: BYPASS ------------------------------------------------------------
r = a.get(QFILE, query="q=pump%20spec&rev=A")
is_(r.status, 200, "query string: GET -> 200")
is_(r.header("X-Zddc-Cache"), "BYPASS", "query string: X-Zddc-Cache: BYPASS")
like(r.body, r"query: q=pump%20spec&rev=A",
     "query string: the client gets the master's live answer")
reqs = m.requests("GET", path=QFILE)
ok(reqs and reqs[-1]["query"] == "q=pump%20spec&rev=A",
   "query string: the master saw the query 'q=pump%20spec&rev=A'",
   repr(reqs[-1] if reqs else None))
ok(not os.path.lexists(on_disk(QFILE)), "query string: nothing is stored")
ok(a.wait_log(r'"GET %s\?q=pump%%20spec&rev=A HTTP/1.1" 200 \S+ BYPASS$'
              % re.escape(quote_path(QFILE)), log="access"),
   "query string: access log ZDDC_CACHE_STATUS is BYPASS")
r = a.get(QFILE, query="q=pump%20spec&rev=A")
is_(r.header("X-Zddc-Cache"), "BYPASS",
    "query string: a repeat is forwarded again (BYPASS)")

# --- PUT: body forwarded, local copy and parent sidecars dropped -----------------
r = get_stored(PUTF)
ok(r.status == 200 and os.path.isfile(on_disk(PUTF)),
   "precondition: PUT target cached")
is_(cache_listings(TRN), [".zddc-listing.json", ".zddc-listing.html"],
    "precondition: both listing sidecars of the parent cached")
new_body = b"%PDF-1.4 cable spec rev B\n" + bytes(range(256)) * 20
r = a.request("PUT", PUTF, body=new_body,
              headers={"Content-Type": "application/pdf"})
is_(r.status, 201, "PUT: the master's 201 reaches the client")
is_(r.header("X-Zddc-Cache"), "BYPASS", "PUT: X-Zddc-Cache: BYPASS")
reqs = m.requests("PUT", path=PUTF)
ok(reqs and reqs[-1]["body"] == new_body,
   "PUT: the master received the body (%d bytes)" % len(new_body),
   "got %r" % (len(reqs[-1]["body"]) if reqs else None))
is_(m.read_file(PUTF), new_body, "PUT: the master stored the new document")
ok(not os.path.lexists(on_disk(PUTF)),
   "PUT 2xx: the local copy of the path is dropped")
is_(sidecars(TRN), [], "PUT 2xx: the parent's listing sidecars are dropped")
r = a.get(PUTF)
ok(r.status == 200 and r.body == new_body and
   r.header("X-Zddc-Cache") == "MISS",
   "after PUT: GET fetches the new version (MISS)", "got %r" % r)

# chunked request body
cache_listings(TRN)
parts = [b"chunk-%d " % i * 100 for i in range(5)]
r = a.request("PUT", NEWF, body=iter(parts))  # no length: chunked
is_(r.status, 201, "chunked PUT of a new file: 201")
reqs = m.requests("PUT", path=NEWF)
ok(reqs and reqs[-1]["body"] == b"".join(parts),
   "chunked PUT: the master received the whole body",
   "got %r" % (reqs[-1]["body"][:80] if reqs else None))
is_(sidecars(TRN), [], "chunked PUT 2xx of a new file: parent sidecars "
    "dropped")

# --- POST -----------------------------------------------------------------------------
get_stored(POSTF)
cache_listings(TRN)
ok(os.path.isfile(on_disk(POSTF)), "precondition: POST target cached")
r = a.request("POST", POSTF, body=b"comment=Looks+good&status=IFC",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
ok(r.status == 200 and b"ok POST" in r.body,
   "POST: the master's answer reaches the client", "got %r %r"
   % (r, r.body[:80]))
is_(r.header("X-Zddc-Cache"), "BYPASS", "POST: X-Zddc-Cache: BYPASS")
reqs = m.requests("POST", path=POSTF)
ok(reqs and reqs[-1]["body"] == b"comment=Looks+good&status=IFC",
   "POST: the master received the body")
ok(reqs and reqs[-1]["headers"].get("content-type") ==
   "application/x-www-form-urlencoded",
   "POST: the request Content-Type is forwarded")
ok(not os.path.lexists(on_disk(POSTF)), "POST 2xx: the local copy is dropped")
is_(sidecars(TRN), [], "POST 2xx: the parent's listing sidecars are dropped")

# --- DELETE ------------------------------------------------------------------------------
get_stored(DELF)
cache_listings(TRN)
ok(os.path.isfile(on_disk(DELF)), "precondition: DELETE target cached")
r = a.request("DELETE", DELF)
is_(r.status, 204, "DELETE: the master's 204 reaches the client")
is_(r.header("X-Zddc-Cache"), "BYPASS", "DELETE: X-Zddc-Cache: BYPASS")
ok(not m.exists(DELF), "DELETE: forwarded (the master removed the file)")
ok(not os.path.lexists(on_disk(DELF)), "DELETE 2xx: the local copy is dropped")
is_(sidecars(TRN), [], "DELETE 2xx: the parent's listing sidecars are dropped")
is_(a.get(DELF).status, 404, "after DELETE: GET -> 404")

# --- a failed write keeps the local copy --------------------------------------------------
get_stored(FAILF)
ok(os.path.isfile(on_disk(FAILF)), "precondition: failing PUT target cached")
cache_listings(TRN)
m.set_fault("5xx", FAILF)
r = a.request("PUT", FAILF, body=b"rejected")
ok(r.status >= 500, "PUT answered 503 upstream: the client gets a 5xx",
   "got %r" % r)
is_(r.header("X-Zddc-Cache"), "BYPASS", "failed PUT: X-Zddc-Cache: BYPASS")
ok(os.path.isfile(on_disk(FAILF)), "failed PUT (non-2xx): the local copy "
   "is kept")
is_(sidecars(TRN), [".zddc-listing.json", ".zddc-listing.html"],
    "failed PUT (non-2xx): the parent's sidecars are kept")
m.clear_faults()

# --- client credentials never reach the master -------------------------------------------
m.clear_log()
cred = {"Authorization": CLIENT_AUTH, "Cookie": CLIENT_COOKIE,
        "Proxy-Authorization": CLIENT_AUTH}
a.get(QFILE, headers=cred)                      # MISS
wait_until(lambda: os.path.isfile(on_disk(QFILE)), 5)
a.get(QFILE, headers=cred)                      # revalidation
a.get(QFILE, headers=cred, query="q=1")         # BYPASS GET
a.get(TRN + "/", headers=dict(cred, Accept="application/json"))  # listing
a.request("PUT", TRN + "/cred-test.txt", body=b"x", headers=cred)
a.request("POST", QFILE, body=b"y", headers=cred)
seen = m.requests()
is_(len(seen), 6, "six client requests reached the master")
is_(sorted(set(e["headers"].get("authorization") for e in seen)),
    ["Bearer %s" % BEARER],
    "every upstream request carries only the mirror's bearer, never the "
    "client's Authorization")
is_([e["path"] for e in seen if "cookie" in e["headers"]], [],
    "no upstream request carries the client's Cookie")
is_([e["path"] for e in seen if "proxy-authorization" in e["headers"]], [],
    "no upstream request carries the client's Proxy-Authorization")
is_([e["path"] for e in seen
     if any("super-secret" in v or "Y2xpZW50" in v or "client-cookie" in v
            for v in e["headers"].values())], [],
    "the client's credentials appear in no upstream header at all")

done_testing()
