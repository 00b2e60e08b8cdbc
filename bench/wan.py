#!/usr/bin/python3
# `make bench-wan` (and the second half of `make bench`): the WAN and
# remote-site rows W1-W4 (issue 9) and R1-R3 (issue 11), through a delaying
# proxy of our own; writes bench/results-wan.md. A missed target is reported.
"""Usage: bench/wan.py [--quick] [--only W1,W3,R1,...] [--out FILE] [--rtt S]

The world, all on 127.0.0.1 (ephemeral ports, temp dirs):
  master    plain httpd with mod_ssl and mod_http2 (Protocols h2 http/1.1),
            a certificate for IP 127.0.0.1 from a CA made for the run,
            serving a generated tree of 2,000 files in 100 directories with
            JSON/HTML listings routed by Accept (bench/conf/upstream.conf)
  WAN       bench/delay_proxy.py in front of it: 50 ms round trip, every
            client (ours and the peers) goes through it, connections counted
  mirrors   httpds with the module whose ZddcUpstream is the proxy
            (bench/conf/wan-mirror.conf); walks are started from the status
            page and timed until their "walk of /w2k finished" log line
Peers: curl --http2 --parallel, wget2 (recursive over the HTML listings),
rclone's http backend; wrk for the request rates.
"""

import argparse
import datetime
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common as B  # noqa: E402  (servers, logs, CPU, wrk; t/lib on the path)
import gentree  # noqa: E402
from delay_proxy import DelayProxy  # noqa: E402
import zddc_test  # noqa: E402
from zddc_test import Apache, free_port, test_pki  # noqa: E402

REPO = B.REPO
SUB = "w2k"
TOP, SUBDIRS, FILES = 10, 9, 20     # 10 x (1 + 9) = 100 dirs, 2,000 files
TREE_VERSION = "zddc-bench-wan-tree v1"
RTT = 0.05
ROUNDS = 3
WALK_TIMEOUT = 300
TOOL_TIMEOUT = 300
WRK_SECONDS = 5
SWR_FRESHNESS = 1       # R2: seconds of freshness before SWR takes over
R_ROUNDS, R_SECONDS = 5, 3      # R1/R2: more, shorter wrk runs


# ---------------------------------------------------------------------------
# The tree: bench/gentree.py's names, sizes and listings, a smaller shape
# ---------------------------------------------------------------------------
def generate_tree(root):
    g = gentree.Gen(root)
    gentree.write_walk_tree(g, SUB, TOP, SUBDIRS, FILES)
    gentree.finish(root)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def post_walk(port, subtree="/" + SUB):
    """Press the status page's walk button of the vhost on port."""
    body = urllib.parse.urlencode({"action": "walk", "subtree": subtree})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/zddc-status", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://127.0.0.1:%d" % port,
            "Accept": "application/json"})
        r = c.getresponse()
        text = r.read()
        if r.status not in (200, 409):
            raise RuntimeError("walk button on %d answered %d: %s" %
                               (port, r.status, text[:200]))
    finally:
        c.close()


class WalkLines:
    """The "walk of SUBTREE finished" lines of an httpd's error log, read
    incrementally: polling must not cost the walking server CPU."""

    def __init__(self, apache, subtree):
        self.path = os.path.join(apache.root, "logs", "error.log")
        self.rx = re.compile(B.WALK_RE % re.escape(subtree))
        self.offset = 0
        self.partial = b""
        self.found = []

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.found
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for ln in lines:
            m = self.rx.search(ln.decode("utf-8", "replace"))
            if m:
                self.found.append(m.groups())
        return self.found


def wait_walk(apache, nth, timeout=WALK_TIMEOUT, subtree="/" + SUB):
    """The nth walk line of subtree in apache's error log, or None."""
    watch = getattr(apache, "_wan_walks", None)
    if watch is None:
        watch = apache._wan_walks = WalkLines(apache, subtree)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(watch.poll()) >= nth:
            return watch.found[nth - 1]
        time.sleep(0.01)
    return None


def run_tool(cmd, timeout=TOOL_TIMEOUT, env=None):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env)
    return time.monotonic() - t0, r


def count_files(root, skip=("index.html",)):
    n = 0
    for _, _, names in os.walk(root):
        n += sum(1 for x in names if x not in skip)
    return n


def in_flight(text, rtt):
    """Mean and peak requests in flight over a run, from the master's
    timing log: each from RTT/2 before it reached the master to RTT/2 after
    the master was done with it."""
    iv = []
    for ln in text.splitlines():
        p = ln.split()
        if len(p) == 2:
            t = float(p[0])
            iv.append((t - rtt / 2, t + int(p[1]) / 1e6 + rtt / 2))
    if not iv:
        return 0.0, 0
    cur = peak = 0
    for _, d in sorted([(a, 1) for a, _ in iv] + [(b, -1) for _, b in iv]):
        cur += d
        peak = max(peak, cur)
    span = max(b for _, b in iv) - min(a for a, _ in iv)
    return sum(b - a for a, b in iv) / span, peak


def fmt_flight(f):
    return "%.0f / %d" % f


def pause():
    """Between two timed runs. Not bench/run.py's settle(): everything here
    is on tmpfs, and a sync(2) would start the writeback of whatever else
    the machine is doing right under the next measurement."""
    time.sleep(0.2)


def own_cpu():
    t = os.times()
    return t.user + t.system


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_ratio(x, target):
    """x as "0.93×"; with a third decimal when two would round it onto the
    target it missed or met (0.897 is not 0.90)."""
    two = "%.2f" % x
    return ("%.3f×" % x) if abs(float(two) - target) < 1e-9 else two + "×"


def fmt_lat(x):
    return "%.2f ms" % (x * 1e3) if x < 0.1 else B.fmt_s(x)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
