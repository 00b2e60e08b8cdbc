#!/usr/bin/python3
# Cache pipeline (SPEC §5, store metadata): the headers the master chose for
# a file are kept with the cached copy (Content-Disposition, and with it
# the Content-Type for when mod_mime has none), so a REVALIDATED answer
# sends the same headers as the MISS did.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

DISP = 'attachment; filename="123456-EL-SPC-2623_A.pdf"'
m = master()
m.put_file("/Docs/spec.pdf", b"%PDF-1.4 spec", mtime=1700000000)
m.put_file("/Docs/noext", b"raw", mtime=1700000000)
m.extra_headers["Content-Disposition"] = DISP

a = Apache(cache_conf(m))
a.start()

r = a.get("/Docs/spec.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "MISS"), "first GET: MISS")
is_(r.header("Content-Disposition"), DISP, "MISS carries the master's "
    "Content-Disposition")
r = a.get("/Docs/spec.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "REVALIDATED"),
    "second GET: REVALIDATED")
is_(r.header("Content-Disposition"), DISP, "so does REVALIDATED")
is_(r.header("Content-Type"), "application/pdf", "with mod_mime's type")

miss = a.get("/Docs/noext")
again = a.get("/Docs/noext")
is_(again.header("X-Zddc-Cache"), "REVALIDATED", "a file mod_mime cannot "
    "type, served again")
is_(again.header("Content-Type"), miss.header("Content-Type"),
    "with the Content-Type the MISS had")
is_(again.header("Content-Disposition"), DISP, "and its Content-Disposition")

done_testing()
