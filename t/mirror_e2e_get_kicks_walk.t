#!/usr/bin/python3
# Mirror mode end to end (SPEC §5, §6): an ordinary GET of one file is served
# at once (MISS) and kicks a background walk of its subtree; soon every file
# of the subtree (real ZDDC names) is on disk with the upstream mtime, each
# directory has its JSON sidecar, and with the master down a walked directory
# still browses: HTML rendered from the JSON sidecar, JSON from the sidecar,
# both STALE.
import html
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SLOW = 4.0
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
CALCS = PROJ + "/Calcs #2 (50% done)"
INTL = PROJ + "/\u00c9tudes \u2013 r\u00e9sum\u00e9"
TARGET = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
SLOW_FILE = CALCS + "/123456-ME-CAL-0007_0 (IFI) - Pump Sizing #2 (100% " \
    "load).pdf"
FILES = {
    TARGET: (b"%PDF-1.4 pump spec\n" * 200, T0),
    TRN + "/cover sheet (rev A).pdf": (b"cover", T0 + 10),
    TRN + "/50% markup #3.txt": (b"markup", T0 + 20),
    SLOW_FILE: (b"%PDF sizing" * 50, T0 + 30),
    CALCS + "/notes & <tags>.txt": (b"notes", T0 + 40),
    INTL + "/r\u00e9sum\u00e9 \u65e5\u672c.pdf": (b"intl", T0 + 50),
    PROJ + "/readme.txt": (b"readme", T0 + 60),
}
DIRS = [PROJ, TRN, CALCS, INTL]

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=SLOW)
for path, (data, mt) in FILES.items():
    m.put_file(path, data, mtime=mt)
m.put_file("/Other Project/x.pdf", b"x", mtime=T0)
m.set_fault("slow", SLOW_FILE)

a = Apache(mirror_conf(m, 'ZddcMirrorSubtree "%s"\n' % PROJ))
a.start()

t = time.monotonic()
r = a.get(TARGET, timeout=30)
took = time.monotonic() - t
is_(r.status, 200, "GET of one file in the subtree answers 200")
ok(r.body == FILES[TARGET][0], "with the file's content")
is_(r.header("X-Zddc-Cache"), "MISS", "fetched from the upstream (MISS)")
ok(took < SLOW, "at once: it does not wait for the walk, which is stuck on "
   "another file for %ss" % SLOW, "took %.2fs" % took)
ok(a.wait_log(r"walk of %s queued" % re.escape(PROJ), 5),
   "the GET queued a walk of the subtree", a.error_log_tail())

done = a.wait_log(r"walk of %s finished in \S+: (.*)$" % re.escape(PROJ),
                  SLOW + 20)
ok(done, "the walk finishes shortly after", a.error_log_tail())
like(done.group(1) if done else "", r"errors=0", "without errors")

for path, (data, mt) in FILES.items():
    fs = a.cache + path
    if not ok(os.path.isfile(fs), "on disk: %s" % path):
        continue
    with open(fs, "rb") as f:
        is_(f.read(), data, "content of %s" % path)
    is_(int(os.stat(fs).st_mtime), mt, "mtime of %s is the upstream's" % path)
ok(not os.path.exists(a.cache + "/Other Project"), "nothing outside the "
   "subtree is mirrored")

for d in DIRS:
    side = os.path.join(a.cache + d, ".zddc-listing.json")
    if not ok(os.path.isfile(side), "JSON sidecar for %s/" % d):
        continue
    with open(side) as f:
        try:
            names = sorted(e["name"].rstrip("/") for e in json.load(f))
        except (ValueError, KeyError, TypeError):
            names = None
    want = sorted(os.listdir(m.fs_path(d)))
    is_(names, want, "the sidecar of %s/ lists its entries" % d)
    ok(not os.path.exists(os.path.join(a.cache + d, ".zddc-listing.html")),
       "no HTML sidecar for %s/ (nobody asked for HTML)" % d)

# --- offline ---------------------------------------------------------------
m.stop()
r = a.get(TRN + "/", headers={"Accept": "text/html"})
is_(r.status, 200, "offline: HTML listing of a walked directory answers 200")
is_(r.header("X-Zddc-Cache"), "STALE", "marked STALE")
like(r.header("Content-Type", ""), r"^text/html", "as HTML")
like(r.header("Vary", ""), r"(?i)\baccept\b", "with Vary: Accept")
hrefs = re.findall(r'<a href="([^"]*)">([^<]*)</a>', r.text)
want = sorted(os.listdir(m.fs_path(TRN)))
got_names = sorted(urllib.parse.unquote(html.unescape(h))
                   for h, _ in hrefs if h != "../")
is_(got_names, want, "rendered from the JSON sidecar: a link per entry")
bad = [h for h, _ in hrefs
       if re.search(r"[ #?]|%(?![0-9A-Fa-f]{2})", html.unescape(h))]
is_(bad, [], "links are percent-encoded (no raw space, '#', '?' or bare "
    "'%')")
labels = sorted(html.unescape(lab) for h, lab in hrefs if h != "../")
is_(labels, want, "link texts are the names")

r = a.get(CALCS + "/")
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"),
    "offline: HTML listing of another walked directory (no Accept) is STALE")
ok("notes &amp; &lt;tags&gt;.txt" in r.text and "<tags>" not in r.text,
   "names are HTML-escaped", r.text)

r = a.get(TRN + "/", headers={"Accept": "application/json"})
is_(r.status, 200, "offline: JSON listing answers 200")
is_(r.header("X-Zddc-Cache"), "STALE", "marked STALE")
like(r.header("Content-Type", ""), r"^application/json", "as JSON")
with open(os.path.join(a.cache + TRN, ".zddc-listing.json"), "rb") as f:
    is_(r.body, f.read(), "the body is the JSON sidecar")

r = a.get(INTL + "/" + "r\u00e9sum\u00e9 \u65e5\u672c.pdf")
is_((r.status, r.header("X-Zddc-Cache"), r.body), (200, "STALE", b"intl"),
    "offline: a walked file that no client ever asked for is served STALE")

done_testing()
