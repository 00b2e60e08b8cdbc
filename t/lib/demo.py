#!/usr/bin/python3
# `make demo`: a fake ZDDC master with a realistic tree plus an Apache mirror
# of it on 127.0.0.1; prints the URLs and follows the error log until Ctrl-C.
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
VHOST = """\
ZddcMode {mode}
ZddcUpstream http://127.0.0.1:{mport}
ZddcUpstreamBearer %s
ZddcCacheRoot {cache}
ZddcMirrorMinInterval 1m
LogLevel info
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""" % BEARER


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


def follow(path, stop, duration):
    """Print what is appended to path until stop is set (or duration ends)."""
    end = time.monotonic() + duration if duration > 0 else None
    pos = 0
    while not stop.is_set() and (end is None or time.monotonic() < end):
        try:
            with open(path, errors="replace") as f:
                f.seek(pos)
                chunk = f.read()
                pos = f.tell()
        except OSError:
            chunk = ""
        if chunk:
            sys.stdout.write(chunk)
            sys.stdout.flush()
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
    apache = None
    try:
        vhost = VHOST.replace("{mode}", args.mode).replace("{mport}",
                                                           str(mport))
        apache = Apache(vhost, module_path=os.path.abspath(args.module),
                        port=args.port or None)
        apache.start()
        spec = "/" + FILES[0][0]
        print("\nZDDC demo mirror (%s mode) is running.\n" % args.mode)
        print("  fake master : http://127.0.0.1:%d/  (bearer %s)"
              % (mport, BEARER))
        print("  mirror root : %s" % apache.url("/"))
        print("  a file      : %s" % apache.url(spec))
        print("  status page : %s" % apache.url("/zddc-status"))
        print("  JSON listing: curl -H 'Accept: application/json' %s"
              % apache.url("/" + PROJECT + "/"))
        print("  cache root  : %s\n  error log   : %s/logs/error.log"
              % (apache.cache, apache.root))
        print("\nFollowing the error log; Ctrl-C to stop.\n", flush=True)
        follow(os.path.join(apache.root, "logs", "error.log"), stop,
               args.duration)
    finally:
        if apache:
            apache.stop()
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
