#!/usr/bin/python3
# `make bench`: measures mod_zddc_mirror against httpd itself and its peers
# on 127.0.0.1, every figure next to its baseline from the same run, and
# writes bench/results.md. A benchmark, not a test: a missed target is
# reported, never a failure.
"""Usage: bench/run.py [--quick] [--only P1,P2,...] [--out FILE]

Starts (all on 127.0.0.1, ephemeral ports, private temp dirs):
  upstream  plain httpd serving the generated tree (bench/gentree.py) with
            JSON/HTML listings routed by Accept (bench/conf/upstream.conf)
  mirror    one httpd with the module: a Cache vhost (freshness 1h), a plain
            static vhost on the same cache root, a Cache vhost with freshness
            0, a mod_proxy_http vhost, a Mirror vhost (bench/conf/mirror*.conf)
  walkers   one httpd per walk measurement, a single event-MPM child each
            (bench/conf/walker.conf)
  P2s, P4s  an https upstream (mod_ssl; h2 and http/1.1-only vhosts), a
            second mirror httpd with one Cache vhost and one mod_proxy_http
            vhost per variant, and nginx proxy_cache_revalidate when it is
            installed (bench/conf/*-tls*.conf); a CA made at run time
Load comes from wrk (HTTP keep-alive, fixed duration) and curl.
"""

import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "t", "lib"))
sys.path.insert(0, HERE)

import gentree  # noqa: E402
import zddc_test  # noqa: E402
from zddc_test import Apache, free_port, HTTPD  # noqa: E402,F401
from common import (  # noqa: E402,F401  (profile.py reaches them as run.*)
    CONF, CLK_TCK, TMPFS, WRK_THREADS, WRK_CONNS, WRK_WARMUP_SECONDS,
    MPM_MULTI, MPM_SINGLE, UPSTREAM_SERVER, WALK_RE, loadavg, log, template,
    PlainApache, LogCursor, access_entries, upstream_summary, proc_ticks,
    CpuMeter, probe, wrk, curl_get, fmt_rate, fmt_s, machine,
    snapshot_module, run_and_write)

MIB = 1 << 20

WRK_SECONDS = 5
ROUNDS = 5             # ours/baseline back to back this many times
BIG_RUNS = 5           # rounds of 4 KiB MISS, 256 MiB MISS, 256 MiB proxy
P8_CLIENTS = 32
P2S_ROUNDS = 3         # P2s has 8 variants: fewer rounds than ROUNDS
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
WALK_TIMEOUT = 600     # seconds; a walk not finished by then is reported
CURL_PARALLEL = 4      # the P4 baseline, and the walker's default parallelism

# httpd's own default (Debian's too); the mirror server uses the same.
SENDFILE = os.environ.get("ZDDC_BENCH_SENDFILE", "Off")


