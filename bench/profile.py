#!/usr/bin/python3
# Profiles one benchmark case with the same servers bench/run.py starts:
# perf (cpu-clock samples, kernel and user, every process of the mirror
# httpd), strace -c (system calls per request, per MiB or per walked file)
# or callgrind (user-space instructions, the mirror in one process under
# valgrind). Reports go to stdout; raw data stays in the work directory.
"""Usage: bench/profile.py CASE [--tool perf|strace|callgrind]
                          [--side ours|base|both] [--seconds N]

CASE is one of
  p2-4k    REVALIDATED 4 KiB under wrk, then mod_proxy_http the same way
  p2-1m    the same with the 1 MiB file
  p1-4k    HIT 4 KiB, then httpd static serving
  p1-1m    the same with the 1 MiB file
  p3       a 256 MiB MISS, then the same through mod_proxy_http
  p7       HIT 4 KiB in the Mirror vhost, then in the Cache vhost
  p4       a cold walk of one 1,000-file directory of /w10k (perf: the
           whole /w10k)
  p5       a warm walk of /w10k (nothing changed), after an unprofiled
           cold one
perf samples every process of the mirror httpd while the load runs; with
callgrind the mirror runs as `apache2 -X` under valgrind (slow: small
loads) and the report lists the module's functions by inclusive cost.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (also puts t/lib on sys.path)
import gentree  # noqa: E402
import zddc_test  # noqa: E402
from zddc_test import Apache, HTTPD  # noqa: E402


class ValgrindApache(Apache):
    """The mirror as one process (-X) under callgrind."""

    out = None

    def start(self):
        """-X logs no "resuming normal operations": wait for the port."""
        logs = open(os.path.join(self.root, "logs", "stderr.log"), "ab")
        self.proc = subprocess.Popen(self._cmd("-DFOREGROUND"),
                                     env=self._env(), stdout=logs,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        logs.close()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("valgrind httpd exited: %s" %
                                   self.stderr_log()[-2000:])
            if zddc_test._port_open(self.port):
                time.sleep(1.0)     # post_config of the second pass
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("valgrind httpd did not listen within 180 s")

    def _cmd(self, *extra):
        if "-t" in extra:
            return super()._cmd(*extra)
        self.out = os.path.join(self.root, "logs", "callgrind.out")
        # valgrind opens it as root at start and writes it as User at exit.
        with open(self.out, "w"):
            pass
        os.chmod(self.out, 0o666)
        if os.geteuid() == 0:
            import pwd
            os.chown(self.out, pwd.getpwnam("nobody").pw_uid, -1)
        return ["valgrind", "--tool=callgrind", "--callgrind-out-file=" +
                self.out, "--separate-threads=no", HTTPD, "-X", "-d",
                self.root, "-f", self.conf_path] + list(extra)


def perf_record(pids, seconds, out):
    return subprocess.Popen(
        ["perf", "record", "-q", "-e", "cpu-clock", "-g", "-o", out, "-p",
         ",".join(str(p) for p in pids), "--", "sleep", str(seconds)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_report(data, limit=45):
    r = subprocess.run(["perf", "report", "-i", data, "--stdio",
                        "--no-children", "--sort", "dso,symbol", "-g",
                        "none", "--percent-limit", "0.7"],
                       capture_output=True, text=True, timeout=300)
    lines = [ln for ln in r.stdout.splitlines()
             if ln.strip() and not ln.startswith("#")]
    return "\n".join(lines[:limit])


def strace_per_request(text, requests):
    """strace -c table with a calls-per-request column."""
    out = []
    for ln in text.splitlines():
        f = ln.split()
        if len(f) >= 5 and f[0][0].isdigit() and requests:
            calls = int(f[3])
            out.append("%-18s %8d calls %9.2f/unit  %s s" % (
                f[-1], calls, calls / requests, f[1]))
    return "\n".join(out[:25])


def callgrind_report(out, limit=60):
    r = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                       capture_output=True, text=True, timeout=300)
    text = r.stdout
    keep = []
    for ln in text.splitlines():
        if re.search(r"zddc|curl_easy|Curl_|ap_|apr_|default_handler|"
                     r"PROGRAM TOTALS|proxy|__libc|write|stat|open|rename",
                     ln):
            keep.append(ln)
    return "\n".join(keep[:limit])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=("p1-4k", "p1-1m", "p2-4k", "p2-1m", "p3",
                                       "p4", "p5", "p7"))
    ap.add_argument("--tool", choices=("perf", "callgrind", "strace"),
                    default="perf")
    ap.add_argument("--side", choices=("ours", "base", "both"),
                    default=None, help="callgrind: ours (default) or base")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--fs", choices=("disk", "tmpfs"), default="disk",
                    help="p4, p5: where the walker's cache root lives")
    ap.add_argument("--module", default=os.path.join(
        os.environ.get("ZDDC_BUILD") or os.path.join(run.REPO, "build"),
        "mod_zddc_mirror.so"))
    ap.add_argument("--workdir", default="/tmp/zddc-bench")
    a = ap.parse_args()
    a.module = os.path.abspath(a.module)
    args = argparse.Namespace(module=a.module, workdir=a.workdir, out=None,
                              only=set(), quick=True)
    b = run.Bench(args)
    gentree.ensure(b.tree)
    b.start_upstream()
    cg = a.tool == "callgrind"
    if cg:
        run.Apache = ValgrindApache   # start_mirror/walker build through it
    reports = []

    def label(x):
        return "%s-%s-%s" % (a.case, a.tool, x)

    def load_wrk(name, port, path):
        url = "http://127.0.0.1:%d%s" % (port, path)
        if cg:
            # Under valgrind: a short, light load; instructions are what count.
            res = run.wrk(url, a.seconds, conns=2, threads=1)
            reports.append("=== %s under callgrind: %d requests" % (
                name, res["requests"]))
            return res
        if a.tool == "strace":
            run.wrk(url, 1)
            out = os.path.join(a.workdir, label(name) + ".strace")
            st = subprocess.Popen(
                ["strace", "-f", "-c", "-o", out] +
                sum((["-p", str(x)] for x in b.mirror.pids()), []),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            res = run.wrk(url, a.seconds, conns=4, threads=1)
            st.send_signal(2)
            st.wait(60)
            with open(out) as f:
                text = f.read()
            reports.append("=== %s under strace: %d requests\n%s" % (
                name, res["requests"], strace_per_request(
                    text, res["requests"])))
            return res
        run.wrk(url, 1)
        data = os.path.join(a.workdir, label(name) + ".perf.data")
        rec = perf_record(b.mirror.pids(), a.seconds, data)
        time.sleep(0.2)
        res = run.wrk(url, a.seconds)
        rec.wait(60)
        reports.append("=== %s: %.0f req/s\n%s" % (name, res["rps"],
                                                   perf_report(data)))
        return res

    if a.case not in ("p4", "p5"):
        b.start_mirror()
        b.prime()
        P = b.ports
        if a.case[:2] in ("p1", "p2", "p7"):
            path = "/hot/f1m.bin" if a.case.endswith("1m") else "/hot/f4k.bin"
            pair = {"p1": (("HIT", P["HIT"]), ("static", P["STATIC"])),
                    "p2": (("REVALIDATED", P["REVAL"]), ("proxy", P["PROXY"])),
                    "p7": (("Mirror-HIT", P["MIRROR"]),
                           ("Cache-HIT", P["HIT"]))}[a.case[:2]]
            # Under callgrind one process serves both sides: one side a run.
            side = a.side or ("ours" if cg else "both")
            sel = {"ours": pair[:1], "base": pair[1:], "both": pair}[side]
            for name, port in sel:
                load_wrk(name, port, path)
        else:
            big = "/big/f256m.bin"
            cache = os.path.join(b.mirror.root, "cache-reval")
            sides = (("MISS", P["REVAL"]), ("proxy", P["PROXY"]))
            for name, port in (sides[:1] if cg else sides):
                run.remove(cache + big)
                url = "http://127.0.0.1:%d%s" % (port, big)
                if cg:
                    r = run.curl_get(url)
                    reports.append("%s: %.0f MB/s" % (
                        name, r["size"] / r["total"] / 1e6))
                    continue
                if a.tool == "strace":
                    out = os.path.join(a.workdir, label(name) + ".strace")
                    st = subprocess.Popen(
                        ["strace", "-f", "-c", "-o", out] +
                        sum((["-p", str(x)] for x in b.mirror.pids()), []),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1.0)
                    r = run.curl_get(url)
                    st.send_signal(2)
                    st.wait(60)
                    with open(out) as f:
                        text = f.read()
                    reports.append("=== %s under strace: one 256 MiB GET, "
                                   "calls per MiB\n%s" % (
                                       name, strace_per_request(text, 256)))
                    continue
                data = os.path.join(a.workdir, label(name) + ".perf.data")
                rec = perf_record(b.mirror.pids(), 4, data)
                time.sleep(0.2)
                mbs = []
                t0 = time.monotonic()
                while time.monotonic() - t0 < 3.5:
                    run.remove(cache + big)
                    r = run.curl_get(url)
                    mbs.append(r["size"] / r["total"] / 1e6)
                rec.wait(60)
                reports.append("=== %s: %s MB/s\n%s" % (
                    name, " ".join("%.0f" % x for x in mbs),
                    perf_report(data)))
        b.mirror.stop()
    else:
        sub = "w10k"
        if cg:
            first = sorted(n for n in os.listdir(os.path.join(b.tree, sub))
                           if not n.startswith("."))[0]
            sub = sub + "/" + first
            w = b.walker('"/%s"' % sub, a.fs)
        else:
            w = b.walker("/" + sub, a.fs)
        urls = gentree.file_urls(b.tree, sub)
        nth = 1
        if a.case == "p5":
            run.probe(w.port, urls[0])
            if not b.wait_walk(w, "/" + sub, 1, 900):
                sys.exit("the cold walk before the warm one did not finish")
            time.sleep(1.5)     # walker.conf's ZddcMirrorMinInterval is 1s
            nth = 2
        t0 = time.monotonic()
        rec = None
        if a.tool == "perf":
            data = os.path.join(a.workdir, label("walk") + ".perf.data")
            rec = subprocess.Popen(
                ["perf", "record", "-q", "-e", "cpu-clock", "-g", "-o",
                 data, "-p", ",".join(str(x) for x in w.pids()), "--",
                 "sleep", "60"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        st = None
        if a.tool == "strace":
            out = os.path.join(a.workdir, label("walk") + ".strace")
            st = subprocess.Popen(
                ["strace", "-f", "-c", "-o", out] +
                sum((["-p", str(x)] for x in w.child_pids()), []),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            t0 = time.monotonic()
        run.probe(w.port, urls[0])
        m = b.wait_walk(w, "/" + sub, nth, 900)
        wall = time.monotonic() - t0
        if st:
            st.send_signal(2)
            st.wait(60)
            with open(out) as f:
                reports.append("=== strace of the walking child, calls per "
                               "file\n" + strace_per_request(f.read(),
                                                             len(urls)))
        if rec:
            rec.send_signal(2)
            rec.wait(60)
            r = subprocess.run(
                ["perf", "report", "-i", data, "--stdio", "--children",
                 "--sort", "symbol", "-g", "none", "--percent-limit", "2"],
                capture_output=True, text=True, timeout=300)
            reports.append("\n".join(
                ln for ln in r.stdout.splitlines()
                if ln.strip() and not ln.startswith("#"))[:8000])
        reports.insert(0, "walk of /%s: %.2f s wall, log: %s" % (sub, wall, m))
        w.stop()
    b.upstream.stop()
    for srv in list(zddc_test._cleanup["apaches"]):
        out = getattr(srv, "out", None)
        if out and os.path.exists(out):
            dst = os.path.join(a.workdir, label(os.path.basename(srv.root)) +
                               ".callgrind.out")
            os.rename(out, dst)
            reports.append("=== callgrind (%s)\n%s" % (dst,
                                                       callgrind_report(dst)))
    print("\n\n".join(reports))


if __name__ == "__main__":
    main()
