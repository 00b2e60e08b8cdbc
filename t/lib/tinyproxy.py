#!/usr/bin/python3
# A real outbound proxy for the tests: Debian's tinyproxy, started in the
# foreground on 127.0.0.1 with a config file in a temp dir.
"""TinyProxy(tempdir, auth=("user", "password") or None).start(); .url;
.log() (its request log); .stop(). Skips are the caller's business:
check TinyProxy.available() first."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time

BINARY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"


class TinyProxy:
    def __init__(self, directory, auth=None, port=None):
        self.dir = directory
        os.chmod(self.dir, 0o777)   # it logs as User nobody when root
        self.auth = auth
        self.port = port or _free_port()
        self.proc = None
        self.conf = os.path.join(self.dir, "tinyproxy.conf")
        self.logfile = os.path.join(self.dir, "tinyproxy.log")

    @staticmethod
    def available():
        return os.access(BINARY, os.X_OK)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        lines = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 30",
                 "LogFile \"%s\"" % self.logfile, "LogLevel Info",
                 "MaxClients 64", "Allow 127.0.0.1", "DisableViaHeader Yes"]
        if os.geteuid() == 0:
            lines += ["User nobody", "Group nogroup"]
        if self.auth:
            lines.append("BasicAuth %s %s" % self.auth)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([BINARY, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        atexit.register(self.stop)      # a failing test leaves no proxy
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tinyproxy exited at start:\n" + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("tinyproxy did not listen:\n" + self.log())

    def stop(self):
        p, self.proc = self.proc, None
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def _free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()
