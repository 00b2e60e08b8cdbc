#!/usr/bin/python3
# Mirror mode (SPEC §6.1): a directory's Last-Modified does not move when a
# file in it is rewritten in place or its ACL changes (Go's http.FileServer),
# so listings are never If-Modified-Since; the next walk sees both changes.
# A master that gives listings an ETag gets If-None-Match, and a 304 still
# recurses through the cached listing.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")     # realistic dating
m.put_file("/D/f.pdf", b"revision A", mtime=T0)
m.put_file("/D/g.pdf", b"will be revoked", mtime=T0)
m.put_file("/D/sub/h.pdf", b"deep file", mtime=T0)
m.put_file("/Other/o.pdf", b"other", mtime=T0)
for d in ("/D/sub", "/D", "/Other", "/"):
    m.set_mtime(d, T0)

a = Apache(mirror_conf(m, "ZddcMirrorMinInterval 1s\n"))
a.start()


def walks():
    return re.findall(r"walk of / finished in \S+: (.*)", a.error_log())


def walk(n, what):
    a.walk_when_due("/", "/Other/o.pdf")
    ok(wait_until(lambda: len(walks()) >= n, 20), what, a.error_log_tail())


def listing_requests():
    return [e for e in m.requests("GET")
            if e["path"].endswith("/")
            and "application/json" in e["headers"].get("accept", "")]


a.get("/Other/o.pdf")
ok(wait_until(lambda: len(walks()) == 1, 20), "first walk ran",
   a.error_log_tail())
is_(a.disk("/D/f.pdf"), b"revision A", "first walk cached revision A")
ok(os.path.isfile(a.on_disk("/D/g.pdf")), "first walk cached g.pdf")

# In place: new bytes and mtime, the directory's mtime as it was.
dir_mtime = os.stat(m.fs_path("/D")).st_mtime
with open(m.fs_path("/D/f.pdf"), "r+b") as f:
    f.write(b"revision B")
m.set_mtime("/D/f.pdf", T0 + 100)
# The token loses one file of the folder; the folder itself stays visible.
m.set_acl("tok", ["/D/f.pdf", "/D/sub/", "/Other/"])
m.set_mtime("/D", T0)
is_(os.stat(m.fs_path("/D")).st_mtime, dir_mtime,
    "the master's directory mtime did not move")
m.clear_log()
walk(2, "second walk ran")
is_(a.disk("/D/f.pdf"), b"revision B",
    "an in-place rewrite is picked up by the next walk")
ok(not os.path.lexists(a.on_disk("/D/g.pdf")),
   "a one-file ACL revocation is purged by the next walk")
ok(os.path.isfile(a.on_disk("/D/sub/h.pdf")), "the rest of the folder stays")
reqs = listing_requests()
ok(len(reqs) >= 3, "the walk asked for the listings", len(reqs))
ok(reqs and not any(e["headers"].get("if-modified-since") for e in reqs),
   "no listing request carries If-Modified-Since",
   [e["headers"] for e in reqs])
ok(not any(e["headers"].get("if-none-match") for e in reqs),
   "no If-None-Match while the master gave no ETag")

# A master that gives listings an ETag: the next walk stores it, the one
# after sends If-None-Match, gets 304s and still walks below them.
m.listing_etags = True
walk(3, "third walk ran (ETags stored)")
# A listing's ETag is kept with its sidecar (an extended attribute), not in
# a metadata directory and file of its own per directory.
metas = [d for d, _, _ in os.walk(a.cache)
         if os.path.basename(d) == ".zddc-meta"]
ok(not metas, "no .zddc-meta directory for the listings' ETags", metas)
os.unlink(a.cache + "/D/sub/h.pdf")     # lost locally: the walk must see it
m.clear_log()
walk(4, "fourth walk ran")
reqs = listing_requests()
by_path = {e["path"]: e for e in reqs}
ok(all(e["headers"].get("if-none-match") for e in reqs) and len(reqs) >= 3,
   "every listing request carries If-None-Match",
   [(e["path"], e["headers"].get("if-none-match")) for e in reqs])
ok("/D/sub/" in by_path, "the walk recursed below a 304 listing",
   sorted(by_path))
ok(not any(e["headers"].get("if-modified-since") for e in reqs),
   "still no If-Modified-Since")
is_(a.disk("/D/sub/h.pdf"), b"deep file",
    "a file named by a 304 listing's cached copy is fetched when missing")
like(walks()[-1], r" fetched=1 ", "only the missing file was fetched")

# A change under ETags: the listing's ETag changes with its content.
with open(m.fs_path("/D/f.pdf"), "r+b") as f:
    f.write(b"revision C")
m.set_mtime("/D/f.pdf", T0 + 200)
m.set_mtime("/D", T0)
walk(5, "fifth walk ran")
is_(a.disk("/D/f.pdf"), b"revision C",
    "a rewrite behind a changed listing ETag is picked up")

done_testing()
