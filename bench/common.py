#!/usr/bin/python3
# What bench/run.py (loopback rows) and bench/wan.py (WAN rows) share: the
# servers' settings, log cursors, CPU meters, wrk and curl runs, the report's
# machine facts, and the module snapshot a run loads.

import http.client
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "t", "lib"))
sys.path.insert(0, HERE)

from zddc_test import Apache, HTTPD  # noqa: E402

CONF = os.path.join(HERE, "conf")
CLK_TCK = os.sysconf("SC_CLK_TCK")
TMPFS = "/dev/shm"     # caches and copies measured without a disk

# wrk: fixed load shape for every requests/s figure.
WRK_THREADS = 2
WRK_CONNS = 16
WRK_WARMUP_SECONDS = 1

# Server tuning shared by the servers: enough threads that neither wrk's
# 16 connections nor P8's 32 clients wait for a worker, and no child churn
# that would lose CPU accounting mid-run.
MPM_MULTI = ("StartServers 2\nServerLimit 4\nThreadLimit 64\n"
             "ThreadsPerChild 64\nMinSpareThreads 64\nMaxSpareThreads 256\n"
             "MaxRequestWorkers 256\n")
MPM_SINGLE = ("StartServers 1\nServerLimit 1\nThreadLimit 32\n"
              "ThreadsPerChild 32\nMinSpareThreads 1\nMaxSpareThreads 32\n"
              "MaxRequestWorkers 32\n")
UPSTREAM_SERVER = "EnableSendfile On\nMaxKeepAliveRequests 0\n" + MPM_MULTI

WALK_RE = (r"walk of %s (finished in|failed after) (\S+?)(?:: (.*?))?: "
           r"dirs=(\d+) files=(\d+) fetched=(\d+) skipped=(\d+) purged=(\d+) "
           r"errors=(\d+) bytes=(\d+)")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def template(name, **subst):
    with open(os.path.join(CONF, name)) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace("@%s@" % k, str(v))
    return text


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------
class PlainApache(Apache):
    """The harness's httpd without mod_zddc_mirror: the benchmark upstream."""

    def write_conf(self, vhost, server_conf=""):
        super().write_conf(vhost, server_conf)
        with open(self.conf_path) as f:
            lines = f.read().split("\n")
        lines = [ln for ln in lines
                 if not ln.startswith("LoadModule zddc_mirror_module")]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines))


