#!/usr/bin/python3
# Issue 9 (P2), SPEC §5: a client's revalidation of a cached copy is asked
# on its own thread and, when the master answers 304, touches no file but
# the copy's own metadata: no claim file is created and unlinked per
# revalidation (strace on the one child counts them). Concurrent
# revalidations still share one upstream request, within a child and
# across prefork children; a changed file is stored and served, small or
# large (a large body goes to a background fill so its client is fed
# while it downloads).
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

STRACE = shutil.which("strace")
if not STRACE:
    skip_all("strace is not installed")

T0 = 1700000000
T1 = T0 + 3600
SMALL = b"%PDF-1.4 small\n" + b"s" * 4000
BIG = b"%PDF-1.4 big\n" + b"b" * (600 * 1024)
work = tempdir("zddc-reval-in-place-")

m = master(slow_seconds=3)
m.put_file("/r/small.pdf", SMALL, mtime=T0)
m.put_file("/r/big.pdf", BIG, mtime=T0)

ONE_CHILD = ("StartServers 1\nServerLimit 1\nMaxRequestWorkers 16\n"
             "MinSpareThreads 1\nMaxSpareThreads 16\n")
a = Apache(cache_conf(m), server_conf=ONE_CHILD)
a.start()
ok(wait_until(lambda: len(a.child_pids()) == 1, 10),
   "one child serves", a.child_pids())
child = a.child_pids()[0]
for path, body in (("/r/small.pdf", SMALL), ("/r/big.pdf", BIG)):
    r = a.get(path)
    ok(r.status == 200 and r.body == body
       and wait_until(lambda: a.disk(path) == body, 10),
       "%s: cached by a first GET" % path)

trace = os.path.join(work, "trace.txt")
err = open(os.path.join(work, "strace.err"), "w")
st = subprocess.Popen([STRACE, "-f", "-e",
                       "trace=open,openat,unlink,unlinkat,rename,renameat,"
                       "renameat2", "-o", trace, "-p", str(child)],
                      stdout=subprocess.DEVNULL, stderr=err,
                      stdin=subprocess.DEVNULL)


def strace_said(what):
    with open(os.path.join(work, "strace.err")) as f:
        return what in f.read()


ok(wait_until(lambda: strace_said("attached"), 10),
   "strace attached to the child")

m.clear_log()
states = [a.get("/r/small.pdf").header("X-Zddc-Cache") for _ in range(10)]
is_(states, ["REVALIDATED"] * 10, "ten revalidations in a row")
is_(m.count("GET", path="/r/small.pdf"), 10,
    "each asked the master once (freshness 0)")

m.clear_log()
m.set_fault("slow", "/r/small.pdf")         # each answer takes 3 s
rs = at_once(6, lambda i: a.get("/r/small.pdf", timeout=30))
m.clear_faults()
ok(all(getattr(x, "status", 0) == 200 and x.body == SMALL for x in rs),
   "six at once: every client gets the copy")
is_(sorted(set(x.header("X-Zddc-Cache") for x in rs)), ["REVALIDATED"],
    "six at once: each one REVALIDATED")
is_(m.count("GET", path="/r/small.pdf"), 1,
    "six at once in one child: one upstream request")

st.send_signal(signal.SIGINT)   # detaches; the child goes on
try:
    st.wait(10)
except subprocess.TimeoutExpired:
    st.kill()
    st.wait(5)
err.close()
with open(trace, errors="replace") as f:
    lines = f.read().splitlines()
ok(any("small.pdf" in ln for ln in lines),
   "precondition: the trace shows the child opening the copy",
   "\n".join(lines[:20]))
temps = [ln for ln in lines if ".zddc-cache-tmp-" in ln]
is_(len(temps), 0, "sixteen revalidations answered 304 created and removed "
    "no file in the cache")
if temps:
    diag("\n".join(temps[:10]))

# --- changed files: small stored by the request, large by a background fill
m.put_file("/r/small.pdf", SMALL + b"rev B", mtime=T1)
m.clear_log()
r = a.get("/r/small.pdf")
ok(r.status == 200 and r.body == SMALL + b"rev B",
   "changed small file: the new revision is served")
is_(r.header("X-Zddc-Cache"), "MISS", "changed small file: MISS")
is_(a.disk("/r/small.pdf"), SMALL + b"rev B",
    "changed small file: stored when the answer came")
is_(m.count("GET", path="/r/small.pdf"), 1,
    "changed small file: one upstream request")
r = a.get("/r/small.pdf")
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "then it revalidates")

m.put_file("/r/big.pdf", BIG + b"rev B", mtime=T1)
r = a.get("/r/big.pdf")
ok(r.status == 200 and r.body == BIG + b"rev B",
   "changed large file: the new revision is served")
is_(r.header("X-Zddc-Cache"), "MISS", "changed large file: MISS")
ok(wait_until(lambda: a.disk("/r/big.pdf") == BIG + b"rev B", 10),
   "changed large file: stored")
like(r.header("Last-Modified") or "", r"GMT$",
     "changed large file: Last-Modified sent")
a.stop()

# --- across prefork children: still one request for all -------------------
b = Apache(cache_conf(m), mpm="prefork")
b.start()
r = b.get("/r/small.pdf")
ok(r.status == 200 and wait_until(lambda: b.disk("/r/small.pdf")
                                  == SMALL + b"rev B", 10),
   "prefork: cached by a first GET")
ok(wait_until(lambda: len(b.child_pids()) >= 4, 10),
   "prefork: several children", b.child_pids())
m.clear_log()
m.set_fault("slow", "/r/small.pdf")
rs = at_once(6, lambda i: b.get("/r/small.pdf", timeout=30))
m.clear_faults()
ok(all(getattr(x, "status", 0) == 200 and x.body == SMALL + b"rev B"
       for x in rs), "prefork, six at once: every client gets the copy")
is_(sorted(set(x.header("X-Zddc-Cache") for x in rs)), ["REVALIDATED"],
    "prefork, six at once: each one REVALIDATED")
is_(m.count("GET", path="/r/small.pdf"), 1,
    "prefork, six at once in several children: one upstream request")
b.stop()

done_testing()
