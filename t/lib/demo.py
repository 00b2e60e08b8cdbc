#!/usr/bin/python3
# `make demo`: a fake ZDDC master with a realistic tree, a regional Apache
# mirror of it and a site mirror of the regional one (SPEC §10), all on
# 127.0.0.1; prints the URLs and follows both error logs until Ctrl-C.
import argparse
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zddc_test import Apache, free_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BEARER = "demo-token"
PROJECT = "Project 123456"
TRN1 = "2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
TRN2 = "2025-11-14_123456-ME-TRN-0002 (IFC) - Transmittal"
FILES = [
    (PROJECT + "/" + TRN1 + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf",
     "Pump Specification, rev A"),
    (PROJECT + "/" + TRN1 + "/123456-ME-DWG-0101_B (IFC) - Pump Skid GA.pdf",
     "Pump Skid General Arrangement, rev B"),
    (PROJECT + "/" + TRN1 + "/123456-EL-TRN-0001 - Transmittal Sheet.txt",
     None),
    (PROJECT + "/" + TRN2 + "/123456-ME-CAL-0007_0 (IFI) - Pump Sizing #2"
     " (100% load).pdf", "Pump Sizing Calculation #2 at 100% load"),
    (PROJECT + "/" + TRN2 + "/123456-EL-LST-0003_A (IFR) - Kabelliste"
     " Übersicht – Pumpenhaus.pdf", "Kabelliste Übersicht – Pumpenhaus"),
    (PROJECT + "/README.txt", None),
]
SITE_BEARER = "demo-site-token"
VHOST = """\
ServerName {name}
ZddcMode {mode}
ZddcUpstream http://127.0.0.1:{uport}
ZddcUpstreamBearer {bearer}
ZddcCacheRoot {cache}
ZddcMirrorMinInterval 1m
LogLevel info
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""
# The regional tier admits the site by the bearer the site sends upstream.
REGIONAL_GUARD = """\
<Location />
    Require expr "%%{HTTP:Authorization} == 'Bearer %s'"
</Location>
<Location /zddc-status>
    Require ip 127.0.0.1
</Location>
""" % SITE_BEARER


def vhost(name, mode, uport, bearer, extra=""):
    return (VHOST.replace("{name}", name).replace("{mode}", mode)
            .replace("{uport}", str(uport)).replace("{bearer}", bearer)
            + extra)


def fake_pdf(title, size=4096):
    """A small, plausible PDF-looking document of about `size` bytes."""
    head = ("%%PDF-1.4\n%% ZDDC demo document\n1 0 obj << /Title (%s) >> endobj\n"
            "2 0 obj << /Length %d >> stream\n" % (title, size))
    line = "BT /F1 10 Tf 72 720 Td (%s - demo content) Tj ET\n" % title
    body = (line * (size // len(line) + 1))[:size]
    return (head + body + "endstream endobj\n%%EOF\n").encode("utf-8")


def text_doc(path):
    return ("ZDDC demo tree\n\nDocument: %s\nProject: 123456\n"
            "Status codes: IFR = issued for review, IFC = issued for "
            "construction, IFI = issued for information.\n" % path
            ).encode("utf-8") * 20


def build_tree(docroot):
    for rel, title in FILES:
        fs = os.path.join(docroot, rel)
        os.makedirs(os.path.dirname(fs), exist_ok=True)
        with open(fs, "wb") as f:
            f.write(fake_pdf(title) if title else text_doc(rel))
    for dirpath, dirs, files in os.walk(docroot):
        os.chmod(dirpath, 0o755)
        for n in files:
            os.chmod(os.path.join(dirpath, n), 0o644)


def start_master(docroot, timeout=15):
    cmd = [sys.executable, os.path.join(HERE, "fake_master.py"), "--port",
           str(free_port()), "--docroot", docroot, "--bearer", BEARER]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if "listening on" not in line:
        proc.terminate()
        raise RuntimeError("fake master did not start: %r" % line)
    port = int(line.split("127.0.0.1:")[1].split("/")[0])
    return proc, port


def follow(logs, stop, duration):
    """Print what is appended to each (label, path) until stop is set (or
    duration ends), each line behind its label."""
    end = time.monotonic() + duration if duration > 0 else None
    pos = dict((path, 0) for _, path in logs)
    last = False
    while not last:
        # One more pass after the stop, so nothing logged is left unshown.
        last = stop.is_set() or (end is not None and time.monotonic() >= end)
        for label, path in logs:
            try:
                with open(path, errors="replace") as f:
                    f.seek(pos[path])
                    chunk = f.read()
                    pos[path] = f.tell()
            except OSError:
                chunk = ""
            for line in chunk.splitlines():
                sys.stdout.write("%-8s %s\n" % (label, line))
        sys.stdout.flush()
        if not last:
            stop.wait(0.5)


def main():
    ap = argparse.ArgumentParser(description="run a demo ZDDC mirror")
    ap.add_argument("--module", required=True, help="mod_zddc_mirror.so")
    ap.add_argument("--mode", default="Mirror", choices=["Mirror", "Cache"])
    ap.add_argument("--port", type=int, default=0,
                    help="Apache port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--duration", type=float, default=0,
                    help="stop after this many seconds (default: Ctrl-C)")
    args = ap.parse_args()

    docroot = tempfile.mkdtemp(prefix="zddc-demo-master-", dir="/tmp")
    os.chmod(docroot, 0o755)
    build_tree(docroot)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())

    mproc, mport = start_master(docroot)
    servers = []
    try:
        module = os.path.abspath(args.module)
        regional = Apache(vhost("regional.demo", args.mode, mport, BEARER,
                                REGIONAL_GUARD), module_path=module)
        regional.start()
        servers.append(regional)
        site = Apache(vhost("site.demo", args.mode, regional.port,
                            SITE_BEARER), module_path=module,
                      port=args.port or None)
        site.start()
        servers.append(site)
        spec = "/" + FILES[0][0]
        print("\nZDDC demo (%s mode): master -> regional mirror -> site "
              "mirror.\n" % args.mode)
        print("  master          : http://127.0.0.1:%d/  (bearer %s)"
              % (mport, BEARER))
        print("  regional mirror : %s  (admits bearer %s only)"
              % (regional.url("/"), SITE_BEARER))
        print("  site mirror     : %s" % site.url("/"))
        print("  a file          : %s" % site.url(spec))
        print("  status pages    : %s  %s" % (site.url("/zddc-status"),
                                              regional.url("/zddc-status")))
        print("  JSON listing    : curl -H 'Accept: application/json' %s"
              % site.url("/" + PROJECT + "/"))
        print("  cache roots     : %s  %s" % (site.cache, regional.cache))
        print("\nFollowing both error logs; Ctrl-C to stop.\n", flush=True)
        follow([("site", os.path.join(site.root, "logs", "error.log")),
                ("regional", os.path.join(regional.root, "logs",
                                          "error.log"))],
               stop, args.duration)
    finally:
        for a in reversed(servers):
            a.stop()
        mproc.terminate()
        try:
            mproc.wait(5)
        except subprocess.TimeoutExpired:
            mproc.kill()
        import shutil
        shutil.rmtree(docroot, ignore_errors=True)
        print("\ndemo stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
