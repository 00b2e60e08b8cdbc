#!/usr/bin/python3
# Issue 13, SPEC §5 listings: four concurrent JSON directory requests for a
# 16 MiB upstream listing of tiny values ([0,0,...]) are refused (502) with
# a child's peak RSS bounded by a small multiple of the listing's size, and
# the child's RSS back within a few MiB of its baseline afterwards.
import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

LISTING_MAX = 16 * 1024 * 1024          # ZDDC_LISTING_MAX
MIB = 1024 * 1024
BODY = (b"[" + b"0," * ((LISTING_MAX - 3) // 2) + b"0]").ljust(LISTING_MAX)
N = 4


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *a):
        pass


class Upstream:
    def __init__(self):
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.base_url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


def status_bytes(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


up = Upstream()
# One child serves every request, so its figures are the requests'.
a = Apache(cache_conf(up), server_conf=(
    "StartServers 1\nServerLimit 1\nMinSpareThreads 1\nMaxSpareThreads 16\n"
    "ThreadsPerChild 16\nMaxRequestWorkers 16\n")).start()
ok(wait_until(lambda: len(a.child_pids()) == 1, 10), "one child")
child = a.child_pids()[0]

# Warm the child up (threads, pools, libcurl) on a small request first.
r = a.get("/warm-up.pdf")
note("warm-up: %d" % r.status)
base = status_bytes(child, "VmRSS")
note("baseline RSS %.1f MiB" % (base / MIB))

res = at_once(N, lambda i: a.get("/dir%d/" % i,
                                 {"Accept": "application/json"}, timeout=60))
is_([getattr(x, "status", x) for x in res], [502] * N,
    "each request for the listing of tiny values gets 502")
ok(wait_until(lambda: len(a.error_log().split("malformed JSON")) > N, 10),
   "each refusal is logged")
like(a.error_log(), r"listing entry 0 is not an object",
     "the log says why")

peak = status_bytes(child, "VmHWM")
after = status_bytes(child, "VmRSS")
note("peak RSS %.1f MiB, after %.1f MiB" % (peak / MIB, after / MIB))
if SANITIZE:
    # ASan keeps freed memory in its quarantine and adds shadow memory.
    ok(True, "# SKIP RSS bounds are not measured under sanitizers")
    ok(True, "# SKIP RSS bounds are not measured under sanitizers")
else:
    # The bodies themselves (N x 16 MiB, read into a growing buffer) and
    # at most 4 bytes per listing byte for the parse.
    ok(peak - base <= N * (2 + 4) * LISTING_MAX,
       "peak RSS +%.0f MiB <= %d MiB" % ((peak - base) / MIB,
                                         N * 6 * LISTING_MAX // MIB))
    ok(wait_until(lambda: status_bytes(child, "VmRSS") - base <= 8 * MIB, 5),
       "RSS back within 8 MiB of the baseline (+%.1f MiB)"
       % ((status_bytes(child, "VmRSS") - base) / MIB))
is_(a.child_pids(), [child], "the same child still serves")
a.stop()
a.check_sanitizers()
done_testing()
