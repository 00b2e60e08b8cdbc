#!/usr/bin/python3
# A hostile upstream for the tests (plain http, raw sockets): each path
# prefix misbehaves in one way a broken or malicious master could.
"""HostileMaster: a raw-socket HTTP/1.1 server on 127.0.0.1.

    h = HostileMaster(); h.start()
    h.url("/ok/x.pdf")       # 200, body b"OK:/ok/x.pdf", keep-alive
    /desync/...  200 "GOOD", then a second complete answer "EVIL" nobody
                 asked for; nothing more is answered on that connection
    /flood/...   endless "100 Continue" interim responses
    /trailers/.. a chunked 200 with an empty body and endless trailers
    /conflict/.. two different Content-Length headers
    /folded/...  "Transfer-Encoding:" folded onto a continuation line
    /coding/...  "Transfer-Encoding: gzip, chunked" (never asked for)
    /drip/...    a status line, then one header byte every 0.2 s forever
    h.stop()
"""

import socket
import threading
import time

LM = "Sun, 06 Nov 1994 08:49:37 GMT"
DRIP_EVERY = 0.2
LIFETIME = 60.0          # no connection is served longer than this


class HostileMaster:
    def __init__(self):
        self.sock = None
        self.port = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.requests = []          # (path, connection number)
        self.connections = 0
        self.desync_sent = 0        # unasked-for answers sent so far
        self._conns = []

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self._stop.set()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.sock:
            self.sock.close()

    def count(self, prefix):
        with self._lock:
            return sum(1 for p, _ in self.requests if p.startswith(prefix))

    def _accept(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                n = self.connections
                self._conns.append(c)
            threading.Thread(target=self._serve, args=(c, n),
                             daemon=True).start()

    def _serve(self, c, n):
        deadline = time.monotonic() + LIFETIME
        buf = b""
        c.settimeout(1.0)
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                while b"\r\n\r\n" not in buf:
                    try:
                        d = c.recv(65536)
                    except socket.timeout:
                        if self._stop.is_set() or time.monotonic() > deadline:
                            return
                        continue
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                path = head.split(b" ")[1].decode("latin-1")
                with self._lock:
                    self.requests.append((path, n))
                if not self._answer(c, path, deadline):
                    return
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    @staticmethod
    def _head(status, *lines):
        return ("HTTP/1.1 %s\r\n%s\r\n" % (status, "".join(
            l + "\r\n" for l in lines))).encode()

    def _answer(self, c, path, deadline):
        """Send the answer; False ends the connection."""
        if path.startswith("/desync/"):
            c.sendall(self._head("200 OK", "Content-Length: 4",
                                 "Last-Modified: " + LM) + b"GOOD")
            time.sleep(0.05)
            c.sendall(self._head("200 OK", "Content-Length: 4",
                                 "Last-Modified: " + LM) + b"EVIL")
            with self._lock:
                self.desync_sent += 1
            # keep the connection open, answering nothing more on it
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    if not c.recv(65536):
                        return False
                except socket.timeout:
                    pass
            return False
        if path.startswith("/flood/"):
            interim = b"HTTP/1.1 100 Continue\r\n\r\n" * 64
            while not self._stop.is_set() and time.monotonic() < deadline:
                c.sendall(interim)
            return False
        if path.startswith("/trailers/"):
            c.sendall(self._head("200 OK", "Transfer-Encoding: chunked",
                                 "Last-Modified: " + LM) + b"0\r\n")
            line = b"X-Trailer: " + b"t" * 1000 + b"\r\n"
            while not self._stop.is_set() and time.monotonic() < deadline:
                c.sendall(line * 16)
            return False
        if path.startswith("/conflict/"):
            c.sendall(self._head("200 OK", "Content-Length: 5",
                                 "Content-Length: 12",
                                 "Last-Modified: " + LM) + b"hello, world")
            return False
        if path.startswith("/folded/"):
            c.sendall(self._head("200 OK", "Transfer-Encoding:", " chunked",
                                 "Last-Modified: " + LM)
                      + b"5\r\nhello\r\n0\r\n\r\n")
            return False
        if path.startswith("/coding/"):
            c.sendall(self._head("200 OK", "Transfer-Encoding: gzip, chunked",
                                 "Last-Modified: " + LM)
                      + b"5\r\nhello\r\n0\r\n\r\n")
            return False
        if path.startswith("/drip/"):
            c.sendall(b"HTTP/1.1 200 OK\r\n")
            while not self._stop.is_set() and time.monotonic() < deadline:
                c.sendall(b"X")
                time.sleep(DRIP_EVERY)
            return False
        body = ("OK:" + path).encode()
        c.sendall(self._head("200 OK", "Content-Length: %d" % len(body),
                             "Last-Modified: " + LM) + body)
        return True
