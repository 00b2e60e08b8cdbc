#!/usr/bin/python3
# Status page (SPEC §7): a walk in flight shows its process, start time and
# live counters (HTML progress bar, JSON); the bearer never appears.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
TOKEN = "s3cret-bearer-token"
m = master(acl={TOKEN: ["/"]}, bearer=TOKEN, slow_seconds=4)
for i in range(5):
    m.put_file("/Docs/fast %d.pdf" % i, b"f" * 100, mtime=T0)
m.put_file("/Docs/slow.pdf", b"s" * 100, mtime=T0)
m.set_fault("slow", "/Docs/slow.pdf")

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorSubtree /Idle
<Location /zddc-status>
    SetHandler zddc-status
</Location>
<Location /server-status>
    SetHandler server-status
</Location>
""", token=TOKEN))
a.start()


def status():
    return a.get("/zddc-status", headers={"Accept": "application/json"})


r = status()
is_(r.status, 200, "status page answers")
like(r.header("Content-Type", ""), r"application/json", "JSON on request")
is_(r.header("Cache-Control"), "no-store", "status page is not cached")
v = r.json()["vhosts"][0]
is_(v["mode"], "mirror", "vhost mode shown")
is_(v["upstream"], m.base_url, "upstream URL shown")
is_(v["cache_root"], a.cache, "cache root shown")
is_([s["path"] for s in v["subtrees"]], ["/Docs", "/Idle"], "subtrees listed")
is_(v["subtrees"][0]["last_walk_at"], None, "never walked yet")
is_(v["subtrees"][0]["due"], True, "so the subtree is due")

a.get("/Docs/")


def running():
    s = status().json()["vhosts"][0]["subtrees"][0]["in_flight"]
    return s if s and s["done"] >= 5 else None


live = wait_until(running, 10, 0.1)
ok(live, "the walk in flight shows on the status page", status().text)
if live:
    is_(live["state"], "running", "state running")
    ok(live["pid"] in a.child_pids(), "with the walking process id")
    like(live["started_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
         "and its start time")
    is_(live["files"], 6, "files seen so far")
    is_(live["done"], 5, "files done so far (one is still downloading)")
    is_(live["dirs"], 1, "directories listed")
html = a.get("/zddc-status", headers={"Accept": "text/html"})
like(html.header("Content-Type", ""), r"text/html", "HTML for browsers")
like(html.text, r'<progress max="6" value="5">', "HTML progress bar")
like(html.text, r"running in process \d+ since", "HTML names the process")
like(html.text, r"<td class=\"path\">/Docs</td>", "HTML names the subtree")
for page in (html.text, status().text):
    ok(TOKEN not in page, "the bearer never appears on the status page")

ok(a.wait_log(r"walk of /Docs finished", 15), "the walk finishes")
s = status().json()["vhosts"][0]["subtrees"][0]
is_(s["in_flight"], None, "no walk in flight afterwards")
is_(s["last"]["fetched"], 6, "the last walk's figures are shown")
is_(s["due"], False, "and the subtree is no longer due")
ok(s["next_eligible_at"] > s["last_walk_at"], "next eligible time is later")

short = a.get("/server-status", query="auto")
like(short.text, r"^ZddcSubtree: \S+ /Docs last_walk_at=\d{4}-\S+Z "
     r"next_eligible_at=\S+ in_flight_pid=0 .*fetched=6 ",
     "server-status?auto carries a line per subtree")
full = a.get("/server-status")
like(full.text, r"<h2>ZDDC mirror</h2>", "server-status has a ZDDC section")
ok(TOKEN not in short.text + full.text, "without the bearer")

done_testing()
