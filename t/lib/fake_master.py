#!/usr/bin/python3
# Fake ZDDC master for the test suite (SPEC §2): serves a docroot with bearer
# ACLs, JSON/HTML listings, conditional GETs, fault switches and a request log.
"""FakeMaster: an in-process HTTP/1.1 ZDDC master on 127.0.0.1.

Usage in a test:
    m = FakeMaster(acl={"tok": ["/"]}); m.start()
    m.put_file("/Project A/x.pdf", b"...", mtime=1700000000)
    m.set_fault("5xx", "/Project A/")   # or m.faults["/x"] = "slow"
    m.count("GET", prefix="/Project A/")
    m.stop(); m.start()                 # down, then up on the same port
"""

import argparse
import datetime
import email.utils
import hashlib
import html
import json
import mimetypes
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("5xx", "slow", "drip", "truncate", "badjson", "endless",
          "401", "403", "404", "405", "410", "302")
DRIP_HEAD = 1024          # bytes sent before a "drip" pause
ENDLESS_SECONDS = 60      # an "endless" body stops after this at the latest,
ENDLESS_BYTES = 32 << 20  # or after this many bytes (far past any test limit)
MAX_BODY = 64 << 20       # refuse request bodies larger than this
IDLE_TIMEOUT = 30         # seconds an idle keep-alive connection is kept


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(
        int(ts), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_http_date(value):
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class AclDict(dict):
    """bearer -> list of visible prefixes; any change calls on_change()."""

    def __init__(self, data, on_change):
        super().__init__(data or {})
        self._on_change = on_change

    def _changed(self):
        self._on_change()

    def __setitem__(self, k, v):
        super().__setitem__(k, v)
        self._changed()

    def __delitem__(self, k):
        super().__delitem__(k)
        self._changed()

    def clear(self):
        super().clear()
        self._changed()

    def update(self, *a, **kw):
        super().update(*a, **kw)
        self._changed()

    def pop(self, *a):
        r = super().pop(*a)
        self._changed()
        return r


def _prefix_base(pre):
    """'/' -> '', '/A/' -> '/A', '/A' -> '/A'."""
    pre = "/" + pre.strip("/")
    return "" if pre == "/" else pre


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of new
    # connections (a walk's), which the client then retries a second later.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if self.master.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeZddcMaster/1.0"
    timeout = IDLE_TIMEOUT

    # --- connection bookkeeping -------------------------------------------
    def setup(self):
        super().setup()
        if self.master.ssl_context is not None:
            # TLS handshake here (bounded by self.timeout), not in the
            # accept loop; a failure ends this connection only.
            self.connection.do_handshake()
        self.master._conn_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self.master._conn_closed(self.connection)

    def log_message(self, fmt, *args):
        if self.master.verbose:
            sys.stderr.write("fake_master: " + (fmt % args) + "\n")

    @property
    def master(self):
        return self.server.master

    # --- dispatch -----------------------------------------------------------
    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_OPTIONS(self):
        self._dispatch()

    do_PURGE = do_PROPFIND = do_MKCOL = do_OPTIONS

    def do_TRACE(self):
        # Reflects the request as stock Apache does (TraceEnable On): an
        # echo of every header, Authorization included.
        m = self.master
        m._record(self.command, urllib.parse.unquote(self.path), self.path,
                  self.headers, "", b"")
        head = "%s %s %s\r\n%s\r\n" % (self.command, self.path,
                                         self.request_version,
                                         "".join("%s: %s\r\n" % kv
                                                 for kv in self.headers.items()))
        data = head.encode("latin-1", "replace")
        self.send_response(200)
        self.send_header("Content-Type", "message/http")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self):
        m = self.master
        m._enter()
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        finally:
            m._leave()

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        m = self.master
        raw, _, query = self.path.partition("?")
        try:
            body = self._read_body()
        except ValueError:
            return self._simple(400, "bad request body\n", close=True)
        try:
            path = urllib.parse.unquote(raw, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            path = None
        m._record(self.command, path, raw, self.headers, query, body)
        if path is None or not path.startswith("/") or "\0" in path \
                or ".." in path.split("/"):
            return self._simple(400, "bad path\n")

        fault = m.fault_for(path)
        if fault == "5xx":
            return self._simple(503, "service unavailable (fault)\n")
        if fault in ("401", "403", "404", "410"):
            return self._simple(int(fault), "fault %s\n" % fault)
        if fault == "405":
            return self._simple(405, "method not allowed (fault)\n",
                                extra={"Allow": "GET, HEAD"})
        if fault == "302":
            return self._simple(302, "moved (fault)\n",
                                extra={"Location": m.base_url + raw
                                       + ".moved"})
        if fault == "slow":
            m._sleep(m.slow_seconds)
            if m._down.is_set():
                return self._abort()

        token = self._bearer()
        if token is None or token not in m.acl:
            return self._simple(401, "unauthorized\n",
                                extra={"WWW-Authenticate": "Bearer"})
        prefixes = list(m.acl[token])
        fs = m.fs_path(path)
        if fs is None:
            return self._simple(400, "bad path\n")

        if self.command in ("PUT", "POST", "DELETE", "PATCH", "OPTIONS"):
            if not m.visible(path, prefixes):
                return self._simple(403, "forbidden\n")
            return self._write(path, fs, body)

        is_dir_req = path.endswith("/")
        if is_dir_req or os.path.isdir(fs):
            if not (m.visible(path if is_dir_req else path + "/", prefixes)
                    or m.ancestor(path if is_dir_req else path + "/",
                                  prefixes)):
                return self._simple(403, "forbidden\n")
        elif not m.visible(path, prefixes):
            return self._simple(403, "forbidden\n")

        if query:
            text = "query: %s\npath: %s\n" % (query, path)
            rng = re.match(r"bytes=(\d+)-(\d+)$",
                           self.headers.get("Range", ""))
            if rng:
                data = text.encode("utf-8")
                lo, hi = int(rng.group(1)), min(int(rng.group(2)),
                                                len(data) - 1)
                return self._simple(206, data[lo:hi + 1].decode("utf-8"),
                                    extra={"Content-Range": "bytes %d-%d/%d"
                                           % (lo, hi, len(data))})
            return self._simple(200, text)
        if not os.path.exists(fs):
            return self._simple(404, "not found\n")
        if os.path.isdir(fs):
            if not is_dir_req:
                return self._simple(301, "moved\n",
                                    extra={"Location": raw + "/"})
            return self._listing(path, fs, prefixes, fault)
        if is_dir_req:
            return self._simple(404, "not found\n")
        return self._file(path, fs, fault)

    def _bearer(self):
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    # --- responses ----------------------------------------------------------
    def _simple(self, status, text, extra=None, close=False):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _abort(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _not_modified(self, lm):
        ims = parse_http_date(self.headers.get("If-Modified-Since"))
        return ims is not None and int(lm) <= int(ims)

    def _etag_matches(self, etag):
        inm = self.headers.get("If-None-Match")
        if inm is None or etag is None:
            return None
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or etag in tags or ("W/" + etag) in tags

    def _send_body(self, status, data, ctype, lm, path, fault, etag=None):
        match = self._etag_matches(etag)
        # RFC 9110 §13.2.2: If-None-Match, when present, decides alone.
        fresh = match if match is not None else self._not_modified(lm)
        no_lm = path in self.master.no_last_modified
        if fresh and status == 200 and not no_lm:
            self.send_response(304)
            self.send_header("Last-Modified", http_date(lm))
            if etag:
                self.send_header("ETag", etag)
            if path in self.master.no_store:
                self.send_header("Cache-Control", "no-store")
            for k, v in self.master.extra_headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if not no_lm:
            self.send_header("Last-Modified", http_date(lm))
        if etag:
            self.send_header("ETag", etag)
        if path in self.master.no_store:
            self.send_header("Cache-Control", "no-store")
        for k, v in self.master.extra_headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault == "truncate":
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            return self._abort()
        if fault == "drip":
            self.wfile.write(data[:DRIP_HEAD])
            self.wfile.flush()
            self.master._sleep(self.master.slow_seconds)
            if self.master._down.is_set():
                return self._abort()
            self.wfile.write(data[DRIP_HEAD:])
            return
        self.wfile.write(data)

    def _endless(self, fs):
        """A close-delimited 200 whose body (the file, over and over) ends
        only when the client goes, the master stops, or after
        ENDLESS_SECONDS or ENDLESS_BYTES."""
        with open(fs, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read() or b"x"
        chunk = data * max(1, 65536 // len(data))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Last-Modified", http_date(st.st_mtime))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        end, sent = time.monotonic() + ENDLESS_SECONDS, 0
        try:
            while (time.monotonic() < end and sent < ENDLESS_BYTES
                   and not self.master._down.is_set()):
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        self._abort()

    def _file(self, path, fs, fault):
        if fault == "endless":
            return self._endless(fs)
        # Like a file server: the date is the open file's own, so a file
        # replaced meanwhile never gets the other revision's date.
        with open(fs, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
        ctype = mimetypes.guess_type(fs)[0] or "application/octet-stream"
        self._send_body(200, data, ctype, st.st_mtime, path, fault)

    def _listing(self, path, fs, prefixes, fault):
        m = self.master
        entries, lm = m.list_entries(path, fs, prefixes)
        want_json = "application/json" in self.headers.get("Accept", "")
        if want_json and fault == "badjson":
            data = b'[{"name": "broken", "is_dir": fal'
            return self._send_body(200, data, "application/json", lm, path,
                                   None)
        if want_json:
            data = json.dumps(entries, ensure_ascii=False).encode("utf-8")
            ctype = "application/json"
        else:
            data = m.render_html(path, entries).encode("utf-8")
            ctype = "text/html; charset=utf-8"
        if path in m.raw_listings and want_json:
            data = m.raw_listings[path]
        etag = None
        if m.listing_etags:
            etag = '"%s"' % hashlib.sha1(data).hexdigest()[:20]
        self._send_body(200, data, ctype, lm, path, fault, etag=etag)

    def _write(self, path, fs, body):
        cmd = self.command
        if cmd == "PUT":
            if path.endswith("/"):
                os.makedirs(fs, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(fs), exist_ok=True)
                with open(fs, "wb") as f:
                    f.write(body)
            return self._simple(201, "created\n")
        if cmd == "DELETE":
            if not os.path.lexists(fs):
                return self._simple(404, "not found\n")
            if os.path.isdir(fs) and not os.path.islink(fs):
                shutil.rmtree(fs)
            else:
                os.unlink(fs)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self._simple(200, "ok %s\n" % cmd)


class FakeMaster:
    """A fake ZDDC master. Attributes tests may change at any time:
    acl (dict bearer -> prefixes), faults (dict prefix-or-'*' -> fault),
    no_store (set of decoded paths), no_last_modified (set of decoded paths
    answered without Last-Modified, never 304), slow_seconds (float), verbose,
    listing_etags (bool: listings carry an ETag and honour If-None-Match),
    raw_listings (dict directory path -> bytes served as its JSON listing),
    extra_headers (dict sent with every 200/304 of a file or listing).

    realistic (the default) dates a listing like Go's http.FileServer: its
    Last-Modified is the directory's own mtime, which neither an in-place
    rewrite of a file in it nor an ACL change moves. realistic=False dates
    it by the newest of the directory, its entries and the last ACL change
    (the suite's old, kinder master)."""

    def __init__(self, docroot=None, acl=None, bearer=None, port=0,
                 slow_seconds=2.0, verbose=False, ssl_context=None,
                 realistic=True, listing_etags=False):
        self._own_docroot = docroot is None
        self.docroot = os.path.realpath(
            docroot or tempfile.mkdtemp(prefix="zddc-master-"))
        os.chmod(self.docroot, 0o755)
        self.acl_changed_at = 0.0
        if acl is None:
            acl = {bearer or "test-token": ["/"]}
        self._acl = AclDict(acl, self._bump_acl)
        self.faults = {}
        self.no_store = set()
        self.no_last_modified = set()
        self.realistic = realistic
        self.listing_etags = listing_etags
        self.raw_listings = {}
        self.extra_headers = {}
        self.slow_seconds = slow_seconds
        self.verbose = verbose
        self.ssl_context = ssl_context   # ssl.SSLContext: serve https
        self.port = port
        self._lock = threading.Lock()
        self._log = []
        self._inflight = 0
        self.max_inflight = 0
        self.connections = 0
        self._open_conns = set()
        self._down = threading.Event()
        self._server = None
        self._thread = None

    # --- lifecycle ----------------------------------------------------------
    def start(self):
        """Listen (again) on 127.0.0.1:port; after stop() the port is kept."""
        if self._server is not None:
            return self
        deadline = time.monotonic() + 10
        while True:
            try:
                srv = _Server(("127.0.0.1", self.port), _Handler)
                break
            except OSError:
                if self.port == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        srv.master = self
        if self.ssl_context is not None:
            srv.socket = self.ssl_context.wrap_socket(
                srv.socket, server_side=True, do_handshake_on_connect=False)
        self.port = srv.server_address[1]
        self._down.clear()
        self._server = srv
        self._thread = threading.Thread(
            target=srv.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-master", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Close the listener and every open connection: connects are refused."""
        srv, self._server = self._server, None
        if srv is None:
            return
        self._down.set()
        srv.shutdown()
        srv.server_close()
        with self._lock:
            conns = list(self._open_conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(5)

    def close(self):
        self.stop()
        if self._own_docroot:
            shutil.rmtree(self.docroot, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def running(self):
        return self._server is not None

    @property
    def base_url(self):
        scheme = "https" if self.ssl_context is not None else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def url(self, path="/"):
        return self.base_url + urllib.parse.quote(path, safe="/")

    # --- ACL ----------------------------------------------------------------
    @property
    def acl(self):
        return self._acl

    @acl.setter
    def acl(self, value):
        self._acl = AclDict(value, self._bump_acl)
        self._bump_acl()

    def set_acl(self, token, prefixes):
        self._acl[token] = list(prefixes)

    def _bump_acl(self):
        self.acl_changed_at = max(time.time(), self.acl_changed_at + 1)

    @staticmethod
    def visible(path, prefixes):
        for pre in prefixes:
            base = _prefix_base(pre)
            if base == "" or path == base or path.startswith(base + "/"):
                return True
        return False

    @staticmethod
    def ancestor(dirpath, prefixes):
        """True if dirpath (ending in '/') is an ancestor of a visible prefix."""
        return any((_prefix_base(p) + "/").startswith(dirpath)
                   for p in prefixes)

    # --- faults -------------------------------------------------------------
    def set_fault(self, name, prefix="*"):
        if name not in FAULTS:
            raise ValueError("unknown fault %r" % name)
        self.faults[prefix] = name

    def clear_faults(self):
        self.faults.clear()

    def fault_for(self, path):
        best, best_len = None, -1
        for pre, name in list(self.faults.items()):
            if pre == "*":
                if best_len < 0:
                    best, best_len = name, 0
            elif path.startswith(pre) and len(pre) > best_len:
                best, best_len = name, len(pre)
        return best

    def _sleep(self, seconds):
        self._down.wait(max(0.0, min(float(seconds), 600.0)))

    # --- docroot helpers (paths are decoded URL paths) ----------------------
    def fs_path(self, path):
        rel = path.lstrip("/")
        fs = os.path.normpath(os.path.join(self.docroot, rel))
        if fs != self.docroot and not fs.startswith(self.docroot + os.sep):
            return None
        return fs

    def _fs(self, path):
        fs = self.fs_path(path)
        if fs is None:
            raise ValueError("path escapes docroot: %r" % path)
        return fs

    def put_file(self, path, data, mtime=None):
        fs = self._fs(path)
        os.makedirs(os.path.dirname(fs), mode=0o755, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(fs, "wb") as f:
            f.write(data)
        os.chmod(fs, 0o644)
        if mtime is not None:
            os.utime(fs, (mtime, mtime))
        return fs

    def mkdir(self, path, mtime=None):
        fs = self._fs(path)
        os.makedirs(fs, mode=0o755, exist_ok=True)
        if mtime is not None:
            os.utime(fs, (mtime, mtime))
        return fs

    def remove(self, path):
        fs = self._fs(path)
        if os.path.isdir(fs) and not os.path.islink(fs):
            shutil.rmtree(fs)
        elif os.path.lexists(fs):
            os.unlink(fs)

    def set_mtime(self, path, mtime):
        os.utime(self._fs(path), (mtime, mtime))

    def read_file(self, path):
        with open(self._fs(path), "rb") as f:
            return f.read()

    def exists(self, path):
        return os.path.lexists(self._fs(path))

    # --- listings -----------------------------------------------------------
    def list_entries(self, path, fs, prefixes):
        """(entries visible to prefixes, Last-Modified) of directory path."""
        lm = os.stat(fs).st_mtime
        if not self.realistic:
            lm = max(lm, self.acl_changed_at)
        entries = []
        for name in sorted(os.listdir(fs)):
            full = os.path.join(fs, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            is_dir = os.path.isdir(full)
            epath = path + name + ("/" if is_dir else "")
            if not (self.visible(epath, prefixes)
                    or (is_dir and self.ancestor(epath, prefixes))):
                continue
            if not self.realistic:
                lm = max(lm, st.st_mtime)
            entries.append({"name": name + ("/" if is_dir else ""),
                            "is_dir": is_dir,
                            "size": 0 if is_dir else st.st_size,
                            "mod_time": rfc3339(st.st_mtime)})
        return entries, lm

    @staticmethod
    def render_html(path, entries):
        title = html.escape(path)
        rows = ['<li><a href="%s">%s</a></li>' % (
            html.escape(urllib.parse.quote(e["name"], safe="/"), quote=True),
            html.escape(e["name"])) for e in entries]
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                "<title>Index of %s</title></head><body>\n<h1>Index of %s</h1>"
                "\n<ul>\n%s\n</ul>\n</body></html>\n"
                % (title, title, "\n".join(rows)))

    # --- request log --------------------------------------------------------
    def _conn_opened(self, sock):
        with self._lock:
            self.connections += 1
            self._open_conns.add(sock)

    def _conn_closed(self, sock):
        with self._lock:
            self._open_conns.discard(sock)

    def _enter(self):
        with self._lock:
            self._inflight += 1
            self.max_inflight = max(self.max_inflight, self._inflight)

    def _leave(self):
        with self._lock:
            self._inflight -= 1

    @property
    def inflight(self):
        with self._lock:
            return self._inflight

    def _record(self, method, path, raw, headers, query, body):
        entry = {"method": method, "path": path, "raw_path": raw,
                 "headers": {k.lower(): v for k, v in headers.items()},
                 "query": query, "body": body, "time": time.time()}
        with self._lock:
            self._log.append(entry)

    def requests(self, method=None, path=None, prefix=None):
        with self._lock:
            log = list(self._log)
        return [e for e in log
                if (method is None or e["method"] == method)
                and (path is None or e["path"] == path)
                and (prefix is None or (e["path"] or "").startswith(prefix))]

    def count(self, method=None, path=None, prefix=None):
        return len(self.requests(method, path, prefix))

    def clear_log(self):
        with self._lock:
            self._log.clear()
            self.max_inflight = self._inflight
            self.connections = 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="fake ZDDC master")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--docroot", required=True)
    ap.add_argument("--bearer", action="append", default=[],
                    help="token that sees everything (repeatable)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    acl = {t: ["/"] for t in (args.bearer or ["test-token"])}
    m = FakeMaster(docroot=args.docroot, acl=acl, port=args.port,
                   verbose=args.verbose)
    m.start()
    print("fake master listening on %s/ docroot %s" % (m.base_url, m.docroot),
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(1):
        pass
    m.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
