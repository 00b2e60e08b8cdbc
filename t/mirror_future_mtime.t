#!/usr/bin/python3
# Mirror mode (SPEC §4, §6.2): a file whose Last-Modified lies in the future
# keeps that mtime in the cache, so a warm walk finds it current by the
# listing's size and mod_time and sends no per-file GET for it.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
FUTURE = int(time.time()) + 365 * 24 * 3600
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/past.pdf", b"p" * 300, mtime=T0)
m.put_file("/Docs/future.pdf", b"f" * 400, mtime=FUTURE)
m.put_file("/Docs/sub/later.pdf", b"l" * 500, mtime=FUTURE)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 500ms
"""))
a.start()


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


a.get("/Docs/")
ok(wait_until(lambda: len(walks()) == 1, 15), "first (cold) walk ran",
   a.error_log_tail())
like(walks()[0] if walks() else "", r"files=3 fetched=3 ",
     "the cold walk fetched every file")
for path, mtime in (("/Docs/future.pdf", FUTURE),
                    ("/Docs/sub/later.pdf", FUTURE),
                    ("/Docs/past.pdf", T0)):
    st = os.stat(a.cache + path)
    is_(int(st.st_mtime), mtime, "%s keeps the upstream Last-Modified as "
        "its mtime" % path)

m.clear_log()
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 2, 15), "second (warm) walk ran",
   a.error_log_tail())
like(walks()[-1] if walks() else "", r"files=3 fetched=0 skipped=3 ",
     "the warm walk found every file current")
file_gets = [e["path"] for e in m.requests("GET")
             if not e["path"].endswith("/")]
is_(file_gets, [], "no per-file GET reached the upstream, not even for the "
    "files dated in the future")
listings = [e for e in m.requests("GET")
            if "application/json" in e["headers"].get("accept", "")]
is_(len(listings), 2, "one JSON listing request per directory")

# And a third walk still asks for nothing: the future dates stay matched.
m.clear_log()
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 3, 15), "third walk ran")
is_([e["path"] for e in m.requests("GET") if not e["path"].endswith("/")],
    [], "the third walk sends no per-file GET either")

done_testing()
