#!/usr/bin/python3
# Mirror mode (SPEC §5, §6): when the upstream refuses the mirror's own
# bearer (401) the walk fails, says so once, and purges nothing.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
TOKEN = "tok-9f8e7d6c"
m = master(acl={TOKEN: ["/"]}, bearer=TOKEN)
for i in range(6):
    m.put_file("/Docs/sub%d/f.pdf" % (i % 2), b"f", mtime=T0)
    m.put_file("/Docs/f%d.pdf" % i, b"f", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""", token=TOKEN))
a.start()
a.get("/Docs/")
ok(a.wait_log(r"walk of /Docs finished", 15), "first walk ran")
before = sorted(os.listdir(a.cache + "/Docs"))

m.acl = {"someone-else": ["/"]}
a.walk_when_due("/Docs", "/Docs/f0.pdf")
ok(a.wait_log(r"walk of /Docs failed after \S+: the upstream refused the "
              r"mirror's credentials \(401\)", 15),
   "the walk fails and says why", a.error_log_tail())
is_(len(re.findall(r"\[zddc_mirror:error\].*walk of /Docs: upstream "
                   r"answered 401", a.error_log())), 1,
    "the 401 is logged once as an error")
is_(sorted(os.listdir(a.cache + "/Docs")), before, "nothing was purged")
ok(TOKEN not in a.error_log(), "the bearer is not in the log")
s = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
last = s["vhosts"][0]["subtrees"][0]["last"]
is_(last["status"], "failed", "status page: the last walk failed")
like(last["message"], r"401", "with the reason")

done_testing()
