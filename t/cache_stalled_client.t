#!/usr/bin/python3
# Cache pipeline (SPEC §5): the download into the cache runs at the
# upstream's pace and every client, the first included, is fed from what
# has been stored: a client that sends its GET and stops reading breaks
# neither a concurrent client of the same file nor the cached copy.
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SIZE = 48 << 20          # far more than any socket buffers hold
m = master()
body = bytes(range(256)) * (SIZE // 256)
m.put_file("/big.bin", body, mtime=T0)

a = Apache(cache_conf(m, "ZddcUpstreamTimeout 5s\n"))
a.start()

# The first client: asks, and never reads a byte of the answer.
stalled = socket.create_connection(("127.0.0.1", a.port), timeout=30)
stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
stalled.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
ok(wait_until(lambda: m.count("GET", path="/big.bin") >= 1, 10),
   "the stalled client's request reached the master")

started = time.time()
r = a.get("/big.bin", timeout=60)
took = time.time() - started
is_(r.status, 200, "a concurrent client gets 200")
ok(r.body == body, "with the whole body", "%d of %d bytes"
   % (len(r.body), len(body)))
ok(took < 20, "at the upstream's pace, not the stalled client's",
   "%.1f s" % took)
is_(m.count("GET", path="/big.bin"), 1, "one upstream download for both")
ok(wait_until(lambda: os.path.isfile(a.on_disk("/big.bin"))
              and os.path.getsize(a.on_disk("/big.bin")) == SIZE, 20),
   "the cached copy is complete")
ok(a.disk("/big.bin") == body, "and right")
stalled.close()
r = a.get("/big.bin", timeout=60)
ok(r.status == 200 and r.body == body, "served from the cache afterwards")

done_testing()