class Wan:
    def __init__(self, args):
        self.args = args
        self.rows = []
        self.cpu_rows = []
        self.notes = []
        self.errors = []
        self.rounds = 1 if args.quick else ROUNDS
        self.seconds = 2 if args.quick else WRK_SECONDS
        self.rtt = args.rtt
        self.tree = os.path.join(args.workdir, "wan-tree")
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_before = B.loadavg()
        self.t0 = time.monotonic()
        self.elapsed = 0.0
        self.upstream = self.proxy = None
        self.urls = []
        self.warm = None        # a walker with a walked cache (W1/W2 -> W3)

    def want(self, rid):
        return not self.args.only or rid in self.args.only

    def row(self, rid, what, ours, base, ratio, target, met):
        self.rows.append({"id": rid, "what": what, "ours": ours,
                          "base": base, "ratio": ratio, "target": target,
                          "met": met})

    def failed_row(self, rid, what, target, err):
        self.errors.append("%s: %s" % (rid, err))
        self.row(rid, what, "not measured", "—", "—", target,
                 "n/a (%s)" % str(err).splitlines()[0][:120])

    def base_url(self, port=None):
        return "https://127.0.0.1:%d" % (port or self.proxy.port)

    # --- the world -----------------------------------------------------------
    def start_world(self):
        made = gentree.ensure(self.tree, generate_tree, TREE_VERSION)
        B.log("tree %s %s" % (self.tree, "generated" if made else "reused"))
        self.urls = gentree.file_urls(self.tree, SUB)
        self.pki = test_pki()
        up = B.PlainApache(
            B.template("wan-upstream.conf", CERT=self.pki["server_cert"],
                       KEY=self.pki["server_key"],
                       UPSTREAM=B.template("upstream.conf", TREE=self.tree)),
            server_conf=B.UPSTREAM_SERVER,
            modules=("rewrite", "ssl", "http2", "socache_shmcb"))
        with open(up.conf_path, "a") as f:
            f.write("SSLSessionCache shmcb:%s/run/ssl_scache(512000)\n"
                    % up.root)
            # when each request began at the master and how long it took
            # there (µs): the requests in flight of each run
            f.write('CustomLog %s/logs/timing.log "%%{begin:sec}t.'
                    '%%{begin:usec_frac}t %%D"\n' % up.root)
        up.start()
        self.upstream = up
        self.up_log = os.path.join(up.root, "logs", "access.log")
        self.up_timing = os.path.join(up.root, "logs", "timing.log")
        self.proxy = DelayProxy(up.port, self.rtt).start()
        B.log("master https+h2 on %d, WAN proxy (%.0f ms RTT) on %d" % (
            up.port, self.rtt * 1e3, self.proxy.port))
        # Check the world: h2 through the proxy, a listing, and the RTT as a
        # client sees it (the second request of one connection).
        u = self.base_url() + self.urls[0]
        fmt = "%{http_code} %{http_version} %{time_total}\n"
        _, r = run_tool(["curl", "-s", "--http2", "--cacert", self.pki["ca"],
                         "-w", fmt, "-o", "/dev/null", u, "-o", "/dev/null",
                         u])
        lines = r.stdout.split("\n")
        parts = [ln.split() for ln in lines if ln.strip()]
        if r.returncode != 0 or len(parts) != 2 or parts[0][:2] != ["200",
                                                                     "2"]:
            raise RuntimeError("curl through the WAN proxy: %d %r %s" % (
                r.returncode, r.stdout, r.stderr))
        self.first_request = float(parts[0][2])
        self.measured_rtt = float(parts[1][2])
        B.log("through the proxy: a new connection's first request %.0f ms,"
              " the next on it %.0f ms" % (self.first_request * 1e3,
                                           self.measured_rtt * 1e3))

    def mirror(self, parallelism=4, freshness="1h", swr="0",
               mpm=B.MPM_SINGLE, upstream=None, server_extra="",
               modules=()):
        vhost = B.template("wan-mirror.conf",
                           UPSTREAM=upstream or self.base_url() + "/",
                           CA=self.pki["ca"], CACHE=self.shm("cache"),
                           FRESHNESS=freshness, SWR=swr,
                           SUBTREE="/" + SUB, PARALLELISM=parallelism)
        return Apache(vhost, server_conf="MaxKeepAliveRequests 0\n" + mpm +
                      server_extra, modules=modules,
                      module_path=self.args.module)

    def shm(self, name):
        """A path on tmpfs for a cache root or a peer's copy (removed at
        exit): the network is compared, not this shared machine's disk."""
        base = tempfile.mkdtemp(prefix="zddc-bench-wan-", dir=B.TMPFS)
        os.chmod(base, 0o755)
        zddc_test._cleanup["dirs"].append(base)
        return os.path.join(base, name)

    def walk(self, w, nth, port=None, run=None):
        """Start a walk on w's vhost (port), wait for its log line; wall
        time, master requests and connections through the proxy."""
        cur = B.LogCursor(self.up_log)
        tcur = B.LogCursor(self.up_timing)
        c0 = self.proxy.count()
        p0 = own_cpu()
        with B.CpuMeter(mirror=w, upstream=self.upstream) as cpu:
            t0 = time.monotonic()
            post_walk(port or w.port)
            m = wait_walk(w, nth)
            wall = time.monotonic() - t0
        pcpu = own_cpu() - p0
        if not m:
            raise RuntimeError("no 'walk of /%s finished' line within %ds:\n"
                               "%s" % (SUB, WALK_TIMEOUT,
                                       w.error_log_tail(10)))
        up = B.upstream_summary(B.access_entries(cur.new_text()))
        res = {"wall": wall, "ok": m[0] == "finished in", "message": m[2],
               "up": up, "conns": self.proxy.count() - c0,
               "inflight": in_flight(tcur.new_text(), self.rtt),
               "figures": dict(zip(("dirs", "files", "fetched", "skipped",
                                    "purged", "errors", "bytes"),
                                   map(int, m[3:])))}
        if run:
            self.cpu_rows.append({"run": run, "wall": wall,
                                  "mirror": cpu.cpu["mirror"],
                                  "upstream": cpu.cpu["upstream"],
                                  "proxy": pcpu, "inflight": res["inflight"],
                                  "n": up["requests"], "conns": res["conns"]})
        B.log("%s: %.2fs, %d master requests (%d listings), %d connections%s"
              % (run or "walk", wall, up["requests"], up["listings"],
                 res["conns"], "" if res["ok"] else ", FAILED: %s" % m[2]))
        return res

    def tool(self, name, cmd, check, run, cwd_clean=None):
        """Time a peer's run; check(result) -> problem or None."""
        if cwd_clean:
            shutil.rmtree(cwd_clean, ignore_errors=True)
            os.makedirs(cwd_clean)
        cur = B.LogCursor(self.up_log)
        tcur = B.LogCursor(self.up_timing)
        c0 = self.proxy.count()
        p0 = own_cpu()
        with B.CpuMeter(upstream=self.upstream) as cpu:
            wall, r = run_tool(cmd)
        pcpu = own_cpu() - p0
        up = B.upstream_summary(B.access_entries(cur.new_text()))
        conns = self.proxy.count() - c0
        flight = in_flight(tcur.new_text(), self.rtt)
        problem = check(r, up)
        if problem:
            raise RuntimeError("%s: %s (exit %d) %s" % (
                name, problem, r.returncode, (r.stderr or r.stdout)[-400:]))
        self.cpu_rows.append({"run": run, "wall": wall, "mirror": None,
                              "upstream": cpu.cpu["upstream"], "proxy": pcpu,
                              "inflight": flight,
                              "n": up["requests"], "conns": conns})
        B.log("%s: %.2fs, %d master requests, %d connections" % (
            run, wall, up["requests"], conns))
        return {"wall": wall, "up": up, "conns": conns, "inflight": flight}

    # --- peers ----------------------------------------------------------------
    def curl_walk(self, par, run):
        cfg = os.path.join(self.args.workdir, "wan-curl.cfg")
        with open(cfg, "w") as f:
            for u in self.urls:
                f.write('url = "%s%s"\noutput = "/dev/null"\n'
                        % (self.base_url(), u))
        n = len(self.urls)

        def check(r, up):
            got = r.stdout.split().count("200")
            return None if got == n else "%d of %d answered 200" % (got, n)
        return self.tool("curl", [
            "curl", "-s", "--http2", "--parallel", "--parallel-max",
            str(par), "--cacert", self.pki["ca"], "-w", "%{http_code}\n",
            "-K", cfg], check, run)

    def wget2(self, par, dest, run, again=False):
        n = len(self.urls)

        def check(r, up):
            got = count_files(dest)
            return None if got == n else "%d of %d files" % (got, n)
        cmd = ["wget2", "-q", "-r", "-l", "inf", "-np", "-nH",
               "--robots=off", "--max-threads", str(par), "--http2",
               "--ca-certificate", self.pki["ca"], "-P", dest]
        if again:
            cmd.append("-N")
        return self.tool("wget2", cmd + [self.base_url() + "/%s/" % SUB],
                         check, run, None if again else dest)

    def rclone(self, par, dest, run, again=False):
        n = len(self.urls)

        def check(r, up):
            got = count_files(dest, ())
            return None if got == n and r.returncode == 0 else \
                "%d of %d files" % (got, n)
        cmd = ["rclone", "copy", "-q", "--config",
               os.path.join(self.args.workdir, "rclone-none.conf"),
               "--http-url", self.base_url() + "/%s/" % SUB,
               "--ca-cert", self.pki["ca"], "--transfers", str(par),
               "--checkers", str(par), ":http:", dest]
        return self.tool("rclone", cmd, check, run,
                         None if again else dest)

    # --- W1, W2 -------------------------------------------------------------------
    def cold(self, par, label, keep=False):
        w = self.mirror(par).start()
        try:
            pause()
            res = self.walk(w, 1, run="%s: cold walk, parallelism %d" % (
                label, par))
        except Exception:
            w.stop()
            raise
        if keep and self.warm is None:
            self.warm = (w, res)
        else:
            w.stop()
        return res

    def floor_note(self, par, reqs):
        """What the network alone costs a walk with par requests in flight:
        the connection (TCP + TLS) and reqs / par round trips."""
        self.notes.append(
            "latency floor at %d in flight: (2 + %d / %d) × %.0f ms = %s; "
            "a client with more in flight (more connections, or more HTTP/2 "
            "streams on each) has a lower one." % (
                par, reqs, par, self.rtt * 1e3,
                B.fmt_s((2 + reqs / par) * self.rtt)))

    def w1(self):
        what = ("cold walk of %d files / %d directories over https+h2 at %d "
                "ms RTT, `ZddcMirrorParallelism 64`: wall time (button to "
                "log line) and connections to the master vs `curl --http2 "
                "--parallel --parallel-max 64` of the same URLs"
                % (len(self.urls), TOP * (SUBDIRS + 1), self.rtt * 1e3))
        target = "≤ 1.00×, ≤ 2 connections"
        try:
            self.curl_walk(64, "W1 warm-up: curl --parallel-max 64")
            rounds = []
            for k in range(self.rounds):
                order = ("ours", "curl") if k % 2 == 0 else ("curl", "ours")
                got = {}
                for side in order:
                    pause()
                    if side == "ours":
                        got[side] = self.cold(64, "W1")
                    else:
                        got[side] = self.curl_walk(
                            64, "W1: curl --http2 --parallel-max 64")
                rounds.append((got["ours"], got["curl"]))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            return self.failed_row("W1", what, target, e)
        ratio = med([o["wall"] / c["wall"] for o, c in rounds])
        self.floor_note(64, rounds[0][0]["up"]["requests"])
        conns = max(o["conns"] for o, _ in rounds)
        ok = all(o["ok"] for o, _ in rounds)
        o = [o for o, _ in rounds]
        c = [c for _, c in rounds]
        self.row("W1", what,
                 "%s, %d connection%s, %d master requests (%d listings)%s; "
                 "rounds %s" % (
                     B.fmt_s(med([x["wall"] for x in o])), conns,
                     "" if conns == 1 else "s", o[0]["up"]["requests"],
                     o[0]["up"]["listings"],
                     "" if ok else "; a walk failed",
                     ", ".join("%s/%s" % (B.fmt_s(a["wall"]),
                                          B.fmt_s(b["wall"]))
                               for a, b in rounds)),
                 "%s, %d connection%s" % (
                     B.fmt_s(med([x["wall"] for x in c])),
                     max(x["conns"] for x in c),
                     "" if max(x["conns"] for x in c) == 1 else "s"),
                 fmt_ratio(ratio, 1.0), target,
                 "yes" if ratio <= 1.0 and conns <= 2 and ok else "**no**")

    def w2(self):
        wdir, rdir = self.shm("wget2"), self.shm("rclone")
        what4 = ("cold walk at parallelism 4 (same tree and WAN) vs wget2 "
                 "`--max-threads 4` (h2, recursive over the HTML listings) "
                 "and rclone `copy --transfers 4 --checkers 4` (http backend "
                 "over the HTML listings)")
        what32 = ("cold walk at `ZddcMirrorParallelism 32` vs wget2 "
                  "`--max-threads 32`")
        try:
            rounds = []
            for k in range(self.rounds):
                sides = ["ours", "wget2", "rclone"]
                sides = sides[k % 3:] + sides[:k % 3]
                if k > 0:
                    # rclone takes as long as our walk: one round of it
                    # keeps the whole run within ten minutes
                    sides.remove("rclone")
                got = {}
                for side in sides:
                    pause()
                    if side == "ours":
                        got[side] = self.cold(4, "W2")
                    elif side == "wget2":
                        got[side] = self.wget2(4, wdir, "W2: wget2 "
                                               "--max-threads 4")
                    else:
                        got[side] = self.rclone(4, rdir, "W2: rclone "
                                                "--transfers 4")
                rounds.append(got)
            o = [g["ours"]["wall"] for g in rounds]
            wg = [g["wget2"]["wall"] for g in rounds]
            rc = [g["rclone"]["wall"] for g in rounds if "rclone" in g]
            rw = med([a / b for a, b in zip(o, wg)])
            rr = o[0] / rc[0]
            self.floor_note(4, rounds[0]["ours"]["up"]["requests"])
            self.row("W2", what4,
                     "%s, %d connection%s; rounds %s" % (
                         B.fmt_s(med(o)), rounds[0]["ours"]["conns"],
                         "" if rounds[0]["ours"]["conns"] == 1 else "s",
                         ", ".join(B.fmt_s(x) for x in o)),
                     "wget2 %s (%d connections, %d requests), rclone %s "
                     "(first round only; %d connection, %d requests: "
                     "listings, a HEAD and a GET per file)" % (
                         B.fmt_s(med(wg)), rounds[0]["wget2"]["conns"],
                         rounds[0]["wget2"]["up"]["requests"],
                         B.fmt_s(med(rc)), rounds[0]["rclone"]["conns"],
                         rounds[0]["rclone"]["up"]["requests"]),
                     "%.2f× wget2 (median), %.2f× rclone" % (rw, rr),
                     "report",
                     "—")
            self.notes.append(
                "rclone's http backend parses the master's HTML listings: "
                "all %d files arrived in every run; while listing it sends "
                "a HEAD per file (%d requests for a cold copy)." % (
                    len(self.urls), rounds[0]["rclone"]["up"]["requests"]))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            self.failed_row("W2", what4, "report", e)
        try:
            rounds = []
            for k in range(self.rounds):
                order = ("ours", "wget2") if k % 2 == 0 else ("wget2", "ours")
                got = {}
                for side in order:
                    pause()
                    if side == "ours":
                        got[side] = self.cold(32, "W2", keep=True)
                    else:
                        got[side] = self.wget2(32, wdir, "W2: wget2 "
                                               "--max-threads 32")
                rounds.append((got["ours"], got["wget2"]))
            ratio = med([o["wall"] / b["wall"] for o, b in rounds])
            self.floor_note(32, rounds[0][0]["up"]["requests"])
            ok = all(o["ok"] for o, _ in rounds)
            self.row("W2", what32,
                     "%s, %d connection%s, requests in flight %s (mean / "
                     "peak); rounds %s" % (
                         B.fmt_s(med([o["wall"] for o, _ in rounds])),
                         rounds[0][0]["conns"],
                         "" if rounds[0][0]["conns"] == 1 else "s",
                         fmt_flight(rounds[0][0]["inflight"]),
                         ", ".join("%s/%s" % (B.fmt_s(o["wall"]),
                                              B.fmt_s(b["wall"]))
                                   for o, b in rounds)),
                     "%s, %d connections, requests in flight %s" % (
                         B.fmt_s(med([b["wall"] for _, b in rounds])),
                         rounds[0][1]["conns"],
                         fmt_flight(rounds[0][1]["inflight"])),
                     fmt_ratio(ratio, 1.0), "≤ 1.00×",
                     "yes" if ratio <= 1.0 and ok else
                     "**no**%s" % ("" if not ok else
                                   " (wget2 had up to %d requests in flight, "
                                   "a walk %d at most: SPEC §6)" % (
                                       max(b["inflight"][1]
                                           for _, b in rounds), 32)))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            self.failed_row("W2", what32, "≤ 1.00×", e)

    # --- W3 -------------------------------------------------------------------
    def w3(self):
        what = ("warm walk, nothing changed, parallelism 32: wall time vs "
                "the fastest peer's no-change re-run (wget2 `-N` at "
                "`--max-threads 32`, rclone `copy` again at 32); master "
                "requests counted in its access log")
        ndirs = TOP * (SUBDIRS + 1) + 1
        target = "≤ 0.50×; requests = %d listings" % ndirs
        wdir, rdir = self.shm("wget2"), self.shm("rclone")
        try:
            if self.warm is None:
                self.cold(32, "W3", keep=True)
            w, _ = self.warm
            nth = 1
            # the peers' first (cold) runs, so their re-runs have a copy
            self.prep(lambda again: self.wget2(
                32, wdir, "W3: wget2 --max-threads 32 (cold)", again))
            self.prep(lambda again: self.rclone(
                32, rdir, "W3: rclone --transfers 32 (cold)", again))
            rounds = []
            for k in range(self.rounds):
                sides = ["ours", "wget2", "rclone"]
                sides = sides[k % 3:] + sides[:k % 3]
                got = {}
                for side in sides:
                    pause()
                    if side == "ours":
                        nth += 1
                        got[side] = self.walk(
                            w, nth, run="W3: warm walk, parallelism 32")
                    elif side == "wget2":
                        got[side] = self.wget2(32, wdir, "W3: wget2 -N "
                                               "re-run", again=True)
                    else:
                        got[side] = self.rclone(32, rdir, "W3: rclone "
                                                "re-run", again=True)
                rounds.append(got)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            return self.failed_row("W3", what, target, e)
        finally:
            if self.warm:
                self.warm[0].stop()
                self.warm = None
        best = []
        for g in rounds:
            peer = min(("wget2", "rclone"), key=lambda t: g[t]["wall"])
            best.append((g["ours"]["wall"] / g[peer]["wall"], peer))
        ratio = med([r for r, _ in best])
        o = [g["ours"] for g in rounds]
        reqs = max(x["up"]["requests"] for x in o)
        files = max(x["up"]["files"] for x in o)
        ok = all(x["ok"] for x in o)
        self.row("W3", what,
                 "%s, %d master requests (%d listings + %d files; %s), %d "
                 "connection%s; rounds %s" % (
                     B.fmt_s(med([x["wall"] for x in o])), reqs,
                     o[0]["up"]["listings"], files,
                     ", ".join("%d×%d" % kv for kv in
                               sorted(o[0]["up"]["status"].items())),
                     o[0]["conns"], "" if o[0]["conns"] == 1 else "s",
                     ", ".join(B.fmt_s(x["wall"]) for x in o)),
                 "wget2 -N %s (%d requests), rclone %s (%d requests); "
                 "fastest: %s" % (
                     B.fmt_s(med([g["wget2"]["wall"] for g in rounds])),
                     rounds[0]["wget2"]["up"]["requests"],
                     B.fmt_s(med([g["rclone"]["wall"] for g in rounds])),
                     rounds[0]["rclone"]["up"]["requests"],
                     ", ".join(p for _, p in best)),
                 "%.3f×" % ratio, target,
                 "yes" if ratio <= 0.5 and reqs == ndirs and files == 0
                 and ok else "**no**")

    def prep(self, fn, tries=3):
        """An untimed run that only makes a peer's copy: an incomplete one
        is noted and completed by running the tool again on it."""
        for k in range(tries):
            try:
                return fn(k > 0)
            except RuntimeError as e:
                self.notes.append("%s; run again on its copy" % e)
                if k == tries - 1:
                    raise

    # --- W4 -------------------------------------------------------------------
    def w4(self):
        what = ("one REVALIDATED and one MISS (a 512 B–16 KiB file) through "
                "the WAN, Cache mode, freshness 0, a single child: client "
                "time / RTT on a reused connection, and on a new one")
        target = "≤ 1 round trip beyond TLS set-up (time/RTT < 1.5 reused)"
        pp = free_port()
        server = (
            "Listen 127.0.0.1:%d\n<VirtualHost 127.0.0.1:%d>\n"
            "ServerName 127.0.0.1\nSSLProxyEngine on\n"
            "SSLProxyCACertificateFile \"%s\"\n"
            # mod_ssl matches the name against DNS names only, not the IP
            "SSLProxyCheckPeerName off\n"
            "ProxyPass \"/\" \"%s/\"\n</VirtualHost>\n" % (
                pp, pp, self.pki["ca"], self.base_url()))
        vhost = ("ZddcMode Cache\nZddcUpstream %s/\nZddcUpstreamCAFile "
                 "\"%s\"\nZddcCacheRoot \"%s\"\nZddcCacheFreshness 0\n"
                 % (self.base_url(), self.pki["ca"], self.shm("cache")))
        m = Apache(vhost, server_conf="MaxKeepAliveRequests 0\n" +
                   B.MPM_SINGLE + server, modules=("proxy", "proxy_http",
                                                   "ssl"),
                   module_path=self.args.module).start()
        try:
            res = {}
            urls = iter(self.urls[100:])

            def one(port, path, want):
                c0 = self.proxy.count()
                r = B.curl_get("http://127.0.0.1:%d%s" % (port, path))
                if r["status"] != 200 or (want and r["verdict"] != want):
                    raise RuntimeError("%s answered %d %s, wanted %s" % (
                        path, r["status"], r["verdict"], want))
                return r["total"], self.proxy.count() - c0

            # A new connection: the first request of the child.
            first = next(urls)
            res["new MISS"] = [one(m.port, first, "MISS")]
            for _ in range(50):
                if B.probe(m.port, first)[1] == "REVALIDATED":
                    break
                time.sleep(0.05)
            n = 3 if self.args.quick else 7
            for _ in range(n):
                res.setdefault("REVALIDATED", []).append(
                    one(m.port, first, "REVALIDATED"))
                res.setdefault("MISS", []).append(
                    one(m.port, next(urls), "MISS"))
                res.setdefault("proxy", []).append(
                    one(pp, first, None))
        except Exception:
            B.log("W4 server's error log:\n" + m.error_log_tail(15))
            raise
        finally:
            m.stop()
        ok_all = True
        cells = []
        for k in ("REVALIDATED", "MISS"):
            ts = [t for t, c in res[k] if c == 0]
            new = sum(1 for _, c in res[k] if c)
            rounds = med(ts) / self.rtt if ts else float("nan")
            ok_all = ok_all and bool(ts) and rounds < 1.5
            cells.append("%s %s = %.2f RTT (%d of %d on a reused "
                         "connection)" % (k, fmt_lat(med(ts)) if ts else "—",
                                          rounds, len(ts), len(res[k])))
        t_new, c_new = res["new MISS"][0]
        cells.append("first MISS on a new connection %s = %.2f RTT "
                     "(%d connection%s: TCP + TLS 1.3 + the request = 3 RTT)"
                     % (fmt_lat(t_new), t_new / self.rtt, c_new,
                        "" if c_new == 1 else "s"))
        pts = [t for t, c in res["proxy"] if c == 0]
        base = "mod_proxy_http + SSLProxyEngine, same file: %s = %.2f RTT " \
               "(%d of %d reused)" % (fmt_lat(med(pts)) if pts else "—",
                                      med(pts) / self.rtt if pts else
                                      float("nan"), len(pts),
                                      len(res["proxy"]))
        self.row("W4", what, "; ".join(cells), base,
                 "%.2f / %.2f RTT" % (
                     med([t for t, c in res["REVALIDATED"] if c == 0] or
                         [float("nan")]) / self.rtt,
                     med([t for t, c in res["MISS"] if c == 0] or
                         [float("nan")]) / self.rtt),
                 target, "yes" if ok_all else "**no**")

    # --- R1, R2 ---------------------------------------------------------------
    def r1_r2(self):
        what1 = ("document read at a remote site (%d ms RTT), Mirror mode "
                 "after a walk, `ZddcCacheFreshness 1h` = "
                 "`ZddcMirrorMinInterval`: wrk requests/s vs a local HIT "
                 "(Cache vhost, freshness 1h, master on loopback) in the "
                 "same server" % (self.rtt * 1e3))
        what2 = ("the same remote site with `ZddcCacheFreshness %ds` and "
                 "`ZddcCacheStaleWhileRevalidate 1h` (copies past freshness "
                 "all the run): latency of one client (`wrk -t1 -c1 --latency`"
                 ", its 50th percentile; median of the per-round ratios) vs "
                 "the remote HIT of R1, and master requests" % SWR_FRESHNESS)
        t1 = "≥ 0.90×, 0 master requests"
        t2 = "≤ 1.20×; ≤ 1 master request per file per lapse of freshness"
        pl, pc = free_port(), free_port()
        local_up = "https://127.0.0.1:%d/" % self.upstream.port

        def vh(port, mode, up, cache, fresh, swr, status):
            return ("Listen 127.0.0.1:%d\n<VirtualHost 127.0.0.1:%d>\n"
                    "ServerName 127.0.0.1\nZddcMode %s\nZddcUpstream %s\n"
                    "ZddcUpstreamCAFile \"%s\"\nZddcCacheRoot \"%s\"\n"
                    "ZddcCacheFreshness %s\nZddcCacheStaleWhileRevalidate %s\n"
                    "ZddcMirrorSubtree /%s\nZddcMirrorMinInterval 1h\n"
                    "ZddcMirrorParallelism 32\n%s</VirtualHost>\n" % (
                        port, port, mode, up, self.pki["ca"], cache, fresh,
                        swr, SUB, status))
        status = ("<Location /zddc-status>\n SetHandler zddc-status\n"
                  "</Location>\n")
        extra = (vh(pl, "Cache", local_up, self.shm("cache"), "1h", "0", "")
                 + vh(pc, "Mirror", self.base_url() + "/", self.shm("cache"),
                    "%ds" % SWR_FRESHNESS, "1h", status))
        m = self.mirror(32, mpm=B.MPM_MULTI, server_extra="\n" + extra)
        m.start()
        mlog = os.path.join(m.root, "logs", "access.log")
        path = self.urls[len(self.urls) // 2]
        try:
            self.walk(m, 1, run="R1: walk of the remote site")
            self.walk(m, 2, port=pc, run="R2: walk of the SWR site")
            for port, want in ((pl, "HIT"), (m.port, "HIT")):
                for _ in range(100):
                    st, v, _ = B.probe(port, path)
                    if st == 200 and v == want:
                        break
                    time.sleep(0.05)
                if st != 200 or v != want:
                    raise RuntimeError("%d answered %d %s for %s, wanted %s"
                                       % (port, st, v, path, want))
            # past the SWR site's freshness
            time.sleep(SWR_FRESHNESS + 0.2)
            st, v, _ = B.probe(pc, path)
            if st != 200 or v not in ("UPDATING", "HIT"):
                raise RuntimeError("SWR site answered %d %s" % (st, v))
            # name -> (port, wrk connections): the rates under load, and
            # the latency of one client alone (no queueing behind others)
            sides = {"local": (pl, B.WRK_CONNS),
                     "remote": (m.port, B.WRK_CONNS),
                     "swr": (pc, B.WRK_CONNS),
                     "remote1": (m.port, 1), "swr1": (pc, 1)}
            got = {k: [] for k in sides}
            upc = {k: [] for k in sides}
            verdicts = {k: {} for k in sides}
            rounds = 1 if self.args.quick else R_ROUNDS
            seconds = 2 if self.args.quick else R_SECONDS
            for rnd in range(rounds):
                order = list(sides)
                order = order[rnd % 5:] + order[:rnd % 5]
                for side in order:
                    port, conns = sides[side]
                    url = "http://127.0.0.1:%d%s" % (port, path)
                    B.wrk(url, 1, conns, min(conns, B.WRK_THREADS))
                    cur = B.LogCursor(self.up_log)
                    mcur = B.LogCursor(mlog)
                    t0 = time.monotonic()
                    with B.CpuMeter(mirror=m, upstream=self.upstream) as cpu:
                        res = B.wrk(url, seconds, conns,
                                    min(conns, B.WRK_THREADS), latency=True)
                    res["span"] = time.monotonic() - t0
                    ups = [e for e in B.access_entries(cur.new_text())]
                    for e in B.access_entries(mcur.new_text()):
                        verdicts[side][e[4]] = verdicts[side].get(e[4], 0) + 1
                    got[side].append(res)
                    upc[side].append(len(ups))
                    self.cpu_rows.append({
                        "run": "R1/R2 wrk -c%d: %s" % (conns, side),
                        "wall": cpu.wall,
                        "mirror": cpu.cpu["mirror"],
                        "upstream": cpu.cpu["upstream"],
                        "n": res["requests"], "conns": None})
                    B.log("%-7s %8.0f req/s  p50 %.2f ms p99 %.2f ms max %.1f "
                          "ms, %d master requests" % (
                              side, res["rps"], res.get("p50", 0) * 1e3,
                              res.get("p99", 0) * 1e3, res.get("max", 0) * 1e3,
                              len(ups)))
        finally:
            m.stop()

        def vtext(side):
            return ", ".join("%s %d" % kv for kv in
                             sorted(verdicts[side].items()))
        loc, rem, swr = got["local"], got["remote"], got["swr"]
        ratio = med([a["rps"] / b["rps"] for a, b in zip(rem, loc)])
        ups = sum(upc["remote"])
        self.row("R1", what1,
                 "%s, %d master requests during the load (verdicts: %s)" % (
                     B.fmt_rate(med([x["rps"] for x in rem])), ups,
                     vtext("remote")),
                 "%s (verdicts: %s)" % (B.fmt_rate(med([x["rps"] for x in
                                                        loc])),
                                        vtext("local")),
                 fmt_ratio(ratio, 0.9), t1,
                 "yes" if ratio >= 0.9 and ups == 0 else "**no**")
        one, swr1 = got["remote1"], got["swr1"]
        lr = med([a["p50"] / b["p50"] for a, b in zip(swr1, one)
                  if "p50" in a and "p50" in b])
        rr = med([a["rps"] / b["rps"] for a, b in zip(swr, rem)])
        seconds = 2 if self.args.quick else R_SECONDS
        # one background request at a time: at most one per lapse of
        # freshness (plus the one the run starts with)
        spans = swr + swr1
        counts = upc["swr"] + upc["swr1"]
        bound = [int(x["span"] / SWR_FRESHNESS) + 1 for x in spans]
        over = [u for u, b in zip(counts, bound) if u > b]
        self.row("R2", what2,
                 "one client: p50 %s, p99 %s, max %s; master requests per "
                 "%d s run: %s (verdicts: %s); under wrk -c%d: %s, %.2f× the "
                 "remote HIT rate (verdicts: %s)" % (
                     fmt_lat(med([x["p50"] for x in swr1])),
                     fmt_lat(med([x["p99"] for x in swr1])),
                     fmt_lat(max(x["max"] for x in swr1)), seconds,
                     ", ".join(str(u) for u in counts), vtext("swr1"),
                     B.WRK_CONNS, B.fmt_rate(med([x["rps"] for x in swr])),
                     rr, vtext("swr")),
                 "remote HIT, one client: p50 %s, p99 %s, max %s; bound on "
                 "master requests per run %s" % (
                     fmt_lat(med([x["p50"] for x in one])),
                     fmt_lat(med([x["p99"] for x in one])),
                     fmt_lat(max(x["max"] for x in one)),
                     ", ".join(str(b) for b in bound)),
                 fmt_ratio(lr, 1.2) + " (p50)", t2,
                 "yes" if lr <= 1.2 and not over else
                 "**no** (latency %s; requests over the bound in %d of %d "
                 "runs)" % ("met" if lr <= 1.2 else "not met", len(over),
                            len(counts)))

    # --- R3 -------------------------------------------------------------------
    def r3(self):
        what = ("three tiers (master → regional → site, both links through "
                "a %d ms RTT proxy), warm walks at both tiers, nothing "
                "changed: master requests during the site's walk" % (
                    self.rtt * 1e3))
        target = "0 with the regional tier's freshness covering it"
        got = {}
        for fresh in ("1h", "0"):
            regional = self.mirror(32, freshness=fresh).start()
            p2 = DelayProxy(regional.port, self.rtt).start()
            site = self.mirror(32, upstream="http://127.0.0.1:%d/" %
                               p2.port).start()
            rlog = os.path.join(regional.root, "logs", "access.log")
            try:
                self.walk(regional, 1, run="R3 (regional %s): regional cold"
                          % fresh)
                self.walk(site, 1, run="R3 (regional %s): site cold" % fresh)
                reg = self.walk(regional, 2, run="R3 (regional %s): regional"
                                " warm" % fresh)
                rcur = B.LogCursor(rlog)
                c0 = p2.count()
                s = self.walk(site, 2, run="R3 (regional %s): site warm"
                              % fresh)
                at_reg = B.access_entries(rcur.new_text())
                vs = {}
                for e in at_reg:
                    vs[e[4]] = vs.get(e[4], 0) + 1
                got[fresh] = {"site": s, "regional": reg,
                              "at_regional": len(at_reg), "verdicts": vs,
                              "site_conns": p2.count() - c0}
            finally:
                site.stop()
                p2.stop()
                regional.stop()
        a, b = got["1h"], got["0"]
        master = a["site"]["up"]["requests"]
        self.row("R3", what,
                 "%d master requests; the site's walk %s, %d requests to the "
                 "regional tier (%s) over %d connection%s; the regional "
                 "tier's own warm walk %s, %d master requests" % (
                     master, B.fmt_s(a["site"]["wall"]), a["at_regional"],
                     ", ".join("%s %d" % kv for kv in
                               sorted(a["verdicts"].items())),
                     a["site_conns"], "" if a["site_conns"] == 1 else "s",
                     B.fmt_s(a["regional"]["wall"]),
                     a["regional"]["up"]["requests"]),
                 "regional `ZddcCacheFreshness 0`: %d master requests, the "
                 "site's walk %s (%s)" % (
                     b["site"]["up"]["requests"], B.fmt_s(b["site"]["wall"]),
                     ", ".join("%s %d" % kv for kv in
                               sorted(b["verdicts"].items()))),
                 "—", target,
                 "yes" if master == 0 and a["site"]["ok"] else "**no**")

    # --- everything ------------------------------------------------------------------
    def run(self):
        self.start_world()
        steps = [("W1", self.w1), ("W2", self.w2), ("W3", self.w3),
                 ("W4", self.w4), ("R1/R2", self.r1_r2), ("R3", self.r3)]
        for name, fn in steps:
            if not any(self.want(x) for x in name.split("/")):
                continue
            B.log("--- %s" % name)
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                for rid in name.split("/"):
                    if not any(r["id"] == rid for r in self.rows):
                        self.failed_row(rid, name, "—", e)
        if self.warm:
            self.warm[0].stop()
        if self.proxy.refused:
            self.notes.append("the delay proxy refused %d connections (over "
                              "its limit of open ones)" % self.proxy.refused)
        self.proxy.stop()
        self.upstream.stop()

    # --- report ---------------------------------------------------------------
    def write(self):
        mc = B.machine()
        tools = []
        for cmd in (["curl", "--version"], ["wget2", "--version"],
                    ["rclone", "version"], ["wrk", "-v"]):
            try:
                r = subprocess.run(cmd, capture_output=True, text=True,
                                   timeout=20)
                tools.append((r.stdout or r.stderr).splitlines()[0].strip())
            except (OSError, IndexError, subprocess.TimeoutExpired):
                tools.append("%s ?" % cmd[0])
        L = ["# mod_zddc_mirror over a WAN: benchmarks", "",
             "Generated by `make bench-wan` (`bench/wan.py`%s), the second "
             "half of `make bench`. Every figure sits next to its baseline "
             "measured in the same run on the same machine; a missed target "
             "is reported here, never a failed build." % (
                 " --quick" if self.args.quick else ""), "",
             "| | |", "|---|---|",
             "| date | %s |" % self.started.strftime("%Y-%m-%d %H:%M UTC"),
             "| nproc | %s |" % mc["nproc"],
             "| kernel (uname -r) | %s |" % mc["kernel"],
             "| CPU | %s |" % mc["cpu"],
             "| httpd | %s, MPM event; the master with mod_ssl and "
             "mod_http2 (`Protocols h2 http/1.1`) |" % mc["httpd"],
             "| module | `%s` (a copy taken at start), working tree at git "
             "%s |" % (os.path.relpath(self.args.module_shown, REPO)
                       if self.args.module_shown.startswith(REPO + "/")
                       else self.args.module_shown, mc["rev"]),
             "| WAN | `bench/delay_proxy.py`: %.0f ms round trip (RTT/2 each "
             "way, plus one RTT before a new connection's first bytes); "
             "measured by curl: %.1f ms for a request on a reused "
             "connection, %.1f ms for a new connection's first (TCP + TLS "
             "1.3 + request) |" % (self.rtt * 1e3, self.measured_rtt * 1e3,
                                   self.first_request * 1e3),
             "| tree | %d files of 512 B–16 KiB in %d directories "
             "(`/%s`), gentree.py's names and listings |" % (
                 len(self.urls), TOP * (SUBDIRS + 1), SUB),
             "| peers | %s |" % "; ".join(tools),
             "| rounds | %d (R1/R2: %d of %d s each), interleaved (the side "
             "that goes first rotates); a ratio is the median of the "
             "per-round ratios |" % (self.rounds,
                                     1 if self.args.quick else R_ROUNDS,
                                     2 if self.args.quick else R_SECONDS),
             "| run time | %.0f s |" % self.elapsed,
             "| load average (1/5/15 min) | %s at start, %s at end (the "
             "machine was shared with other work; it shows here) |" % (
                 self.load_before, B.loadavg()), "",
             "## Results", "",
             "| id | what | ours | baseline | ratio | target | met? |",
             "|---|---|---|---|---|---|---|"]
        order = ["W1", "W2", "W3", "W4", "R1", "R2", "R3"]
        for r in sorted(self.rows, key=lambda r: order.index(r["id"])
                        if r["id"] in order else 99):
            L.append("| %(id)s | %(what)s | %(ours)s | %(base)s | %(ratio)s "
                     "| %(target)s | %(met)s |" % r)
        L += ["", "## Every timed run", "",
              "Master requests are counted in the master's access log, "
              "connections to the master by its delay proxy; CPU is "
              "utime+stime of every process of each httpd over the run "
              "(`/proc/<pid>/stat`), and the proxy's is the benchmark "
              "process's own (it runs there; a client tool's own CPU is not "
              "counted). Requests in flight (mean / peak) are the master's: "
              "each request from RTT/2 before it reached the master to RTT/2 "
              "after the master was done with it (its timing log). The peak "
              "is approximate: the master's %D runs a little past its last "
              "byte, so a walk at parallelism 32 can show 33 or 34.", "",
              "| run | wall | master requests | connections to the master | "
              "in flight | mirror CPU | master CPU | proxy CPU |",
              "|---|---|---|---|---|---|---|---|"]
        for c in self.cpu_rows:
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                c["run"], B.fmt_s(c["wall"]), c["n"] if c["n"] is not None
                else "—", c["conns"] if c["conns"] is not None else "—",
                fmt_flight(c["inflight"]) if c.get("inflight") else "—",
                "%.2f s" % c["mirror"] if c["mirror"] is not None else "—",
                "%.2f s" % c["upstream"],
                "%.2f s" % c["proxy"] if c.get("proxy") is not None
                else "—"))
        L.append("")
        if self.notes or self.errors:
            L += ["## Notes from this run", ""]
            for n in self.notes + ["not measured: " + e for e in self.errors]:
                L.append("- " + n.replace("\n", " "))
            L.append("")
        L.append(REPRODUCE)
        with open(self.args.out, "w") as f:
            f.write("\n".join(L))
        B.log("wrote %s" % self.args.out)


