#!/usr/bin/python3
# SPEC §3/§5/§8, issue 8 #2: a local user never writes to the master with
# the mirror's token. OPTIONS is answered locally, every method other than
# GET/HEAD answers 405 with Allow and never reaches the master (PURGE
# included), unless ZddcForwardWrites On; then writes are forwarded and the
# local copy and its parent's listings are dropped. Both MPMs.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
DOC = PROJ + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
NEW = PROJ + "/123456-EL-SPC-2624_A (IFC) - New.pdf"
BODY = b"%PDF-1.4 pump spec"
METHODS = ("PUT", "DELETE", "POST", "PATCH", "PURGE", "PROPFIND", "MKCOL")

m = master()
for mpm in ("event", "prefork"):
    m.put_file(DOC, BODY, mtime=T0)
    a = Apache(cache_conf(m), mpm=mpm).start()
    is_(a.get(DOC).status, 200, "%s: the document is fetched" % mpm)
    ok(wait_until(lambda: a.disk(DOC) == BODY, 10),
       "%s: and stored" % mpm)
    m.clear_log()

    for meth in METHODS:
        r = a.request(meth, DOC if meth != "MKCOL" else PROJ + "/new/",
                      body=b"payload" if meth in ("PUT", "POST", "PATCH")
                      else None)
        is_(r.status, 405, "%s: %s -> 405" % (mpm, meth))
        allow = [x.strip() for x in r.header("Allow", "").split(",")]
        ok("GET" in allow and "HEAD" in allow and "OPTIONS" in allow
           and meth not in allow,
           "%s: %s answer's Allow lists GET, HEAD, OPTIONS only" % (mpm, meth),
           "Allow: %r" % r.header("Allow"))
    r = a.request("OPTIONS", DOC)
    is_(r.status, 200, "%s: OPTIONS answered locally" % mpm)
    allow = set(x.strip() for x in r.header("Allow", "").split(","))
    ok({"GET", "HEAD", "OPTIONS"} <= allow and not allow & set(METHODS),
       "%s: OPTIONS lists GET, HEAD, OPTIONS and no write" % mpm,
       "Allow: %r" % r.header("Allow"))
    is_(len(r.body), 0, "%s: OPTIONS has no body" % mpm)
    is_(m.count(), 0, "%s: none of these requests reached the master"
        % mpm, ) or diag(m.requests())
    ok(os.path.exists(m.fs_path(DOC)), "%s: the master still has the "
       "document (DELETE never got there)" % mpm)
    ok(not os.path.exists(m.fs_path(NEW)), "%s: nothing was created" % mpm)
    is_(a.disk(DOC), BODY, "%s: the local copy is untouched" % mpm)
    r = a.get(DOC, query="rev=A")
    is_((r.status, r.header("X-Zddc-Cache")), (200, "BYPASS"),
        "%s: GET with a query string is still forwarded live" % mpm)
    a.stop()

    # --- ZddcForwardWrites On: forwarded, local copy dropped ---------------
    b = Apache(cache_conf(m, "ZddcForwardWrites On\n"), mpm=mpm).start()
    is_(b.get(DOC).status, 200, "%s/On: the document is fetched" % mpm)
    ok(wait_until(lambda: b.disk(DOC) == BODY, 10),
       "%s/On: and stored" % mpm)
    b.get(PROJ + "/", headers={"Accept": "application/json"})
    ok(os.path.exists(b.on_disk(PROJ + "/.zddc-listing.json")),
       "%s/On: its folder listing is cached" % mpm)
    m.clear_log()
    r = b.request("PUT", NEW, body=b"new document")
    is_(r.status, 201, "%s/On: PUT forwarded -> 201" % mpm)
    is_(m.count("PUT", NEW), 1, "%s/On: the master got the PUT" % mpm)
    ok(not os.path.exists(b.on_disk(PROJ + "/.zddc-listing.json")),
       "%s/On: the parent's listing sidecar is dropped" % mpm)
    r = b.request("DELETE", DOC)
    is_(r.status, 204, "%s/On: DELETE forwarded -> 204" % mpm)
    is_(b.disk(DOC), None, "%s/On: the local copy is dropped" % mpm)
    r = b.request("OPTIONS", DOC)
    is_((r.status, m.count("OPTIONS")), (200, 0),
        "%s/On: OPTIONS is still answered locally" % mpm)
    r = b.request("TRACE", DOC)
    is_(m.count("TRACE"), 0, "%s/On: TRACE still never forwarded" % mpm)
    os.path.exists(m.fs_path(NEW)) and os.unlink(m.fs_path(NEW))
    b.stop()

done_testing()
