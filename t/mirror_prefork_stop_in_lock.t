#!/usr/bin/python3
# Mirror mode under prefork (SPEC §6): SIGTERM makes a prefork child exit
# from inside the signal handler, running the module's cleanup (which stops
# the walker thread) on whatever the main thread was doing. A SIGTERM that
# arrives while the main thread holds the scheduler's process mutex (in the
# trigger) or the global mutex (the status page), with the walker needing
# it, must not hang the child: it exits at once. gdb stops the child inside
# those locks to deliver the signal there; skipped without gdb.
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

GDB = shutil.which("gdb")
if not GDB:
    skip_all("gdb is not installed")

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=60)
m.put_file("/Docs/a.pdf", b"a" * 100, mtime=T0)
m.put_file("/Docs/sub/b.pdf", b"b" * 100, mtime=T0)
m.set_fault("slow", "/Docs/sub/")        # keeps the walk in flight

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""), mpm="prefork", server_conf="""
StartServers 1
MinSpareServers 1
MaxSpareServers 1
MaxRequestWorkers 1
""")
a.start()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rfind(")") + 2] != "Z"


def stop_inside(func, lock, path, headers=None):
    """Attach gdb to the only child, let a request for path reach lock
    (called from func) on the main thread, return from it holding the lock,
    send SIGTERM and let go. Returns (pid, gdb output, exited in time)."""
    kids = a.child_pids()
    if len(kids) != 1:
        return None, "children: %r" % kids, False
    pid = kids[0]
    g = subprocess.Popen(
        [GDB, "-nx", "-batch", "-p", str(pid),
         "-ex", "set confirm off",
         "-ex", "break %s thread 1" % func, "-ex", "continue",
         "-ex", "delete", "-ex", "tbreak %s thread 1" % lock,
         "-ex", "continue", "-ex", "bt 3", "-ex", "finish",
         "-ex", "shell kill -TERM %d" % pid, "-ex", "detach"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []

    def drain():
        for line in g.stdout:
            lines.append(line)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    # Let gdb attach and set its breakpoint before the request comes: it
    # says "Continuing." as it lets the child run again.
    wait_until(lambda: _traced(pid), 15, 0.05)
    wait_until(lambda: any("Continuing." in x for x in lines), 15, 0.05)

    def poke():
        try:
            a.get(path, headers=headers, timeout=20)
        except Exception:
            pass       # the child dies under it
    threading.Thread(target=poke, daemon=True).start()
    try:
        g.wait(timeout=40)
    except subprocess.TimeoutExpired:
        g.kill()
        g.wait()
    reader.join(5)
    out = "".join(lines)
    t = time.monotonic()
    gone = wait_until(lambda: not alive(pid), 5)
    note("child %d %s after %.1fs" % (pid, "exited" if gone else "hangs",
                                       time.monotonic() - t))
    if not gone:
        os.kill(pid, signal.SIGKILL)
    return pid, out, gone


def _traced(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return re.search(r"^TracerPid:\s*[1-9]", f.read(), re.M)
    except OSError:
        return False


def in_flight():
    r = a.get("/zddc-status", headers={"Accept": "application/json"})
    return r.json()["vhosts"][0]["subtrees"][0]["in_flight"]


# 1. The trigger holds the process's scheduler mutex.
is_(a.get("/Docs/a.pdf").status, 200, "the first access is served")
ok(wait_until(in_flight, 10, 0.1), "a walk is in flight", a.error_log_tail())
pid, out, gone = stop_inside("zddc_sched_trigger", "apr_thread_mutex_lock",
                             "/Docs/a.pdf")
if pid is None or "zddc_sched" not in out:
    skip_all("gdb could not stop the child in the trigger: %s"
             % (out or "")[-500:])
ok(gone, "SIGTERM while the trigger holds the scheduler's mutex: the child "
   "exits", out[-1500:])

# 2. The status page holds the global mutex the walker waits for.
ok(wait_until(lambda: len(a.child_pids()) == 1, 10), "a new child is up")
a.get("/Docs/a.pdf")
live = wait_until(in_flight, 10, 0.1)
ok(live and live["pid"] in a.child_pids(),
   "a walk is in flight in the new child", live)
# The walker publishes its figures every 250 ms: wait for the first.
ok(wait_until(lambda: (in_flight() or {}).get("dirs", 0) > 0, 10, 0.1),
   "the walker has published its figures", in_flight())
pid, out, gone = stop_inside("zddc_sched_snapshot", "apr_global_mutex_lock",
                             "/zddc-status",
                             headers={"Accept": "application/json"})
ok(pid is not None and "zddc_sched_snapshot" in out,
   "gdb stopped the child in the status page's lock", out[-800:])
ok(gone, "SIGTERM while the status page holds the global mutex: the child "
   "exits", out[-1500:])

ok(wait_until(lambda: len(a.child_pids()) == 1, 10), "the server goes on")
is_(a.get("/Docs/a.pdf").status, 200, "and serves")
unlike(a.error_log(), r"still did not exit|SIGKILL",
       "the parent never had to kill a child")

done_testing()