class LogCursor:
    """Reads what a log gained since the cursor was set."""

    def __init__(self, path):
        self.path = path
        self.mark()

    def mark(self):
        try:
            self.offset = os.path.getsize(self.path)
        except OSError:
            self.offset = 0

    def new_text(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


ACCESS_RE = re.compile(r'"(\S+) (\S+) HTTP/[\d.]+" (\d{3}) (\S+)(?: (\S+))?')


def access_entries(text):
    """[(method, target, status, bytes, verdict)] of access log lines."""
    out = []
    for ln in text.splitlines():
        m = ACCESS_RE.search(ln)
        if m:
            b = m.group(4)
            out.append((m.group(1), m.group(2), int(m.group(3)),
                        int(b) if b.isdigit() else 0, m.group(5) or "-"))
    return out


def upstream_summary(entries):
    listings = [e for e in entries if e[1].endswith("/")]
    files = [e for e in entries if not e[1].endswith("/")]
    by_status = {}
    for e in entries:
        by_status[e[2]] = by_status.get(e[2], 0) + 1
    return {"requests": len(entries), "listings": len(listings),
            "files": len(files), "bytes": sum(e[3] for e in entries),
            "status": by_status}


def proc_ticks(pids):
    out = {}
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return out


class CpuMeter:
    """utime+stime of every process of some httpds over a window."""

    def __init__(self, **servers):
        self.servers = servers

    def __enter__(self):
        self.before = {k: proc_ticks(s.pids())
                       for k, s in self.servers.items()}
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        self.cpu = {}
        for k, s in self.servers.items():
            after = proc_ticks(s.pids())
            b = self.before[k]
            self.cpu[k] = sum(v - b.get(pid, 0)
                              for pid, v in after.items()) / CLK_TCK
        return False


def probe(port, path, headers=None, method="GET"):
    """(status, X-Zddc-Cache, body length) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, r.getheader("X-Zddc-Cache", "-"), len(body)
    finally:
        conn.close()


LAT_RE = re.compile(r"Latency\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+"
                    r"([\d.]+)(us|ms|s)")
PCT_RE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", re.M)
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def wrk(url, seconds, conns=WRK_CONNS, threads=WRK_THREADS, latency=False):
    """One wrk run: req/s, requests, non-2xx, socket errors; with latency,
    also avg, p50, p99 and max (seconds)."""
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
           "--timeout", "10s"] + (["--latency"] if latency else []) + [url]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError("wrk failed (%d): %s" % (r.returncode,
                                                    r.stderr or r.stdout))
    out = r.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("wrk output without Requests/sec:\n" + out)
    res = {"rps": float(m.group(1)), "raw": out}
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = m.group(1) if m else ""
    m = LAT_RE.search(out)
    if m:
        res["avg"] = float(m.group(1)) * UNIT[m.group(2)]
        res["max"] = float(m.group(5)) * UNIT[m.group(6)]
    for p, v, u in PCT_RE.findall(out):
        res["p" + p] = float(v) * UNIT[u]
    return res


def curl_get(url, out="/dev/null"):
    """One GET with curl: status, size, TTFB (s), total (s), verdict."""
    fmt = ("%{http_code} %{size_download} %{time_starttransfer} "
           "%{time_total} %header{x-zddc-cache}")
    r = subprocess.run(["curl", "-s", "-o", out, "-w", fmt, url],
                       capture_output=True, text=True, timeout=300)
    parts = r.stdout.split()
    if r.returncode != 0 or len(parts) < 4:
        raise RuntimeError("curl %s failed (%d): %s %s" % (
            url, r.returncode, r.stdout, r.stderr))
    return {"status": int(parts[0]), "size": int(parts[1]),
            "ttfb": float(parts[2]), "total": float(parts[3]),
            "verdict": parts[4] if len(parts) > 4 else "-"}


def fmt_rate(x):
    return "{:,.0f} req/s".format(x)


def fmt_s(x):
    return "%.2f s" % x if x >= 1 else "%.0f ms" % (x * 1000)


def machine():
    """The facts a report starts with."""
    v = subprocess.run([HTTPD, "-v"], capture_output=True, text=True)
    ver = v.stdout.splitlines()[0].split(":", 1)[1].strip() \
        if v.stdout else "?"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", REPO, "describe", "--always",
                          "--dirty"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "kernel": platform.release(),
            "httpd": ver, "cpu": cpu,
            "rev": rev.stdout.strip() or "?"}


def snapshot_module(args, name):
    """Load a copy of the module: a rebuild of build/ during the run cannot
    touch it. args.module becomes the copy, args.module_shown the original."""
    os.makedirs(args.workdir, mode=0o755, exist_ok=True)
    os.chmod(args.workdir, 0o755)
    args.module_shown = args.module
    snap = os.path.join(args.workdir, name)
    shutil.copyfile(args.module, snap + ".new")
    os.chmod(snap + ".new", 0o755)
    os.rename(snap + ".new", snap)
    args.module = snap


def run_and_write(b, out):
    """b.run(), then b.write() whatever was measured; the exit status."""
    try:
        b.run()
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        b.errors.append("the run stopped: %s" % e)
    b.elapsed = time.monotonic() - b.t0
    if not b.rows:
        log("nothing measured; %s left as it was" % out)
        return 1
    b.write()
    if b.errors:
        log("some rows could not be measured: %s" % "; ".join(b.errors))
        return 2
    return 0