def fs_floor(where, ndirs, nfiles, threads):
    """Seconds this file system needs to publish ndirs*nfiles new 8 KiB
    files the way a cache does (temp file, write, mtime, rename), with
    `threads` writers and no network: a floor under any cold walk."""
    root = tempfile.mkdtemp(prefix="zddc-bench-floor-", dir=where)
    data = b"x" * 8192

    def work(k):
        for d in range(k, ndirs, threads):
            dd = os.path.join(root, "d%04d" % d)
            os.mkdir(dd)
            for f in range(nfiles):
                tmp = os.path.join(dd, ".tmp-%d" % f)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, data)
                    os.utime(fd, (gentree.MTIME, gentree.MTIME))
                finally:
                    os.close(fd)
                os.rename(tmp, os.path.join(dd, "f%d" % f))
    try:
        t0 = time.monotonic()
        ts = [threading.Thread(target=work, args=(k,))
              for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(WALK_TIMEOUT)
        return time.monotonic() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def settle():
    """Let the kernel finish writing back and freeing what the previous
    measurement wrote (a 256 MiB copy, 10,000 files) before the next timed
    one starts, so no measurement pays for the one before it."""
    os.sync()
    time.sleep(0.2)


class Nginx:
    """nginx as a P2s peer: conf text from bench/conf/nginx-tls*.conf, run
    in the foreground from dir (its logs, cache and temp files)."""

    def __init__(self, conf_text, dir):
        self.dir = dir
        self.conf = os.path.join(dir, "nginx.conf")
        self.access_log = os.path.join(dir, "access.log")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.proc = None

    def start(self, ports):
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.dir, "-c", self.conf],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited %s: %s" % (
                    self.proc.returncode, self.proc.stderr.read()[:2000]))
            if all(zddc_test._port_open(p) for p in ports):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen within 15 s")

    def pids(self):
        if not self.proc or self.proc.poll() is not None:
            return []
        return [self.proc.pid] + Apache._children(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def find_nginx():
    for p in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if p and os.access(p, os.X_OK):
            return p
    return None


NGINX = find_nginx()


def proc_status(pid, key):
    """A /proc/<pid>/status field in KiB (VmRSS, VmHWM)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith(key + ":"):
                    return int(ln.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def fmt_ms(x):
    return "%.1f ms" % (x * 1000)


def fmt_bytes(n):
    if n >= 10 * MIB:
        return "%.1f MiB" % (n / MIB)
    if n >= 10 * 1024:
        return "%.0f KiB" % (n / 1024)
    return "%d B" % n


def share(up, mir):
    tot = up + mir
    return "%.0f%%" % (100.0 * up / tot) if tot > 0 else "n/a"


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.rows = []          # the results table
        self.cpu_rows = []      # CPU share and verdicts per load run
        self.walk_rows = {}     # upstream cost per walk
        self.notes = []
        self.errors = []
        self.floors = {}
        self.tree = os.path.join(args.workdir, "tree")
        self.upstream = None
        self.mirror = None
        self.ports = {}
        self.seconds = 2 if args.quick else WRK_SECONDS
        self.rounds = 1 if args.quick else ROUNDS
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_before = loadavg()
        self.t0 = time.monotonic()
        self.elapsed = 0.0

    def want(self, pid):
        return not self.args.only or pid.upper() in self.args.only

    def row(self, pid, what, ours, base, ratio, target, met):
        self.rows.append({"id": pid, "what": what, "ours": ours,
                          "base": base, "ratio": ratio, "target": target,
                          "met": met})

    def failed_row(self, pid, what, target, err):
        self.errors.append("%s: %s" % (pid, err))
        self.row(pid, what, "not measured", "—", "—", target,
                 "n/a (%s)" % str(err).splitlines()[0][:120])

    # --- servers ---------------------------------------------------------
    def start_upstream(self):
        up = PlainApache(template("upstream.conf", TREE=self.tree),
                         server_conf=UPSTREAM_SERVER, modules=("rewrite",))
        up.start()
        st, _, n = probe(up.port, "/w10k/", {"Accept": "application/json"})
        if st != 200 or n == 0:
            raise RuntimeError("upstream JSON listing answered %d" % st)
        st, _, _ = probe(up.port, "/hot/f4k.bin",
                         {"If-Modified-Since": "Fri, 31 Oct 2025 12:00:00 "
                          "GMT"})
        if st != 304:
            raise RuntimeError("upstream If-Modified-Since answered %d" % st)
        self.upstream = up
        self.up_log = os.path.join(up.root, "logs", "access.log")
        log("upstream httpd on port %d (root %s)" % (up.port, up.root))

    def start_mirror(self):
        p = {k: free_port() for k in ("STATIC", "REVAL", "PROXY", "MIRROR")}
        srv = template("mirror-server.conf", UP_PORT=self.upstream.port,
                       MPM=MPM_MULTI, SENDFILE=SENDFILE, P_STATIC=p["STATIC"],
                       P_REVAL=p["REVAL"], P_PROXY=p["PROXY"],
                       P_MIRROR=p["MIRROR"])
        m = Apache(template("mirror.conf", UP_PORT=self.upstream.port),
                   server_conf=srv, modules=("proxy", "proxy_http"),
                   module_path=self.args.module)
        m.start()
        self.mirror = m
        self.ports = dict(p, HIT=m.port)
        self.mir_log = os.path.join(m.root, "logs", "access.log")
        log("mirror httpd: %s" % ", ".join("%s=%d" % kv
                                           for kv in self.ports.items()))

    def prime(self):
        """Cache what the load runs need and check every verdict once."""
        P = self.ports
        for path in ("/hot/f4k.bin", "/hot/f1m.bin"):
            for port, want in ((P["HIT"], "HIT"), (P["REVAL"], "REVALIDATED")):
                # The first request is a MISS; the copy is published as its
                # body ends, so the next verdict may take a moment.
                for _ in range(50):
                    st, v, _ = probe(port, path)
                    if st == 200 and v == want:
                        break
                    time.sleep(0.1)
                if st != 200 or v != want:
                    raise RuntimeError("priming %s on %d: %d %s, wanted %s"
                                       % (path, port, st, v, want))
            st, _, n = probe(P["STATIC"], path)
            st2, _, n2 = probe(P["PROXY"], path)
            if st != 200 or st2 != 200 or n != n2:
                raise RuntimeError("static/proxy baseline of %s: %d/%d" %
                                   (path, st, st2))
        # The Mirror vhost walks /hot once; measure after that walk.
        st, v, _ = probe(P["MIRROR"], "/hot/f4k.bin")
        done = self.wait_walk(self.mirror, "/hot", 1, 120)
        if not done:
            self.notes.append("The Mirror vhost's walk of /hot did not "
                              "finish within 120 s; P7 ran beside it.")
        for _ in range(50):
            st, v, _ = probe(P["MIRROR"], "/hot/f4k.bin")
            if v == "HIT":
                break
            time.sleep(0.1)
        if v != "HIT":
            raise RuntimeError("Mirror vhost answers %d %s, wanted HIT" %
                               (st, v))

    def wait_walk(self, apache, subtree, nth, timeout):
        """Wait for the nth 'walk of SUBTREE finished' line; its match."""
        rx = re.compile(WALK_RE % re.escape(subtree))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = rx.findall(apache.error_log())
            if len(found) >= nth:
                return found[nth - 1]
            time.sleep(0.02)
        return None

    # --- requests/s pairs ---------------------------------------------------
    def load(self, name, port, path, expect, mirror=None, upstream=None,
             mir_log=None, up_log=None):
        """One wrk run after a warm-up; CPU shares and verdicts recorded
        (the main mirror and upstream unless others are given; up_log:
        count the upstream's requests too)."""
        url = "http://127.0.0.1:%d%s" % (port, path)
        wrk(url, WRK_WARMUP_SECONDS)
        cur = LogCursor(mir_log or self.mir_log)
        up_cur = LogCursor(up_log) if up_log else None
        with CpuMeter(mirror=mirror or self.mirror,
                      upstream=upstream or self.upstream) as cpu:
            res = wrk(url, self.seconds)
        entries = access_entries(cur.new_text())
        res["up_requests"] = (len(access_entries(up_cur.new_text()))
                              if up_cur else None)
        verdicts = {}
        for e in entries:
            verdicts[e[4]] = verdicts.get(e[4], 0) + 1
        res.update(cpu=cpu.cpu, wall=cpu.wall, verdicts=verdicts)
        bad = res["non2xx"] or (expect and set(verdicts) - {expect})
        self.cpu_rows.append({
            "run": name, "rps": res["rps"], "n": res["requests"],
            "mirror": cpu.cpu["mirror"],
            "upstream": cpu.cpu["upstream"], "wall": cpu.wall,
            "verdicts": ", ".join("%s %d" % kv for kv in
                                  sorted(verdicts.items()))
            + ("; upstream requests %d" % res["up_requests"]
               if res["up_requests"] is not None else ""),
            "errors": ("non-2xx %d; " % res["non2xx"] if res["non2xx"]
                       else "") + (res["socket_errors"] or "")})
        if bad:
            self.notes.append("%s: unexpected answers: verdicts %s, non-2xx "
                              "%d" % (name, verdicts, res["non2xx"]))
        log("%-28s %10.0f req/s  mirror cpu %.1fs upstream cpu %.1fs" %
            (name, res["rps"], cpu.cpu["mirror"], cpu.cpu["upstream"]))
        return res

    def pairs(self):
        P = self.ports
        cases = []
        if self.want("P1"):
            for label, path in (("4 KiB", "/hot/f4k.bin"),
                                ("1 MiB", "/hot/f1m.bin")):
                cases.append(("P1", label, [
                    ("P1 %s HIT (Cache vhost)" % label, P["HIT"], path, "HIT"),
                    ("P1 %s httpd static" % label, P["STATIC"], path, None)]))
        if self.want("P2"):
            for label, path in (("4 KiB", "/hot/f4k.bin"),
                                ("1 MiB", "/hot/f1m.bin")):
                cases.append(("P2", label, [
                    ("P2 %s REVALIDATED" % label, P["REVAL"], path,
                     "REVALIDATED"),
                    ("P2 %s mod_proxy_http" % label, P["PROXY"], path,
                     None)]))
        if self.want("P7"):
            cases.append(("P7", "4 KiB", [
                ("P7 4 KiB HIT (Mirror vhost)", P["MIRROR"], "/hot/f4k.bin",
                 "HIT"),
                ("P7 4 KiB HIT (Cache vhost)", P["HIT"], "/hot/f4k.bin",
                 "HIT")]))
        got = {}     # run name -> [req/s per round] (or an exception)
        for rnd in range(self.rounds):
            for pid, label, runs in cases:
                # Alternate which side goes first, round by round.
                order = runs if rnd % 2 == 0 else list(reversed(runs))
                for run in order:
                    try:
                        got.setdefault(run[0], []).append(
                            self.load(*run)["rps"])
                    except Exception as e:  # noqa: BLE001
                        got.setdefault(run[0], []).append(e)
        targets = {("P1", "4 KiB"): 0.90, ("P1", "1 MiB"): 0.90,
                   ("P2", "4 KiB"): 0.80, ("P2", "1 MiB"): 1.00,
                   ("P7", "4 KiB"): 0.97}
        whats = {"P1": "HIT requests/s, %s (ZddcCacheFreshness 1h) vs httpd "
                       "static serving of the same file",
                 "P2": "REVALIDATED requests/s, %s (freshness 0, 304 "
                       "upstream) vs mod_proxy_http from the same upstream",
                 "P7": "HIT requests/s, %s, Mirror vhost (trigger on every "
                       "request) vs Cache vhost"}
        for pid, label, runs in cases:
            t = targets[(pid, label)]
            what = whats[pid] % label
            ours, base = got.get(runs[0][0], []), got.get(runs[1][0], [])
            errs = [x for x in ours + base if not isinstance(x, float)]
            if errs or not ours or not base:
                self.failed_row(pid, what, "≥ %.2f×" % t,
                                errs[0] if errs else "no runs")
                continue
            # Each round ran both sides back to back: the median of those
            # paired ratios shrugs off load that came and went between rounds.
            ratio = statistics.median(o / b for o, b in zip(ours, base) if b)
            self.row(pid, what, fmt_rate(statistics.median(ours)),
                     fmt_rate(statistics.median(base)),
                     "%.2f×" % ratio, "≥ %.2f×" % t,
                     "yes" if ratio >= t else "**no**")

    # --- P3 -------------------------------------------------------------------
    def p3(self):
        P = self.ports
        cache = os.path.join(self.mirror.root, "cache-reval")
        small, big = "/big/f4k.bin", "/big/f256m.bin"
        size = gentree.SPARSE[big[1:]]
        ttfb_small, ttfb_big, mbs_ours, mbs_proxy = [], [], [], []
        cpu = {"ours": [0.0, 0.0, 0.0], "proxy": [0.0, 0.0, 0.0]}

        def fetch(kind, port, path):
            with CpuMeter(mirror=self.mirror, upstream=self.upstream) as m:
                r = curl_get("http://127.0.0.1:%d%s" % (port, path))
            acc = cpu[kind]
            acc[0] += m.cpu["mirror"]
            acc[1] += m.cpu["upstream"]
            acc[2] += m.wall
            return r

        ttfb_proxy = []

        # Interleaved, so the small and the big MISS see the same machine.
        for _ in range(BIG_RUNS):
            remove(cache + small)
            settle()
            r = curl_get("http://127.0.0.1:%d%s" % (P["REVAL"], small))
            if r["status"] != 200 or r["verdict"] != "MISS":
                raise RuntimeError("4 KiB miss answered %(status)d "
                                   "%(verdict)s" % r)
            ttfb_small.append(r["ttfb"])
            remove(cache + big)
            settle()
            r = fetch("ours", P["REVAL"], big)
            if (r["status"] != 200 or r["verdict"] != "MISS"
                    or r["size"] != size):
                raise RuntimeError("256 MiB miss answered %(status)d "
                                   "%(verdict)s %(size)d bytes" % r)
            ttfb_big.append(r["ttfb"])
            mbs_ours.append(r["size"] / r["total"] / 1e6)
            remove(cache + big)
            settle()
            r = fetch("proxy", P["PROXY"], big)
            if r["status"] != 200 or r["size"] != size:
                raise RuntimeError("proxy of 256 MiB answered %(status)d "
                                   "%(size)d bytes" % r)
            ttfb_proxy.append(r["ttfb"])
            mbs_proxy.append(r["size"] / r["total"] / 1e6)
        self.notes.append(
            "P3 samples: TTFB 4 KiB MISS %s; 256 MiB MISS %s; 256 MiB via "
            "mod_proxy_http %s; MB/s ours %s, mod_proxy_http %s." % (
                " ".join("%.1f" % (x * 1e3) for x in ttfb_small) + " ms",
                " ".join("%.1f" % (x * 1e3) for x in ttfb_big) + " ms",
                " ".join("%.1f" % (x * 1e3) for x in ttfb_proxy) + " ms",
                " ".join("%.0f" % x for x in mbs_ours),
                " ".join("%.0f" % x for x in mbs_proxy)))
        for kind, label in (("ours", "P3 256 MiB MISS x%d" % BIG_RUNS),
                            ("proxy", "P3 256 MiB mod_proxy_http x%d"
                             % BIG_RUNS)):
            self.cpu_rows.append({
                "run": label, "rps": None, "mirror": cpu[kind][0],
                "upstream": cpu[kind][1], "wall": cpu[kind][2],
                "verdicts": "MISS" if kind == "ours" else "—", "errors": ""})
        ts, tb = statistics.median(ttfb_small), statistics.median(ttfb_big)
        mo, mp = statistics.median(mbs_ours), statistics.median(mbs_proxy)
        # As for wrk: the ratio is the median of the per-round ratios.
        rt = statistics.median(b / a for a, b in zip(ttfb_small, ttfb_big))
        rm = statistics.median(o / b for o, b in zip(mbs_ours, mbs_proxy))
        log("P3 TTFB 4k %.1fms 256m %.1fms; MB/s ours %.0f proxy %.0f" %
            (ts * 1e3, tb * 1e3, mo, mp))
        self.row("P3", "MISS of a 256 MiB file: time to first byte vs a "
                 "4 KiB MISS (%d interleaved rounds)" % BIG_RUNS,
                 fmt_ms(tb), fmt_ms(ts), "%.2f×" % rt, "≤ 3×",
                 "yes" if rt <= 3 else "**no**")
        self.row("P3", "MISS of a 256 MiB file: MB/s to the client vs "
                 "mod_proxy_http (%d interleaved rounds)" % BIG_RUNS,
                 "%.0f MB/s" % mo, "%.0f MB/s" % mp, "%.2f×" % rm,
                 "≥ 0.80×", "yes" if rm >= 0.8 else "**no**")

    # --- P8 -------------------------------------------------------------------
    def p8(self):
        P = self.ports
        path = "/big/f64m.bin"
        remove(os.path.join(self.mirror.root, "cache-reval") + path)
        cur = LogCursor(self.up_log)
        fmt = "%{http_code} %{size_download} %header{x-zddc-cache}\n"
        url = "http://127.0.0.1:%d%s" % (P["REVAL"], path)
        t0 = time.monotonic()
        procs = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", fmt,
                                   url], stdout=subprocess.PIPE, text=True)
                 for _ in range(P8_CLIENTS)]
        outs = []
        for pr in procs:
            try:
                out, _ = pr.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                pr.kill()
                out, _ = pr.communicate()
            outs.append(out.split())
        wall = time.monotonic() - t0
        full = sum(1 for o in outs if len(o) >= 2 and o[0] == "200"
                   and int(o[1]) == gentree.SPARSE[path[1:]])
        gets = [e for e in access_entries(cur.new_text())
                if e[1] == path and e[0] == "GET"]
        # "Serves it" = sends the body: a client that starts after the copy
        # was published revalidates it (304, no body), as freshness 0 asks.
        served = [e for e in gets if e[2] == 200]
        log("P8: %d upstream GETs (%d with the body), %d/%d clients got the "
            "whole file in %.1fs" % (len(gets), len(served), full,
                                     P8_CLIENTS, wall))
        self.row("P8", "%d concurrent clients missing one 64 MiB file: "
                 "upstream 200s of it (%d/%d clients got all 64 MiB, %.1f s; "
                 "%d conditional GETs answered 304 for clients that came "
                 "after it was published)"
                 % (P8_CLIENTS, full, P8_CLIENTS, wall,
                    len(gets) - len(served)),
                 "%d" % len(served), "—", "—", "= 1",
                 "yes" if len(served) == 1 and full == P8_CLIENTS
                 else "**no**")

    # --- walks ----------------------------------------------------------------
    def walker(self, subtree, fs="disk", up_url=None, up_extra=""):
        """A single-child httpd with one Mirror vhost of subtree; its cache
        root on the disk (the harness's temp dir under /tmp) or on tmpfs;
        the plain upstream unless up_url (and up_extra lines) say else."""
        if fs == "tmpfs":
            base = tempfile.mkdtemp(prefix="zddc-bench-", dir=TMPFS)
            os.chmod(base, 0o755)
            zddc_test._cleanup["dirs"].append(base)
            cache = os.path.join(base, "cache")   # created by the module
        else:
            cache = "{cache}"
        w = Apache(template("walker.conf", UP_URL=up_url or
                            "http://127.0.0.1:%d" % self.upstream.port,
                            UP_EXTRA=up_extra, SUBTREE=subtree, CACHE=cache),
                   server_conf="MaxKeepAliveRequests 0\n" + MPM_SINGLE,
                   module_path=self.args.module)
        w.start()
        return w

    def trigger_url(self, sub):
        urls = gentree.file_urls(self.tree, sub)
        return urls[0], urls

    def walk(self, w, sub, nth, fs="disk", upstream=None, up_log=None,
             label=""):
        """Trigger a walk of /sub on w; wall time, log figures, upstream
        (the plain one unless upstream and up_log say else)."""
        first, _ = self.trigger_url(sub)
        cur = LogCursor(up_log or self.up_log)
        with CpuMeter(mirror=w, upstream=upstream or self.upstream) as cpu:
            t0 = time.monotonic()
            st, verdict, _ = probe(w.port, first)
            m = self.wait_walk(w, "/" + sub, nth, WALK_TIMEOUT)
            wall = time.monotonic() - t0
        if not m:
            raise RuntimeError("no 'walk of /%s finished' line within %ds" %
                               (sub, WALK_TIMEOUT))
        entries = access_entries(cur.new_text())
        # The triggering GET is a request of its own: one upstream GET when
        # it was a MISS or a REVALIDATED, none for a HIT.
        if verdict in ("MISS", "REVALIDATED"):
            for i, e in enumerate(entries):
                if e[1] == first:
                    del entries[i]
                    break
        up = upstream_summary(entries)
        figures = dict(zip(("dirs", "files", "fetched", "skipped", "purged",
                            "errors", "bytes"), map(int, m[3:])))
        res = {"wall": wall, "logged": m[1], "ok": m[0] == "finished in",
               "message": m[2], "trigger": (st, verdict), "up": up,
               "figures": figures, "cpu": cpu.cpu}
        self.cpu_rows.append({
            "run": "%s walk of /%s, cache on %s%s" % (
                "cold" if nth == 1 else "warm", sub, fs, label), "rps": None,
            "n": up["requests"],
            "mirror": cpu.cpu["mirror"], "upstream": cpu.cpu["upstream"],
            "wall": wall, "verdicts": "trigger %d %s" % (st, verdict),
            "errors": "" if res["ok"] else "walk failed: %s" % m[2]})
        log("walk of /%s #%d: %.2fs (logged %s), upstream %d requests "
            "(%d listings, %d files) %s" % (sub, nth, wall, m[1],
                                            up["requests"], up["listings"],
                                            up["files"],
                                            fmt_bytes(up["bytes"])))
        return res

    def curl_baseline(self, sub, runs=2, base=None, cacert=None,
                      up_log=None, fs=None, upstream=None):
        """curl --parallel over every file URL of sub; the time of the last
        of `runs` runs (the first warms the upstream's page cache). base
        and cacert: another upstream (https), up_log its access log. fs
        ("disk" or "tmpfs"): each run stores every file under a fresh
        directory of that file system, as a cold walk does (one file per
        URL; its directories are made first, in the timed window, so curl
        does not probe each of them per file as --create-dirs does); None:
        to /dev/null. upstream: the master whose CPU over the last run
        goes to self.curl_cpu (seconds)."""
        _, urls = self.trigger_url(sub)
        base = base or "http://127.0.0.1:%d" % self.upstream.port
        times = []
        for i in range(runs):
            cfg, dirs = self.curl_config(sub, urls, base, cacert, fs)
            cmd = ["curl", "-s", "--parallel", "--parallel-max",
                   str(CURL_PARALLEL), "-K", cfg]
            cur = LogCursor(up_log or self.up_log)
            with CpuMeter(**({"upstream": upstream} if upstream
                             else {})) as cpu:
                t0 = time.monotonic()
                for d in dirs:
                    os.makedirs(d, exist_ok=True)
                r = subprocess.run(cmd, capture_output=True,
                                   timeout=WALK_TIMEOUT)
                t = time.monotonic() - t0
            self.curl_cpu = cpu.cpu.get("upstream")
            n = len(access_entries(cur.new_text()))
            if r.returncode != 0 or n < len(urls):
                raise RuntimeError("curl --parallel exited %d after %d of %d "
                                   "requests" % (r.returncode, n, len(urls)))
            times.append(t)
        log("curl --parallel-max %d: %d URLs in %.2fs, to %s" % (
            CURL_PARALLEL, len(urls), times[-1], fs or "/dev/null"))
        return times[-1], len(urls)

    def curl_config(self, sub, urls, base, cacert, fs):
        """A curl -K file for urls and the directories its files go to: a
        fresh directory on fs (kept until the bench ends, like the walks'
        cache roots) or /dev/null (none)."""
        cfg = os.path.join(self.args.workdir, "curl-%s%s.cfg" % (
            sub, "-tls" if cacert else ""))
        out, dirs = None, set()
        if fs:
            out = tempfile.mkdtemp(prefix="zddc-bench-curl-",
                                   dir=TMPFS if fs == "tmpfs" else "/tmp")
            zddc_test._cleanup["dirs"].append(out)
        with open(cfg, "w") as f:
            if cacert:
                f.write('cacert = "%s"\n' % cacert)
            for u in urls:
                dest = ("/dev/null" if not out else
                        out + urllib.parse.unquote(u))
                if out:
                    dirs.add(os.path.dirname(dest))
                f.write('url = "%s%s"\noutput = "%s"\n' % (
                    base, u, dest.replace("\\", "\\\\").replace(
                        '"', '\\"')))
        return cfg, sorted(dirs)

    def p4_p5(self):
        sub = "w10k"
        stats = gentree.subtree_stats(self.tree, sub)
        try:
            self.curl_baseline(sub, runs=1)     # warms the page cache
        except Exception as e:  # noqa: BLE001
            self.notes.append("curl warm-up: %s" % e)
        for fs in ("disk", "tmpfs"):
            self.p4_p5_on(fs, sub, stats)
        # After the walks: the floor's deletions would slow ext4's next
        # inode allocations (recently deleted inodes are skipped).
        for fs in ("disk", "tmpfs"):
            try:
                floor = fs_floor(TMPFS if fs == "tmpfs" else "/tmp",
                                 gentree.W10K_TOP * (gentree.W10K_SUB + 1),
                                 gentree.W10K_FILES, CURL_PARALLEL)
                self.floors[fs] = floor
                log("file system floor (%s): %.2fs" % (fs, floor))
            except Exception as e:  # noqa: BLE001
                self.notes.append("file system floor on %s: %s" % (fs, e))

    def cold_walk_what(self, stats, where, scheme, fs):
        """The description of a P4 row."""
        return ("cold walk of %d files / %d directories%s vs `curl "
                "--parallel --parallel-max %d` of the same %d URLs%s, each "
                "stored as a file on %s, its directories made first in the "
                "timed window (%d rounds back to back, median ratio; curl to "
                "/dev/null for reference)" % (
                    stats["files"], stats["dirs"] - 1, where, CURL_PARALLEL,
                    stats["files"], scheme, fs, self.rounds))

    def p4_p5_on(self, fs, sub, stats):
        """Rounds of (curl baseline, cold walk into a fresh cache root) back
        to back; P4 is the median of the per-round ratios. Every root stays
        until the bench ends: deleting 10,000 files would slow ext4's next
        inode allocations and so the next round."""
        where = ("cache root on the disk (ext4, /tmp)" if fs == "disk"
                 else "cache root on tmpfs (%s)" % TMPFS)
        what4 = self.cold_walk_what(
            stats, ", %s: wall time (trigger to log line)" % where, "",
            "the same file system")
        what5 = ("warm walk of the same tree, nothing changed, %s: wall time "
                 "and upstream requests vs the cold walk of its round (each "
                 "round walks its cache root again 1.5 s later; median of "
                 "the per-round ratios)" % where)
        t5 = "≤ 0.10×, requests = %d" % stats["dirs"]
        rounds, warms, nulls, p5_error = [], [], [], None
        try:
            for k in range(self.rounds):
                settle()
                null_t, _ = self.curl_baseline(sub, runs=1)
                settle()
                base_t, n_urls = self.curl_baseline(sub, runs=1, fs=fs)
                w = self.walker("/" + sub, fs)
                try:
                    settle()
                    cold = self.walk(w, sub, 1, fs)
                    rounds.append((cold, base_t, n_urls))
                    nulls.append(cold["wall"] / null_t)
                    if self.want("P5") and not p5_error:
                        try:
                            warms.append(self.warm_walk(w, sub, fs, cold))
                        except Exception as e:  # noqa: BLE001
                            p5_error = e
                finally:
                    w.stop()
        except Exception as e:  # noqa: BLE001
            self.failed_row("P4", what4, "≤ 1.30×", e)
            if self.want("P5"):
                self.failed_row("P5", what5, t5, "no cold walk")
            return
        ratios = sorted(c["wall"] / b for c, b, _ in rounds)
        ratio = ratios[len(ratios) // 2]
        cold, base_t, n_urls = sorted(
            rounds, key=lambda r: r[0]["wall"] / r[1])[len(rounds) // 2]
        all_ok = all(c["ok"] for c, _, _ in rounds)
        up = cold["up"]
        ours4 = "%s, %d upstream requests (%d listings + %d files), %s" % (
            fmt_s(cold["wall"]), up["requests"], up["listings"], up["files"],
            fmt_bytes(up["bytes"]))
        if len(rounds) > 1:
            ours4 += "; rounds: %s" % ", ".join(
                "%s/%s" % (fmt_s(c["wall"]), fmt_s(b)) for c, b, _ in rounds)
        if not all_ok:
            ours4 += "; walk failed: %s" % next(
                c["message"] for c, _, _ in rounds if not c["ok"])
        self.row("P4", what4, ours4, "%s, %d requests (ours / curl to "
                 "/dev/null: %.2f×)" % (fmt_s(base_t), n_urls,
                                       statistics.median(nulls)),
                 "%.2f×" % ratio, "≤ 1.30×",
                 "yes" if ratio <= 1.3 and all_ok else "**no**")
        self.walk_rows.setdefault("cold", (stats, up))
        if self.want("P5"):
            if p5_error:
                self.failed_row("P5", what5, t5, p5_error)
            else:
                self.p5_row(what5, t5, stats, warms)

    def warm_walk(self, w, sub, fs, cold):
        """The round's cold walk again, nothing changed: (warm, cold)."""
        # ZddcMirrorMinInterval is 1s: wait it out, then trigger again.
        time.sleep(1.5)
        return self.walk(w, sub, 2, fs), cold

    def p5_row(self, what5, t5, stats, warms):
        """P5: the median of the per-round ratios warm / cold."""
        ratios = sorted(wm["wall"] / c["wall"] for wm, c in warms)
        ratio = ratios[len(ratios) // 2]
        warm, cold = sorted(warms, key=lambda r: r[0]["wall"] / r[1]["wall"])[
            len(warms) // 2]
        upw = warm["up"]
        met = (ratio <= 0.1 and all(
            wm["ok"] and wm["up"]["requests"] == stats["dirs"]
            and wm["up"]["files"] == 0 for wm, _ in warms))
        ours = "%s, %d upstream requests (%d listings + %d files; %s), %s" % (
            fmt_s(warm["wall"]), upw["requests"], upw["listings"],
            upw["files"], ", ".join("%d×%d" % kv for kv in sorted(
                upw["status"].items())), fmt_bytes(upw["bytes"]))
        if len(warms) > 1:
            ours += "; rounds (warm/cold): %s" % ", ".join(
                "%s/%s" % (fmt_s(wm["wall"]), fmt_s(c["wall"]))
                for wm, c in warms)
        self.row("P5", what5, ours, "cold %s; directories: %d" % (
            fmt_s(cold["wall"]), stats["dirs"]), "%.3f×" % ratio, t5,
            "yes" if met else "**no**")
        self.walk_rows.setdefault("warm", (stats, upw))

    def p6(self):
        sub = "w100k"
        stats = gentree.subtree_stats(self.tree, sub)
        what = ("peak RSS growth of the walking child during a %d-file walk "
                "(%d directories, %d B files; one event-MPM child, cache "
                "root on tmpfs)" % (stats["files"], stats["dirs"] - 1,
                                    gentree.W100K_SIZE))
        w = self.walker("/" + sub, "tmpfs")
        try:
            kids = [k for k in w.child_pids() if proc_status(k, "VmRSS")]
            deadline = time.monotonic() + 10
            while len(kids) != 1 and time.monotonic() < deadline:
                time.sleep(0.1)
                kids = w.child_pids()
            if len(kids) != 1:
                raise RuntimeError("expected one child, found %s" % kids)
            child = kids[0]
            probe(w.port, "/zddc-status", {"Accept": "application/json"})
            time.sleep(0.5)
            before = proc_status(child, "VmRSS")
            hwm_before = proc_status(child, "VmHWM")
            first, _ = self.trigger_url(sub)
            cur = LogCursor(self.up_log)
            rx = re.compile(WALK_RE % re.escape("/" + sub))
            peak = before
            cpu = CpuMeter(mirror=w, upstream=self.upstream).__enter__()
            t0 = time.monotonic()
            probe(w.port, first)
            m = None
            while time.monotonic() - t0 < WALK_TIMEOUT:
                rss = proc_status(child, "VmRSS")
                if rss is None:
                    raise RuntimeError("the child %d went away" % child)
                peak = max(peak, rss)
                found = rx.findall(w.error_log())
                if found:
                    m = found[0]
                    break
                time.sleep(0.05)
            wall = time.monotonic() - t0
            cpu.__exit__(None, None, None)
            hwm = proc_status(child, "VmHWM")
            if not m:
                raise RuntimeError("walk not finished within %ds" %
                                   WALK_TIMEOUT)
            if child not in w.child_pids():
                raise RuntimeError("the child %d was replaced" % child)
            up = upstream_summary(access_entries(cur.new_text()))
            growth = max(peak, hwm) - before
            log("P6: child %d RSS before %d KiB, peak sampled %d KiB, HWM %d "
                "KiB (before %d), walk %.1fs, %d upstream requests" % (
                    child, before, peak, hwm, hwm_before, wall,
                    up["requests"]))
            self.row("P6", what,
                     "+%.1f MiB (peak VmRSS %.1f MiB sampled every 50 ms, "
                     "VmHWM %.1f MiB); walk %s, %s" % (
                         growth / 1024, peak / 1024, hwm / 1024, fmt_s(wall),
                         "ok" if m[0] == "finished in"
                         else "failed: %s" % m[2]),
                     "VmRSS %.1f MiB before the walk" % (before / 1024),
                     "—", "≤ 32 MiB",
                     "yes" if growth <= 32 * 1024 else "**no**")
            self.cpu_rows.append({
                "run": "walk of /%s" % sub, "rps": None, "n": up["requests"],
                "mirror": cpu.cpu["mirror"], "upstream": cpu.cpu["upstream"],
                "wall": wall,
                "verdicts": "%d upstream requests" % up["requests"],
                "errors": ""})
        except Exception as e:  # noqa: BLE001
            self.failed_row("P6", what, "≤ 32 MiB", e)
        finally:
            w.stop()

    # --- P2s, P4s: an https upstream -----------------------------------------
    def tls_rows(self):
        """P2s and P4s: an https upstream on loopback (mod_ssl; h2 offered
        on one vhost pair, http/1.1 only on the other) with a CA made now."""
        pki = zddc_test.test_pki()
        self.tls_ca = pki["ca"]
        bundle = os.path.join(self.args.workdir, "p2s-bundle.pem")
        with open(bundle, "w") as out:
            for src in (SYSTEM_CA, pki["ca"]):
                with open(src) as f:
                    out.write(f.read().rstrip("\n") + "\n")
        os.chmod(bundle, 0o644)
        with open(bundle) as f:
            self.bundle_certs = f.read().count("BEGIN CERTIFICATE")
        self.tls_bundle = bundle
        ports = {k: free_port() for k in ("H2", "H1", "NGX_H2", "NGX_H1")}
        vhosts = []
        for k, protos in (("H2", "h2 http/1.1"), ("H1", "http/1.1"),
                          ("NGX_H2", "h2 http/1.1"), ("NGX_H1", "http/1.1")):
            vhosts.append(template(
                "upstream-tls-vhost.conf", PORT=ports[k], PROTOCOLS=protos,
                CERT=pki["server_cert"], KEY=pki["server_key"],
                TREE=self.tree,
                EXTRA='Header always set X-Accel-Expires "@1"'
                if k.startswith("NGX") else ""))
        up = PlainApache(template("upstream.conf", TREE=self.tree),
                         server_conf=UPSTREAM_SERVER
                         + "SSLSessionCache shmcb:{root}/run/ssl_scache"
                           "(512000)\n" + "\n".join(vhosts),
                         modules=("rewrite", "ssl", "http2", "headers",
                                  "socache_shmcb"))
        up.start()
        self.tls_up = up
        self.tls_up_ports = ports
        self.tls_up_log = os.path.join(up.root, "logs", "access.log")
        log("https upstream: %s" % ", ".join("%s=%d" % kv
                                             for kv in ports.items()))
        try:
            if self.want("P2s"):
                self.step("P2s", self.p2s)
            if self.want("P4s"):
                self.step("P4s", self.p4s)
        finally:
            up.stop()

    def p2s(self):
        P = self.tls_up_ports
        cas = (("one-cert CA", "one", self.tls_ca),
               ("%d-cert bundle" % self.bundle_certs, "bundle",
                self.tls_bundle))
        variants = []          # (label, key, upstream port, nginx upstream)
        for proto, up_key in (("h2", "H2"), ("h1", "H1")):
            for ca_label, ca_key, ca in cas:
                variants.append({
                    "label": "master offers %s, %s" % (
                        "h2 + http/1.1" if proto == "h2" else "http/1.1 only",
                        ca_label),
                    "name": "%s-%s" % (proto, ca_key), "ca": ca,
                    "up": P[up_key], "ngx_up": P["NGX_" + up_key],
                    "ours": free_port(), "proxy": free_port(),
                    "nginx": free_port()})
        # the mirror server's settings, its vhosts those of P2s only
        srv = "\n".join(
            ["EnableSendfile %s\nMaxKeepAliveRequests 0\n%s"
             % (SENDFILE, MPM_MULTI)] +
            [template("mirror-tls.conf", P_OURS=v["ours"],
                      P_PROXY=v["proxy"], UP_PORT=v["up"], CA=v["ca"],
                      NAME=v["name"]) for v in variants])
        m = Apache("", server_conf=srv,
                   modules=("proxy", "proxy_http", "ssl"),
                   module_path=self.args.module)
        m.start()
        mir_log = os.path.join(m.root, "logs", "access.log")
        ngx, ngx_why = None, None
        if NGINX:
            d = tempfile.mkdtemp(prefix="zddc-bench-nginx-")
            os.chmod(d, 0o777)
            zddc_test._cleanup["dirs"].append(d)
            servers = "\n".join(template(
                "nginx-tls-server.conf", NAME=v["name"].replace("-", "_"),
                UP_PORT=v["ngx_up"], PORT=v["nginx"], CA=v["ca"])
                for v in variants)
            ngx = Nginx(template("nginx-tls.conf", DIR=d, SERVERS=servers), d)
            try:
                ngx.start([v["nginx"] for v in variants])
            except Exception as e:  # noqa: BLE001
                ngx, ngx_why = None, str(e).splitlines()[0][:200]
        else:
            ngx_why = "nginx is not installed"
        try:
            self.p2s_prime(variants, ngx)
            self.p2s_measure(variants, m, mir_log, ngx, ngx_why)
        finally:
            if ngx:
                ngx.stop()
            m.stop()

    def p2s_prime(self, variants, ngx):
        for v in variants:
            for path in ("/hot/f4k.bin", "/hot/f1m.bin"):
                for _ in range(50):
                    st, verdict, n = probe(v["ours"], path)
                    if st == 200 and verdict == "REVALIDATED":
                        break
                    time.sleep(0.1)
                if st != 200 or verdict != "REVALIDATED":
                    raise RuntimeError("P2s %s %s: %d %s, wanted "
                                       "REVALIDATED" % (v["name"], path, st,
                                                        verdict))
                st2, _, n2 = probe(v["proxy"], path)
                if st2 != 200 or n2 != n:
                    raise RuntimeError("P2s %s mod_proxy_http %s: %d, %d "
                                       "bytes" % (v["name"], path, st2, n2))
                if ngx:
                    for _ in range(3):
                        conn = http.client.HTTPConnection(
                            "127.0.0.1", v["nginx"], timeout=60)
                        conn.request("GET", path)
                        r = conn.getresponse()
                        body = r.read()
                        xc = r.getheader("X-Cache", "-")
                        conn.close()
                    if r.status != 200 or len(body) != n \
                            or xc != "REVALIDATED":
                        raise RuntimeError("P2s %s nginx %s: %d %s" % (
                            v["name"], path, r.status, xc))

    def p2s_measure(self, variants, m, mir_log, ngx, ngx_why):
        rounds = 1 if self.args.quick else P2S_ROUNDS
        cases = []
        for v in variants:
            for size, path in (("4 KiB", "/hot/f4k.bin"),
                               ("1 MiB", "/hot/f1m.bin")):
                runs = [("P2s %s %s REVALIDATED" % (v["name"], size),
                         v["ours"], path, "REVALIDATED", m, mir_log),
                        ("P2s %s %s mod_proxy_http" % (v["name"], size),
                         v["proxy"], path, None, m, mir_log)]
                if ngx:
                    runs.append(("P2s %s %s nginx" % (v["name"], size),
                                 v["nginx"], path, "REVALIDATED", ngx,
                                 ngx.access_log))
                cases.append((v, size, runs))
        got = {}    # run name -> [(req/s, master CPU µs per request)]
        for rnd in range(rounds):
            for v, size, runs in cases:
                order = runs if rnd % 2 == 0 else list(reversed(runs))
                for name, port, path, expect, srv, lg in order:
                    try:
                        r = self.load(name, port, path, expect, mirror=srv,
                                      upstream=self.tls_up, mir_log=lg,
                                      up_log=self.tls_up_log)
                        per = (1e6 * r["cpu"]["upstream"] / r["requests"]
                               if r["requests"] else float("nan"))
                        got.setdefault(name, []).append((r["rps"], per))
                    except Exception as e:  # noqa: BLE001
                        got.setdefault(name, []).append(e)
        for v, size, runs in cases:
            what = ("REVALIDATED requests/s over https, %s, %s (freshness "
                    "0, 304 upstream; the same CA file on every side) vs "
                    "mod_proxy_http + SSLProxyEngine (%d round%s)" % (
                        size, v["label"], rounds, "" if rounds == 1 else "s"))
            target = "≥ 1.00×; master CPU/request ≤ mod_proxy_http's"
            ours, base = got.get(runs[0][0], []), got.get(runs[1][0], [])
            errs = [x for x in ours + base if not isinstance(x, tuple)]
            if errs or not ours or not base:
                self.failed_row("P2s", what, target,
                                errs[0] if errs else "no runs")
                continue
            ratio = statistics.median(o[0] / b[0] for o, b in zip(ours, base)
                                      if b[0])
            cpu_o = statistics.median(o[1] for o in ours)
            cpu_b = statistics.median(b[1] for b in base)
            base_txt = "%s, master %.0f µs/req" % (
                fmt_rate(statistics.median(b[0] for b in base)), cpu_b)
            if len(runs) > 2:
                ng = got.get(runs[2][0], [])
                if ng and all(isinstance(x, tuple) for x in ng):
                    base_txt += ("; nginx proxy_cache_revalidate %s, master "
                                 "%.0f µs/req (ours %.2f× nginx)" % (
                                     fmt_rate(statistics.median(
                                         x[0] for x in ng)),
                                     statistics.median(x[1] for x in ng),
                                     statistics.median(
                                         o[0] / x[0] for o, x in zip(ours, ng)
                                         if x[0])))
                else:
                    base_txt += "; nginx: not measured"
            elif ngx_why:
                base_txt += "; nginx: %s" % ngx_why
            met = ratio >= 1.0 and cpu_o <= cpu_b
            self.row("P2s", what, "%s, master %.0f µs/req" % (
                fmt_rate(statistics.median(o[0] for o in ours)), cpu_o),
                base_txt, "%.2f×" % ratio, target,
                "yes" if met else "**no**")

    def p4s(self):
        """P4 over https: cold walks of /w10k (cache on tmpfs) from the h2
        vhost vs curl --parallel --parallel-max 4 of the same URLs over
        https (curl multiplexes them over h2 as well)."""
        sub = "w10k"
        stats = gentree.subtree_stats(self.tree, sub)
        base = "https://127.0.0.1:%d" % self.tls_up_ports["H2"]
        what = self.cold_walk_what(
            stats, " over https (master offers h2; one-cert CA), cache root "
            "on tmpfs (%s): wall time" % TMPFS, " over https", "tmpfs")
        kw = dict(base=base, cacert=self.tls_ca, up_log=self.tls_up_log)
        try:
            self.curl_baseline(sub, runs=1, **kw)   # warms the page cache
        except Exception as e:  # noqa: BLE001
            self.notes.append("https curl warm-up: %s" % e)
        rounds, nulls, masters = [], [], []
        for k in range(self.rounds):
            settle()
            null_t, _ = self.curl_baseline(sub, runs=1, **kw)
            settle()
            base_t, n_urls = self.curl_baseline(sub, runs=1, fs="tmpfs",
                                                upstream=self.tls_up, **kw)
            curl_cpu = self.curl_cpu
            w = self.walker("/" + sub, "tmpfs", up_url=base,
                            up_extra="ZddcUpstreamCAFile %s" % self.tls_ca)
            try:
                settle()
                cold = self.walk(w, sub, 1, "tmpfs", upstream=self.tls_up,
                                 up_log=self.tls_up_log, label=", https")
            finally:
                w.stop()
            rounds.append((cold, base_t, n_urls))
            nulls.append(cold["wall"] / null_t)
            masters.append((cold["cpu"]["upstream"] / max(1, cold["up"][
                "requests"]), (curl_cpu or 0) / max(1, n_urls)))
        ratios = sorted(c["wall"] / b for c, b, _ in rounds)
        ratio = ratios[len(ratios) // 2]
        cold, base_t, n_urls = sorted(
            rounds, key=lambda r: r[0]["wall"] / r[1])[len(rounds) // 2]
        all_ok = all(c["ok"] for c, _, _ in rounds)
        up = cold["up"]
        ours = ("%s, %d upstream requests (%d listings + %d files), %s; "
                "master CPU per request %.0f µs (median of rounds)" % (
                    fmt_s(cold["wall"]), up["requests"], up["listings"],
                    up["files"], fmt_bytes(up["bytes"]),
                    1e6 * statistics.median(m for m, _ in masters)))
        if len(rounds) > 1:
            ours += "; rounds: %s" % ", ".join(
                "%s/%s" % (fmt_s(c["wall"]), fmt_s(b)) for c, b, _ in rounds)
        if not all_ok:
            ours += "; walk failed: %s" % next(
                c["message"] for c, _, _ in rounds if not c["ok"])
        self.row("P4s", what, ours, "%s, %d requests, master CPU per "
                 "request %.0f µs (ours / curl to /dev/null: %.2f×)" % (
                     fmt_s(base_t), n_urls,
                     1e6 * statistics.median(c for _, c in masters),
                     statistics.median(nulls)),
                 "%.2f×" % ratio, "≤ 1.30×",
                 "yes" if ratio <= 1.3 and all_ok else "**no**")

    # --- everything -------------------------------------------------------------
    def run(self):
        made = gentree.ensure(self.tree)
        log("tree %s %s" % (self.tree, "generated" if made else
                            "reused (stamp matches)"))
        self.start_upstream()
        steps = []
        if any(self.want(p) for p in ("P1", "P2", "P3", "P7", "P8")):
            self.start_mirror()
            self.prime()
            if any(self.want(p) for p in ("P1", "P2", "P7")):
                steps.append(("P1/P2/P7", self.pairs))
            if self.want("P3"):
                steps.append(("P3", self.p3))
            if self.want("P8"):
                steps.append(("P8", self.p8))
        for name, fn in steps:
            self.step(name, fn)
        if self.mirror:
            self.mirror.stop()
        if self.want("P4") or self.want("P5"):
            self.step("P4/P5", self.p4_p5)
        if self.want("P6"):
            self.step("P6", self.p6)
        if self.want("P2s") or self.want("P4s"):
            self.step("P2s/P4s", self.tls_rows)
        self.upstream.stop()

    def step(self, name, fn):
        log("--- %s" % name)
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            for pid in name.split("/"):
                if self.want(pid) and not any(r["id"] == pid
                                              for r in self.rows):
                    self.failed_row(pid, name, "—", e)

    # --- report ---------------------------------------------------------------------
    def machine(self):
        return machine()

    def write(self):
        mc = self.machine()
        L = []
        L.append("# mod_zddc_mirror benchmarks")
        L.append("")
        L.append("Generated by `make bench` (`bench/run.py`%s). Every figure "
                 "sits next to its baseline measured in the same run on the "
                 "same machine; a missed target is reported here, never a "
                 "failed build." % (" --quick" if self.args.quick else ""))
        L.append("")
        L.append("| | |")
        L.append("|---|---|")
        L.append("| date | %s |" % self.started.strftime("%Y-%m-%d %H:%M UTC"))
        L.append("| nproc | %s |" % mc["nproc"])
        L.append("| kernel (uname -r) | %s |" % mc["kernel"])
        L.append("| CPU | %s |" % mc["cpu"])
        L.append("| httpd | %s, MPM event (every server); EnableSendfile %s "
                 "on the mirror server |" % (mc["httpd"], SENDFILE))
        shown = getattr(self.args, "module_shown", self.args.module)
        L.append("| module | `%s` (a copy taken at start), working tree at "
                 "git %s |" % (os.path.relpath(shown, REPO)
                               if shown.startswith(REPO + "/") else shown,
                               mc["rev"]))
        L.append("| load | wrk -t%d -c%d -d%ds after a %ds warm-up, "
                 "keep-alive; %d round%s, each running ours and the baseline "
                 "back to back (order alternating); req/s are medians, a "
                 "ratio is the median of the per-round ratios |" % (
                     WRK_THREADS, WRK_CONNS, self.seconds,
                     WRK_WARMUP_SECONDS, self.rounds,
                     "" if self.rounds == 1 else "s"))
        L.append("| run time | %.0f s |" % self.elapsed)
        L.append("| load average (1/5/15 min) | %s at start, %s at end "
                 "(other work on the machine shows here) |" % (
                     self.load_before, loadavg()))
        L.append("")
        L.append("## Results")
        L.append("")
        L.append("| id | what | ours | baseline | ratio | target | met? |")
        L.append("|---|---|---|---|---|---|---|")
        order = ["P1", "P2", "P2s", "P3", "P4", "P4s", "P5", "P6", "P7",
                 "P8"]
        for r in sorted(self.rows, key=lambda r: order.index(r["id"])
                        if r["id"] in order else 99):
            L.append("| %(id)s | %(what)s | %(ours)s | %(base)s | %(ratio)s "
                     "| %(target)s | %(met)s |" % r)
        L.append("")
        if self.walk_rows:
            L.append("## What a walk costs the master")
            L.append("")
            L.append("The seed (the Go master's mirror mode) fetches every "
                     "listing unconditionally and sends one conditional GET "
                     "per file on every walk; its figures are computed from "
                     "the tree. Ours are counted in the upstream's access "
                     "log (response body bytes, the triggering request "
                     "excluded).")
            L.append("")
            L.append("| walk of /w10k | seed requests | seed bytes | our "
                     "requests | our bytes |")
            L.append("|---|---|---|---|---|")
            for kind in ("cold", "warm"):
                if kind not in self.walk_rows:
                    continue
                st, up = self.walk_rows[kind]
                seed_req = st["dirs"] + st["files"]
                seed_bytes = st["listing_bytes"] + (
                    st["file_bytes"] if kind == "cold" else 0)
                L.append("| %s | %d (%d listings + %d files) | %s | %d (%d "
                         "listings + %d files) | %s |" % (
                             kind, seed_req, st["dirs"], st["files"],
                             fmt_bytes(seed_bytes), up["requests"],
                             up["listings"], up["files"],
                             fmt_bytes(up["bytes"])))
            L.append("")
        if self.floors:
            L.append("File-system floor under a cold walk, measured in this "
                     "run: publishing %d new 8 KiB files the way the cache "
                     "does (temp file, write, mtime, rename) from %d Python "
                     "threads, no network: %s. The curl baseline writes "
                     "nothing." % (
                         gentree.W10K_TOP * (gentree.W10K_SUB + 1)
                         * gentree.W10K_FILES, CURL_PARALLEL,
                         ", ".join("%s on %s" % (fmt_s(v), "/tmp (ext4)"
                                                 if k == "disk" else TMPFS)
                                   for k, v in sorted(self.floors.items()))))
            L.append("")
        L.append("## CPU: is the upstream the bottleneck?")
        L.append("")
        L.append("utime+stime of every process of each httpd over the "
                 "measured window (`/proc/<pid>/stat`); `upstream share` is "
                 "the upstream's part of the two; per request means per "
                 "client request (per upstream request for a walk). "
                 "Verdicts come from the mirror's access log "
                 "(`%{ZDDC_CACHE_STATUS}e`; nginx's `$upstream_cache_status` "
                 "for its P2s runs).")
        L.append("")
        L.append("| run | req/s | wall | mirror CPU | mirror CPU per "
                 "request | upstream CPU | upstream CPU per request | "
                 "upstream share | verdicts | errors |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for c in self.cpu_rows:
            n = c.get("n")
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (
                c["run"], "{:,.0f}".format(c["rps"]) if c["rps"] else "—",
                fmt_s(c["wall"]),
                "%.2f s" % c["mirror"] if c["mirror"] is not None else "—",
                "%.0f µs" % (1e6 * c["mirror"] / n) if n and c["mirror"]
                else "—",
                "%.2f s" % c["upstream"] if c["upstream"] is not None
                else "—",
                "%.0f µs" % (1e6 * c["upstream"] / n)
                if n and c["upstream"] else "—",
                share(c["upstream"], c["mirror"])
                if c["mirror"] is not None else "—",
                c["verdicts"] or "—", c["errors"] or "—"))
        L.append("")
        if self.notes or self.errors:
            L.append("## Notes from this run")
            L.append("")
            for n in self.notes + ["not measured: " + e for e in self.errors]:
                L.append("- " + n.replace("\n", " "))
            L.append("")
        L.append(REPRODUCE)
        with open(self.args.out, "w") as f:
            f.write("\n".join(L))
        log("wrote %s" % self.args.out)


REPRODUCE = """## How to reproduce

```sh
make bench          # deps and build, then bench/run.py: about 5 minutes
/usr/bin/python3 bench/run.py --quick --only P1,P2 --out /tmp/r.md   # a subset
/usr/bin/python3 bench/profile.py p2-4k --tool strace   # or perf, callgrind
```

`bench/run.py` needs `wrk` and `curl` (installed with apt-get when missing
and running as root) and the module at `build/mod_zddc_mirror.so`
(`--module` for another; a copy is loaded, so a rebuild during the run
cannot disturb it). Everything listens on 127.0.0.1 on ephemeral ports, in
temp directories removed afterwards. Per-request CPU (the CPU table) is
a second opinion when the machine is busy; requests/s ratios pair the two
sides of one round, so load that comes and goes between rounds cancels.

- **Upstream**: a plain httpd (event MPM, sendfile, unlimited keep-alive)
  serving the tree `bench/gentree.py` generates once into
  `/tmp/zddc-bench/tree` (`--workdir`): `hot/` (4 KiB, 1 MiB), `big/`
  (sparse 256 MiB and 64 MiB, 4 KiB), `w10k/` (10,000 files of 512 B to
  16 KiB in 500 directories), `w100k/` (100,000 files of 100 B in 1,000
  directories), with ZDDC-like names (spaces, parentheses). Every directory
  carries a pre-generated `.listing.json` (SPEC §2) and `.listing.html`,
  routed by `Accept` with mod_rewrite (`bench/conf/upstream.conf`), so
  listings and files answer `If-Modified-Since` natively.
- **Mirror server**: one httpd (`bench/conf/mirror*.conf`, httpd's default
  `EnableSendfile Off`, `ZDDC_BENCH_SENDFILE=On` to change) holding every
  vhost of P1, P2, P3, P7, P8 and their baselines: a Cache vhost with
  `ZddcCacheFreshness 1h`, a plain static vhost whose DocumentRoot is that
  vhost's cache root, a Cache vhost with freshness 0, a `mod_proxy_http`
  vhost, and a Mirror vhost of `/hot`.
- **P1, P2, P7**: `wrk` against each side in turn, the order alternating
  between rounds; each run's verdicts are checked in the mirror's access log.
- **P3**: `curl` timings (`time_starttransfer`, size / `time_total`); the
  cached copy is deleted before every MISS.
- **P4, P5**: a fresh single-child httpd with one Mirror vhost of `/w10k`
  (`ZddcMirrorMinInterval 1s`, parallelism 4), once with its cache root on
  the disk and once on tmpfs; a GET of one file triggers the walk, the time
  runs until the walk's `walk of /w10k finished` line reaches the error log;
  upstream requests are counted in the upstream's access log. The baseline
  is `curl --parallel --parallel-max 4 -K list` of the same 10,000 file
  URLs straight from the upstream, each stored as a file under a fresh
  directory on the same file system as the walk's cache root, the 500
  directories made just before curl starts, inside the timed window (a
  walk must store what it fetches; curl writes each file in place, the
  walk through a temp and a rename). The same curl to /dev/null runs in
  each round too and its ratio is reported beside the baseline. P5 walks
  each round's cache root again 1.5 s after its cold walk and takes the
  median of the per-round ratios warm / cold.
- **P6**: a fresh single-child httpd walks `/w100k` into tmpfs; `VmRSS` of
  the child sampled every 50 ms and `VmHWM` at the end, against `VmRSS`
  before the trigger.
- **P2s** (`--only P2s`): an https upstream (the same tree, mod_ssl with
  a CA and a certificate for 127.0.0.1 made with `openssl` at run time;
  one vhost pair offering `h2 http/1.1`, one `http/1.1` only) and a second
  mirror httpd with, per variant, a Cache vhost (freshness 0) and a
  `mod_proxy_http` + `SSLProxyEngine` vhost, each trusting either the
  one-certificate CA or Debian's `ca-certificates.crt` with that CA
  appended (the same file on both sides; `bench/conf/mirror-tls.conf`).
  nginx `proxy_cache_revalidate` (`bench/conf/nginx-tls*.conf`) runs beside
  them when installed, against upstream vhosts that send
  `X-Accel-Expires: @1` so its copy is always stale and revalidated. Each
  row reports the master's CPU per request of both sides; %d rounds.
- **P4s** (`--only P4s`): P4's cold walk on tmpfs with the walker's
  upstream the https h2 vhost, against `curl --parallel --parallel-max 4`
  of the same URLs over https, stored on tmpfs like P4's baseline (curl
  multiplexes them over h2 too). The master's CPU per request is
  reported for both sides (its utime+stime over the walk and over curl's
  stored run).
- **P8**: 32 `curl` processes started together against an uncached 64 MiB
  file; the upstream's access log must show one GET of it.
- Profiling a miss: `bench/profile.py CASE --tool perf|strace|callgrind`
  starts the same servers and reports where the mirror's time goes
  (`bench/PROFILE.md` has the findings of the last investigation).
""" % P2S_ROUNDS


def check_deps():
    missing = [t for t in ("wrk", "curl") if not shutil.which(t)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit("bench: missing %s; install with: sudo apt-get install -y %s"
                 % (", ".join(missing), " ".join(missing)))
    log("installing %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y",
                        "--no-install-recommends"] + missing, env=env)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, timeout=600)
        subprocess.run(["apt-get", "install", "-y",
                        "--no-install-recommends"] + missing, env=env,
                       check=True, timeout=600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", default=os.path.join(
        os.environ.get("ZDDC_BUILD") or os.path.join(REPO, "build"),
        "mod_zddc_mirror.so"))
    ap.add_argument("--workdir", default="/tmp/zddc-bench")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--only", default="",
                    help="comma-separated ids, e.g. P1,P4")
    ap.add_argument("--quick", action="store_true",
                    help="2 s wrk runs, one round (for trying things out)")
    args = ap.parse_args()
    args.module = os.path.abspath(args.module)
    args.only = set(x.strip().upper() for x in args.only.split(",")
                    if x.strip())
    if not os.path.exists(args.module):
        sys.exit("bench: module not built: %s (run make)" % args.module)
    check_deps()
    snapshot_module(args, "mod_zddc_mirror.so")
    return run_and_write(Bench(args), args.out)


if __name__ == "__main__":
    sys.exit(main())
