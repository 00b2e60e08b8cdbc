#!/usr/bin/python3
# Mirror mode (SPEC §6.5, §6.8, §7): every walk log line names the virtual
# host; a failed walk and a refused purge are logged at warning; the state
# file and the status page keep last_success_at beside last_walk_at; each
# walk's change report (fetched, purged, would have purged) is on the status
# page, HTML and JSON.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
for n in ("a", "b", "c"):
    m.put_file("/Docs/%s.pdf" % n, n.encode(), mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
ZddcMirrorMaxPurge 1
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()
vhost = "127.0.0.1:%d" % a.port


def ends():
    return re.findall(r"\[zddc_mirror:(\w+)\].* walk of /Docs "
                      r"(finished in|failed after) .*", a.error_log())


def walk(n, what):
    # A listing: the walk alone fetches files.
    a.walk_when_due("/Docs", "/Docs/")
    ok(wait_until(lambda: len(ends()) >= n, 20), what, a.error_log_tail())
    return ends()[-1] if ends() else ("", "")


def sub():
    r = a.get("/zddc-status", headers={"Accept": "application/json"})
    return r.json()["vhosts"][0]["subtrees"][0]


def state():
    with open(os.path.join(a.cache, ".zddc-mirror-state.json")) as f:
        return json.load(f)["subtrees"]["/Docs"]


# 1: a cold walk fetches three files.
level, how = walk(1, "first walk ran")
is_(level, "info", "a walk that went fine is logged at info")
lines = [ln for ln in a.error_log().splitlines() if "walk of /Docs" in ln]
ok(lines and all(vhost + ": walk of /Docs" in ln for ln in lines),
   "every walk log line names the virtual host", lines)
s = sub()
is_(sorted(s["report"]["fetched"]), ["/Docs/a.pdf", "/Docs/b.pdf",
                                     "/Docs/c.pdf"],
    "the change report names the files fetched")
is_(s["report"]["fetched_total"], 3, "and counts them")
ok(s["last_success_at"] and s["last_success_at"] == s["last_walk_at"],
   "a walk that went fine is the last successful one", s)
st = state()
is_(st.get("last_success_at"), st.get("last_walk_at"),
    "the state file keeps last_success_at too")

# 2: two files gone, more than ZddcMirrorMaxPurge 1: refused, named.
m.remove("/Docs/b.pdf")
m.remove("/Docs/c.pdf")
level, how = walk(2, "second walk ran")
is_(level, "warn", "a walk whose purge was refused is logged at warning")
s = sub()
is_(sorted(s["report"]["would_purge"]), ["/Docs/b.pdf", "/Docs/c.pdf"],
    "the change report names what the refused purge would have removed")
is_(s["report"]["purged"], [], "and that nothing was purged")
is_(s["report"]["fetched"], [], "nothing fetched this time")
ok(os.path.isfile(a.on_disk("/Docs/b.pdf")), "b.pdf still there")
html = a.get("/zddc-status", headers={"Accept": "text/html"}).text
like(html, r"would have purged \(refused\): 2", "the HTML page shows the "
     "refused purge")
like(html, r"<li>/Docs/c\.pdf</li>", "and names its paths")
success_2 = s["last_success_at"]

# 3: the master fails: the walk fails, last_success_at stays.
m.set_fault("5xx", "/Docs/")
level, how = walk(3, "third walk ran")
is_((level, how), ("warn", "failed after"), "a failed walk is logged at "
    "warning")
s = sub()
ok(s["last_walk_at"] and s["last_success_at"] == success_2
   and s["last_walk_at"] > success_2,
   "last_success_at is that of the last walk that succeeded", s)
st = state()
ok(st.get("last_success_at") and st["last_success_at"] < st["last_walk_at"],
   "so is the state file's", st)
html = a.get("/zddc-status", headers={"Accept": "text/html"}).text
like(html, r"last success ", "the HTML page shows the last "
     "successful walk")

# 4: the master back, one file back, one new: purged and fetched named.
m.clear_faults()
m.put_file("/Docs/c.pdf", b"c", mtime=T0)
m.put_file("/Docs/d.pdf", b"d", mtime=T0)
level, how = walk(4, "fourth walk ran")
s = sub()
is_(s["report"]["purged"], ["/Docs/b.pdf"], "the change report names the "
    "file purged")
is_(s["report"]["fetched"], ["/Docs/d.pdf"], "and the file fetched")
ok(not os.path.lexists(a.on_disk("/Docs/b.pdf")), "b.pdf purged")

done_testing()