REPRODUCE = """## How to reproduce

```sh
make bench-wan      # deps (bench/install-deps.sh) and build, then bench/wan.py
/usr/bin/python3 bench/wan.py --quick --only W1,W4 --out /tmp/w.md   # a subset
```

- **WAN**: `bench/delay_proxy.py` (asyncio, in the benchmark's process)
  holds every chunk RTT/2 in each direction, in order, and one RTT more
  before a new connection's first bytes (the TCP handshake a local
  `connect()` skips); it counts the connections it accepts.
- Every cache root and every peer's copy is on tmpfs (`/dev/shm`): the
  network is compared, not the disk of a shared machine (curl writes to
  `/dev/null`).
- **W1, W2**: every cold walk runs in a fresh single-child httpd with an
  empty cache root; the walk starts from the status page's button and is
  timed until its log line. curl gets a `-K` list of the 2,000 file URLs
  (listings excluded); wget2 and rclone start from `/w2k/` and follow the
  HTML listings like a person would, into an emptied directory.
- **W3**: the walker of the last W2 round at parallelism 32 walks again
  (nothing changed); the peers re-run into the directory of their previous
  run (wget2 with `-N`, rclone `copy` comparing size and date).
- **W4**: `curl` on loopback to a single-child Cache vhost (freshness 0) and
  to a `mod_proxy_http` vhost (`SSLProxyEngine`) of the same httpd; a
  request counts as on a reused connection when the proxy saw no new one.
- **R1, R2**: one httpd (the P1 MPM settings) with three vhosts: the remote
  site (Mirror, through the WAN, walked once), a local Cache vhost whose
  master is on loopback, and the SWR site; `wrk -t2 -c16 --latency` on one
  file of the tree, each side in turn (five rounds of 3 s), after a 1 s
  warm-up.
- **R3**: two chains (regional freshness 1h, then 0), each tier a
  single-child httpd; the site reaches the regional tier through a second
  delay proxy.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", default=os.path.join(
        os.environ.get("ZDDC_BUILD") or os.path.join(REPO, "build"),
        "mod_zddc_mirror.so"))
    ap.add_argument("--workdir", default="/tmp/zddc-bench")
    ap.add_argument("--out", default=os.path.join(HERE, "results-wan.md"))
    ap.add_argument("--only", default="", help="e.g. W1,W4,R3")
    ap.add_argument("--quick", action="store_true",
                    help="one round, 2 s wrk runs (for trying things out)")
    ap.add_argument("--rtt", type=float, default=RTT, help="seconds")
    args = ap.parse_args()
    args.module = os.path.abspath(args.module)
    args.only = set(x.strip().upper() for x in args.only.split(",")
                    if x.strip())
    if not os.path.exists(args.module):
        sys.exit("bench: module not built: %s (run make)" % args.module)
    missing = [t for t in ("wrk", "curl", "wget2", "rclone")
               if not shutil.which(t)]
    if missing:
        sys.exit("bench: missing %s (make bench-deps installs them)" %
                 ", ".join(missing))
    B.snapshot_module(args, "mod_zddc_mirror-wan.so")
    return B.run_and_write(Wan(args), args.out)


if __name__ == "__main__":
    sys.exit(main())
