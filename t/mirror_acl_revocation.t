#!/usr/bin/python3
# Mirror mode (SPEC §1, §6.3): when the mirror's token loses access to a
# folder, the next walk purges it, whether the listing hides it or 403s it.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Public/p.pdf", b"public", mtime=T0)
m.put_file("/Secret/s.pdf", b"secret", mtime=T0)
m.put_file("/Secret/inner/s2.pdf", b"secret 2", mtime=T0)
m.put_file("/Shared/Vendor A/v.pdf", b"vendor", mtime=T0)
m.put_file("/Shared/Vendor A/sub/v2.pdf", b"vendor 2", mtime=T0)

a = Apache(mirror_conf(m, "ZddcMirrorMinInterval 1s\n"))
a.start()


def walks():
    return re.findall(r"walk of / finished in \S+: (.*)", a.error_log())


a.get("/Public/p.pdf")
ok(wait_until(lambda: len(walks()) == 1, 15), "first walk of / ran",
   a.error_log_tail())
for p in ("/Secret/inner/s2.pdf", "/Shared/Vendor A/sub/v2.pdf"):
    ok(os.path.isfile(a.cache + p), "first walk cached %s" % p)

# The listing of / stops naming /Secret (ACL filter), and /Shared/Vendor A/
# itself answers 403 although /Shared/ still lists it.
m.set_acl("tok", ["/Public/", "/Shared/"])
m.set_fault("403", "/Shared/Vendor A/")
a.walk_when_due("/", "/Public/p.pdf")
ok(wait_until(lambda: len(walks()) == 2, 15), "second walk ran",
   a.error_log_tail())
ok(not os.path.lexists(a.cache + "/Secret"),
   "a folder the listing no longer shows is purged whole")
ok(not os.path.lexists(a.cache + "/Shared/Vendor A"),
   "a folder whose listing answers 403 is purged whole")
ok(os.path.isfile(a.cache + "/Public/p.pdf"), "what is still visible stays")
ok(os.path.isdir(a.cache + "/Shared"), "the parent of the 403 folder stays")
r = a.get("/Secret/s.pdf")
isnt(r.status, 200, "the revoked file is not served any more")

done_testing()
