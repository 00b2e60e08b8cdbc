#!/usr/bin/python3
# SPEC §5/§10 (issue 11): every pipeline response carries Cache-Status (RFC
# 9211) with this cache's member last; STALE carries Age and
# X-Zddc-Verified-At; an upstream that says it served stale makes this
# mirror's verdict STALE, never REVALIDATED or MISS; the offline HTML
# listing says the master could not be reached and when the copy was last
# confirmed, and renders in a real browser.
import email.utils
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
DOC = PROJ + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
m = master()
m.put_file(DOC, b"%PDF-1.4 spec", mtime=T0)
m.put_file(PROJ + "/Sub Folder/x.pdf", b"x", mtime=T0)
m.put_file(PROJ + "/big.pdf", b"x" * 3000, mtime=T0)
m.set_mtime(PROJ, T0)

a = Apache(cache_conf(m, "ServerName docs-mirror.example\n")).start()
ME = "docs-mirror.example"


def cs(r):
    return r.header("Cache-Status", "")


r = a.get(DOC)
is_((r.status, r.header("X-Zddc-Cache")), (200, "MISS"), "first GET: MISS")
is_(cs(r), ME + "; fwd=uri-miss; stored", "MISS: fwd=uri-miss; stored")
ok(wait_until(lambda: a.disk(DOC) is not None, 10), "the copy is published")
r = a.get(DOC)
is_(cs(r), ME + "; fwd=stale; fwd-status=304",
    "REVALIDATED: fwd=stale; fwd-status=304")
r = a.get(DOC, query="v=1")
is_(cs(r), ME + "; fwd=bypass", "BYPASS: fwd=bypass")
r = a.get(PROJ + "/", headers={"Accept": "application/json"})
is_(cs(r), ME + "; fwd=uri-miss; stored", "a listing MISS too")

# --- the master away: STALE with Age and X-Zddc-Verified-At ----------------
confirmed = time.time()
a.wait_confirmed_for(DOC, 1.0)      # let Age be at least 1 s
m.stop()
r = a.get(DOC)
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"), "master down: STALE")
like(cs(r), r'^' + re.escape(ME) + r'; hit; detail="stale[^"]*"$',
     "STALE: hit with a detail saying stale")
age = int(r.header("Age", "-1"))
ok(1 <= age <= 60, "Age counts seconds since the copy was confirmed",
   "Age: %r" % r.header("Age"))
va = r.header("X-Zddc-Verified-At")
ok(va and abs(email.utils.parsedate_to_datetime(va).timestamp()
              - confirmed) < 5,
   "X-Zddc-Verified-At is that moment, as an HTTP date", va)
r = a.get(PROJ + "/", headers={"Accept": "text/html"})
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"),
    "an HTML listing rendered from the JSON sidecar offline")
like(r.text, r'class="zddc-stale"[^>]*>The master could not be reached',
     "it carries the offline banner")
like(r.text, r"last confirmed <time datetime=\"20\d\d-",
     "saying when the copy was last confirmed")
like(r.text, r'<tr class="dir"><td><a href="Sub%20Folder/">Sub Folder/</a>',
     "folders first, links encoded")
like(r.text, r'title="3000 bytes">2\.9K<', "human-readable sizes")
like(r.text, r'href="\.\./">Parent Directory<', "a parent link")

chromium = shutil.which("chromium")
ok(chromium, "chromium is installed (make test installs it)")
if chromium:
    shot = os.path.join(tempdir(), "listing.png")
    res = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--window-size=1000,500", "--screenshot=" + shot,
         a.url(PROJ + "/")], capture_output=True, timeout=90)
    ok(os.path.exists(shot) and os.path.getsize(shot) > 5000,
       "headless Chromium renders the offline listing to a screenshot",
       res.stderr.decode("utf-8", "replace")[-800:])
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--dump-dom", a.url(PROJ + "/")], capture_output=True,
        timeout=90).stdout.decode("utf-8", "replace")
    like(dom, r"The master could not be reached",
         "the browser's DOM has the banner")
    like(dom, r'<a href="123456-EL-SPC-2623_A%20%28IFC%29%20-%20Pump%20'
         r'Spec\.pdf">', "and the document links")
m.start()

# --- an upstream that itself served stale (a higher tier offline) ----------
m.extra_headers["Cache-Status"] = ('regional.example; hit; '
                                   'detail="stale: upstream unreachable"')
r = a.get(DOC)
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"),
    "304 from a tier that served stale: STALE, not REVALIDATED")
like(cs(r), r'^regional\.example; hit; detail="stale: upstream '
     r'unreachable", ' + re.escape(ME) + r'; ',
     "the upstream's member comes first, ours last")
m.put_file(PROJ + "/new.pdf", b"new", mtime=T0)
r = a.get(PROJ + "/new.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"),
    "200 from a tier that served stale: STALE, not MISS")
m.extra_headers["Cache-Status"] = "regional.example; fwd=stale; fwd-status=304"
r = a.get(DOC)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "a tier that revalidated itself: REVALIDATED")
like(cs(r), r"^regional\.example; fwd=stale; fwd-status=304, "
     + re.escape(ME) + r"; fwd=stale; fwd-status=304$", "both members")
m.extra_headers.clear()

done_testing()
