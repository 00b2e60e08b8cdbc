#!/usr/bin/python3
# Mirror mode (SPEC §6.3): a directory the upstream no longer lists is purged
# whole by the next walk, without following symlinks out of the cache root.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
OLD = "/Docs/2024-01-01_123456-EL-TRN-0007 (IFR) - Old Transmittal"
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/keep.pdf", b"keep", mtime=T0)
m.put_file(OLD + "/a.pdf", b"a", mtime=T0)
m.put_file(OLD + "/nested/b.pdf", b"b", mtime=T0)
m.put_file(OLD + "/nested/deeper/c.pdf", b"c", mtime=T0)

outside = tempdir("zddc-outside-")
with open(os.path.join(outside, "precious.txt"), "w") as f:
    f.write("not the mirror's")

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 500ms
"""))
a.start()


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


a.get("/Docs/")
ok(wait_until(lambda: len(walks()) == 1, 15), "first walk ran")
ok(os.path.isfile(a.cache + OLD + "/nested/deeper/c.pdf"),
   "first walk cached the whole old transmittal")
os.symlink(outside, a.cache + OLD + "/nested/link-out")

m.remove(OLD)
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 2, 15), "second walk ran",
   a.error_log_tail())
ok(not os.path.lexists(a.cache + OLD), "the orphan directory is gone whole")
ok(os.path.isfile(a.cache + "/Docs/keep.pdf"), "its sibling file stays")
ok(os.path.isfile(os.path.join(outside, "precious.txt")),
   "the symlink inside it was removed, not followed")
like(walks()[-1] if walks() else "", r"purged=[1-9]\d* errors=0",
     "second walk reports purged entries")

done_testing()
