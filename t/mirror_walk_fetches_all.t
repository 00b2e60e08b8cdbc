#!/usr/bin/python3
# Mirror mode (SPEC §6.1-6.2, §6.5): one access under a subtree walks it
# whole: every file and listing in it is cached, nothing outside is touched.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
TRN = "/Docs/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
FILES = {
    "/Docs/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf": b"%PDF pump" * 500,
    TRN + "/cover #1.pdf": b"cover",
    TRN + "/50% \u00e9t\u00e9?.txt": "accents".encode(),
    "/Docs/deep/a/b/c.txt": b"deep",
}
OUTSIDE = {"/Other/o.pdf": b"other", "/root.txt": b"root"}

m = master(acl={"tok": ["/"]}, bearer="tok")
for path, data in list(FILES.items()) + list(OUTSIDE.items()):
    m.put_file(path, data, mtime=T0)
m.mkdir("/Docs/empty dir")

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()

r = a.get("/Docs/no such file.pdf")
is_(r.status, 404, "the triggering request itself is answered (404)")
done = a.wait_log(r"walk of /Docs finished in \S+: (.*)$", 20)
ok(done, "the walk of /Docs finishes and logs one line", a.error_log_tail())
figures = dict(kv.split("=") for kv in done.group(1).split()) if done else {}
is_(figures.get("dirs"), "6", "dirs counts every listing of the subtree")
is_(figures.get("files"), str(len(FILES)), "files counts every file entry")
is_(figures.get("fetched"), str(len(FILES)), "every file was fetched")
is_(figures.get("errors"), "0", "no errors")
is_(figures.get("bytes"), str(sum(len(v) for v in FILES.values())),
    "bytes counts the downloaded bodies")

for path, data in FILES.items():
    fs = a.cache + path
    ok(os.path.isfile(fs), "cached: %s" % path)
    if os.path.isfile(fs):
        with open(fs, "rb") as f:
            is_(f.read(), data, "content of %s" % path)
        is_(int(os.stat(fs).st_mtime), T0, "mtime of %s is Last-Modified"
            % path)
for path in OUTSIDE:
    ok(not os.path.exists(a.cache + path), "outside the subtree: %s not "
       "cached" % path)

for d in ("/Docs", TRN, "/Docs/deep/a/b", "/Docs/empty dir"):
    side = os.path.join(a.cache + d, ".zddc-listing.json")
    ok(os.path.isfile(side), "JSON listing sidecar kept for %s/" % d)
    if os.path.isfile(side):
        with open(side) as f:
            ok(isinstance(json.load(f), list), "sidecar of %s/ is the JSON "
               "listing" % d)

listings = [e for e in m.requests("GET")
            if e["path"].endswith("/") and e["path"].startswith("/Docs")]
ok(listings and all("application/json" in e["headers"].get("accept", "")
                    for e in listings),
   "the walker asks for JSON listings", [e["headers"] for e in listings])
ok(all(e["headers"].get("authorization") == "Bearer tok"
       for e in m.requests()), "every upstream request carries the bearer")
is_(m.count(prefix="/Other"), 0, "nothing outside the subtree was asked for")

with open(os.path.join(a.cache, ".zddc-mirror-state.json")) as f:
    state = json.load(f)
ok(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
            state["subtrees"]["/Docs"]["last_walk_at"]),
   "state file records last_walk_at of /Docs", state)

st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
sub = st["vhosts"][0]["subtrees"][0]
is_(sub["path"], "/Docs", "status page lists the subtree")
is_(sub["in_flight"], None, "no walk in flight any more")
is_(sub["last"]["status"], "ok", "the last walk went fine")
is_(sub["last"]["fetched"], len(FILES), "status page shows its figures")

done_testing()
