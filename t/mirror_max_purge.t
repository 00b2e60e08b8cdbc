#!/usr/bin/python3
# Mirror mode (SPEC §3 ZddcMirrorMaxPurge): a walk that would purge more
# entries than allowed purges none and logs an error; a smaller one purges.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
NAMES = ["/Docs/f%d.pdf" % i for i in range(5)]
for p in NAMES:
    m.put_file(p, p.encode(), mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 500ms
ZddcMirrorMaxPurge 2
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


a.get("/Docs/")
ok(wait_until(lambda: len(walks()) == 1, 15), "first walk ran")
ok(all(os.path.isfile(a.cache + p) for p in NAMES), "all five files cached")

for p in NAMES[1:]:
    m.remove(p)
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 2, 15), "second walk ran",
   a.error_log_tail())
like(a.error_log(), r"\[zddc_mirror:error\].*walk of /Docs would purge 4 "
     r"entries, more than ZddcMirrorMaxPurge 2: purged none",
     "the refused mass purge is logged as an error")
ok(all(os.path.isfile(a.cache + p) for p in NAMES),
   "nothing was purged", os.listdir(a.cache + "/Docs"))
like(walks()[-1] if walks() else "", r"purged=0 ", "the walk reports purged=0")
st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
like(st["vhosts"][0]["subtrees"][0]["last"]["message"] or "",
     r"purge refused", "the status page says the purge was refused")

for p in NAMES[1:3]:
    m.put_file(p, p.encode(), mtime=T0)
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 3, 15), "third walk ran")
ok(all(os.path.isfile(a.cache + p) for p in NAMES[:3]), "listed files stay")
ok(not any(os.path.exists(a.cache + p) for p in NAMES[3:]),
   "two orphans, within the limit, are purged")

done_testing()
