#!/usr/bin/python3
# Cache pipeline (SPEC §5): a Last-Modified in the very second the answer
# arrived cannot vouch for a change later in that second; on the request
# path (as in the walker) such a copy is revalidated as one second older,
# so a second change within that second is fetched, not REVALIDATED forever.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

m = master()
a = Apache(cache_conf(m))
a.start()

# Early in a second, so the write, the GET and the rewrite share it.
ok(wait_until(lambda: time.time() % 1 < 0.3, 3, 0.01), "early in a second")
now = int(time.time())
m.put_file("/f.pdf", b"first", mtime=now)
r = a.get("/f.pdf")
ok(r.status == 200 and r.body == b"first", "first version served (MISS)")
m.put_file("/f.pdf", b"other", mtime=now)    # same size, same second
ok(int(time.time()) == now, "the rewrite happened in the same second")
ok(wait_until(lambda: int(time.time()) > now, 3, 0.01), "a second later")
for i in range(2):
    r = a.get("/f.pdf")
    ok(r.status == 200 and r.body == b"other",
       "request %d after the second change gets it" % (i + 1),
       (r.header("X-Zddc-Cache"), r.body))

done_testing()
