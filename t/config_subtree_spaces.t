#!/usr/bin/python3
# SPEC §3, issue 8 #8: ZddcMirrorSubtree takes its whole argument line as
# one comma-separated list; quoting is optional and a space never splits a
# path, so `ZddcMirrorSubtree /Project 123456` is one subtree and walked.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Project 123456/a.pdf", b"a", mtime=T0)
m.put_file("/Vendor Docs/b.pdf", b"b", mtime=T0)
m.put_file("/Project 654321/c.pdf", b"c", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Project 123456
ZddcMirrorSubtree /Vendor Docs/, "/Project 654321"
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
rc, out = a.configtest()
is_(rc, 0, "unquoted subtrees with spaces pass configtest") or diag(out)
a.start()
st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
is_([s["path"] for s in st["vhosts"][0]["subtrees"]],
    ["/Project 123456", "/Vendor Docs", "/Project 654321"],
    "three subtrees, each whole")
a.get("/Project 123456/a.pdf")
ok(a.wait_log(r"walk of /Project 123456 finished", 15),
   "a request under '/Project 123456' walks that subtree",
   a.error_log_tail())
ok(wait_until(lambda: a.disk("/Project 123456/a.pdf") == b"a", 5),
   "its file is mirrored")
a.stop()

a = Apache(mirror_conf(m, 'ZddcMirrorSubtree "/Project 123456\n'))
rc, out = a.configtest()
isnt(rc, 0, "an unbalanced quote fails configtest")
like(out, r"ZddcMirrorSubtree: unbalanced", "naming the directive")

done_testing()
