# Test harness for t/*.t: TAP output helpers, a throw-away Apache httpd with
# the module loaded, HTTP client helpers, sanitizer checks and temp cleanup.
"""Import from a .t file with:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
    from zddc_test import *
"""

import atexit
import base64
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_master import FakeMaster  # noqa: E402  (re-exported)

__all__ = ["plan", "ok", "is_", "isnt", "like", "unlike", "diag", "note",
           "done_testing", "skip_all", "bail_out", "wait_until", "tempdir",
           "free_port", "basic_auth_file", "master", "Apache", "Response",
           "Client", "FakeMaster", "REPO", "SANITIZE", "quote_path",
           "cache_conf", "mirror_conf", "at_once", "SCHEME", "test_pki",
           "server_ssl_context", "walk_now", "Strace"]

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HTTPD = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
SANITIZE = os.environ.get("ZDDC_SANITIZE", "") == "1"
# ZDDC_TEST_SCHEME=https: master() serves https with a CA made for this run
# and every Apache trusts it (ZddcUpstreamCAFile at server level), so each
# test runs unchanged over TLS; `make test` runs the suite both ways.
SCHEME = os.environ.get("ZDDC_TEST_SCHEME", "http")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
RESUMING = "resuming normal operations"

# ---------------------------------------------------------------------------
# TAP
# ---------------------------------------------------------------------------
_tap = {"planned": None, "count": 0, "failed": 0, "done": False,
        "used": False}
_cleanup = {"dirs": [], "apaches": [], "masters": []}


def _out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def diag(msg):
    """Print a '# ' comment to stderr (shown by prove)."""
    for line in str(msg).splitlines() or [""]:
        sys.stderr.write("# " + line + "\n")
    sys.stderr.flush()


_diag = diag


def note(msg):
    """Print a '# ' comment to stdout (shown by prove -v)."""
    for line in str(msg).splitlines() or [""]:
        _out("# " + line)


def plan(n):
    """Declare the test count; checked (not printed) at done_testing()."""
    _tap["used"] = True
    _tap["planned"] = int(n)


def ok(cond, name, diag=None):
    """One TAP test; returns bool(cond). diag is printed on failure."""
    diag_msg = diag
    _tap["used"] = True
    _tap["count"] += 1
    n = _tap["count"]
    name = str(name).replace("#", "\\#").replace("\n", " ")
    if cond:
        _out("ok %d - %s" % (n, name))
    else:
        _tap["failed"] += 1
        _out("not ok %d - %s" % (n, name))
        caller = sys._getframe(1)
        while caller and caller.f_code.co_filename == __file__:
            caller = caller.f_back
        where = ("%s line %d" % (os.path.basename(caller.f_code.co_filename),
                                 caller.f_lineno)) if caller else "the harness"
        _diag("  Failed test '%s'\n  at %s." % (name, where))
        if diag_msg is not None:
            _diag(diag_msg)
    return bool(cond)


def _short(v, limit=2000):
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + "...(%d chars)" % len(r)


def is_(got, expected, name):
    return ok(got == expected, name,
              "     got: %s\nexpected: %s" % (_short(got), _short(expected)))


def isnt(got, unexpected, name):
    return ok(got != unexpected, name,
              "     got: %s\nexpected: anything else" % _short(got))


def _text(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return "" if v is None else str(v)


def like(text, regex, name):
    t = _text(text)
    return ok(re.search(regex, t, re.S | re.M) is not None, name,
              "     got: %s\nexpected: matching /%s/" % (_short(t), regex))


def unlike(text, regex, name):
    t = _text(text)
    return ok(re.search(regex, t, re.S | re.M) is None, name,
              "     got: %s\nexpected: not matching /%s/" % (_short(t), regex))


def skip_all(reason):
    _out("1..0 # SKIP %s" % reason)
    _tap["done"] = True
    sys.exit(0)


def bail_out(reason):
    _out("Bail out!  %s" % reason)
    _tap["done"] = True
    sys.exit(255)


def _stop_all():
    for a in list(_cleanup["apaches"]):
        try:
            a.stop()
        except Exception as e:  # keep cleaning up the rest
            diag("stopping apache on port %s: %s" % (a.port, e))
    for m in list(_cleanup["masters"]):
        try:
            m.stop()
        except Exception as e:
            diag("stopping fake master: %s" % e)


def done_testing():
    """Stop servers (sanitizer checks), print the plan, exit 0 iff all passed."""
    _stop_all()
    planned = _tap["planned"]
    if planned is not None and planned != _tap["count"] - _san_checks[0]:
        ok(False, "planned %d tests, ran %d"
           % (planned, _tap["count"] - _san_checks[0]))
    _out("1..%d" % _tap["count"])
    _tap["done"] = True
    sys.exit(min(_tap["failed"], 254))


_san_checks = [0]


@atexit.register
def _at_exit():
    if _tap["used"] and not _tap["done"]:
        _stop_all()
        ok(False, "test script ended before done_testing()")
        _out("1..%d" % _tap["count"])
        _tap["done"] = True
    else:
        _stop_all()
    if _tap["failed"]:
        for a in _cleanup["apaches"]:
            diag("error log tail (%s):\n%s" % (a.root, a.error_log_tail(30)))
        for d in _cleanup["dirs"]:
            if os.path.isdir(d):
                diag("kept for inspection: %s" % d)
        return
    for d in _cleanup["dirs"]:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def wait_until(fn, timeout=10.0, interval=0.05):
    """Call fn until it returns a truthy value or timeout; return last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def walk_now(srv, subtree, what=None, timeout=30, tls=None,
             status="/zddc-status"):
    """Press srv's "walk now" for subtree (SPEC §7: a POST from this host's
    own Origin; tls: an ssl context when srv speaks https) and wait for that
    walk's summary line; returns it ("finished in" or "failed after")."""
    what = what or "walk of %s" % subtree
    line = re.compile(r"^.*walk of %s (?:finished in|failed after) .*$"
                      % re.escape(subtree), re.M)
    before = len(line.findall(srv.error_log()))
    scheme = "https" if tls else "http"
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port,
                                           context=tls, timeout=timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port,
                                          timeout=timeout)
    try:
        conn.request("POST", status, body=urllib.parse.urlencode(
            {"action": "walk", "subtree": subtree}).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "%s://127.0.0.1:%d" % (scheme, srv.port),
            "Accept": "application/json"})
        st = conn.getresponse().status
    finally:
        conn.close()
    ok(st in (200, 409), "%s: started (%d)" % (what, st))
    found = wait_until(lambda: len(line.findall(srv.error_log())) > before,
                       timeout)
    ok(found, "%s: its summary line was logged" % what, srv.error_log_tail())
    lines = line.findall(srv.error_log())
    return lines[-1] if found else ""


def tempdir(prefix="zddc-test-"):
    """A 0755 temp dir under /tmp, removed at exit unless a test failed."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    _cleanup["dirs"].append(d)
    return d


class Strace:
    """strace -f on a running process (an httpd child), attached before
    what is to be counted; lines() detaches and returns what it traced."""

    def __init__(self, pid, calls, timeout=10):
        self.work = tempdir("zddc-strace-")
        self.trace = os.path.join(self.work, "trace.txt")
        self.err_path = os.path.join(self.work, "strace.err")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            [shutil.which("strace"), "-f", "-e", "trace=" + calls, "-o",
             self.trace, "-p", str(pid)], stdout=subprocess.DEVNULL,
            stderr=self.err, stdin=subprocess.DEVNULL)
        self.attached = wait_until(lambda: "attached" in self._said(),
                                   timeout)

    def _said(self):
        with open(self.err_path) as f:
            return f.read()

    def lines(self):
        self.proc.send_signal(signal.SIGINT)    # detaches; the child goes on
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.err.close()
        with open(self.trace, errors="replace") as f:
            return f.read().splitlines()


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _port_open(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def quote_path(path):
    return urllib.parse.quote(path, safe="/")


def basic_auth_file(users, path=None):
    """Write an htpasswd file for {user: password}; return its path."""
    if path is None:
        path = os.path.join(tempdir("zddc-auth-"), "htpasswd")
    htpasswd = shutil.which("htpasswd")
    lines = []
    for user, pw in users.items():
        if htpasswd:
            r = subprocess.run([htpasswd, "-nbm", user, pw], timeout=10,
                               capture_output=True, text=True, check=True)
            lines.append(r.stdout.strip())
        else:
            digest = base64.b64encode(hashlib.sha1(pw.encode()).digest())
            lines.append("%s:{SHA}%s" % (user, digest.decode()))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)
    return path


def _zddc_conf(mode, master, extra, token):
    return ("ZddcMode %s\nZddcUpstream %s\nZddcUpstreamBearer %s\n"
            "ZddcCacheRoot {cache}\n%s" % (mode, master.base_url, token, extra))


def cache_conf(master, extra="", token="test-token"):
    """Vhost text for a Cache-mode host on master ({cache} left for Apache);
    extra (lines ending in a newline) is appended."""
    return _zddc_conf("Cache", master, extra, token)


def mirror_conf(master, extra="", token="tok"):
    """Vhost text for a Mirror-mode host on master, like cache_conf()."""
    return _zddc_conf("Mirror", master, extra, token)


def at_once(n, fn, join=60):
    """Run fn(i) for i in range(n) on n threads released together; the list
    of what each returned, or the exception it raised."""
    results = [None] * n
    gate = threading.Barrier(n)

    def one(i):
        try:
            gate.wait(10)
            results[i] = fn(i)
        except Exception as e:  # returned to the caller, asserted there
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(join)
    return results


_pki = {}


def _openssl(cwd, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, timeout=60,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (args[0], r.stdout))


def test_pki():
    """A CA and certificates made once per test process with the openssl
    tool (never committed): {"dir", "ca", "ca_key", "server_cert",
    "server_key", "client_cert", "client_key"}; the server certificate is
    for IP 127.0.0.1 and DNS localhost, the client one for clientAuth."""
    if _pki:
        return _pki
    d = tempdir("zddc-pki-")
    j = lambda n: os.path.join(d, n)  # noqa: E731
    _openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
             "-days", "2", "-subj", "/CN=zddc test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", j("ca.key"), "-out", j("ca.pem"))
    for name, ext in (("server", "serverAuth\nsubjectAltName=IP:127.0.0.1,"
                                 "DNS:localhost"),
                      ("client", "clientAuth")):
        _openssl(d, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
                 "-subj", "/CN=zddc test %s" % name,
                 "-keyout", j(name + ".key"), "-out", j(name + ".csr"))
        with open(j(name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=%s\n" % ext)
        _openssl(d, "x509", "-req", "-in", j(name + ".csr"), "-CA",
                 j("ca.pem"), "-CAkey", j("ca.key"), "-CAcreateserial",
                 "-days", "2", "-sha256", "-extfile", j(name + ".ext"),
                 "-out", j(name + ".pem"))
    for n in os.listdir(d):
        os.chmod(j(n), 0o644)  # Apache's children (User nobody) read them
    _pki.update(dir=d, ca=j("ca.pem"), ca_key=j("ca.key"),
                server_cert=j("server.pem"), server_key=j("server.key"),
                client_cert=j("client.pem"), client_key=j("client.key"))
    return _pki


def server_ssl_context(require_client_cert=False):
    """An ssl.SSLContext serving test_pki()'s server certificate (HTTP/1.1);
    with require_client_cert, clients must show a certificate of the CA."""
    import ssl
    pki = test_pki()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server_cert"], pki["server_key"])
    ctx.set_alpn_protocols(["http/1.1"])
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki["ca"])
    return ctx


def master(acl=None, bearer="test-token", scheme=None, **kw):
    """Start a FakeMaster on a registered temp docroot (stopped at exit).
    It serves SCHEME (ZDDC_TEST_SCHEME) unless scheme pins it, or an
    ssl_context is given."""
    if (scheme or SCHEME) == "https" and "ssl_context" not in kw:
        kw["ssl_context"] = server_ssl_context()
    m = FakeMaster(docroot=tempdir("zddc-master-"), acl=acl, bearer=bearer,
                   **kw)
    m.start()
    _cleanup["masters"].append(m)
    return m


# ---------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------
class Response:
    """status (int), reason, headers (case-insensitive HTTPMessage), body
    (bytes), incomplete (True if the connection broke mid-body)."""

    def __init__(self, status, reason, headers, body, incomplete=False):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.incomplete = incomplete

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        import json
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %d bytes%s>" % (
            self.status, len(self.body), " INCOMPLETE" if self.incomplete
            else "")


def _target(path, raw, query):
    t = path if raw else quote_path(path)
    if query is not None:
        t += "?" + query
    return t


def _read_response(resp):
    incomplete = False
    try:
        body = resp.read()
    except http.client.IncompleteRead as e:
        body, incomplete = e.partial, True
    except (ConnectionError, socket.timeout):
        body, incomplete = b"", True
    return Response(resp.status, resp.reason, resp.msg, body, incomplete)


class Client:
    """One persistent connection (keep-alive tests). Same request API as
    Apache; reconnects transparently only if reconnect=True."""

    def __init__(self, port, timeout=10, reconnect=False):
        self.port = port
        self.timeout = timeout
        self.reconnect = reconnect
        self.conn = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=timeout)

    def request(self, method, path, headers=None, body=None, raw=False,
                query=None):
        self.conn.request(method, _target(path, raw, query), body=body,
                          headers=headers or {})
        return _read_response(self.conn.getresponse())

    def get(self, path, headers=None, **kw):
        return self.request("GET", path, headers, **kw)

    def head(self, path, headers=None, **kw):
        return self.request("HEAD", path, headers, **kw)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------
# Apache
# ---------------------------------------------------------------------------
_BASE_MODULES = ("authz_core", "authz_host", "authn_core", "authn_file",
                 "auth_basic", "authz_user", "mime", "env", "headers",
                 "status", "setenvif", "dir", "alias")

_MPM_CONF = {
    "event": ("StartServers 2\nServerLimit 8\nThreadLimit 16\n"
              "ThreadsPerChild 16\nMinSpareThreads 16\nMaxSpareThreads 48\n"
              "MaxRequestWorkers 64\nMaxConnectionsPerChild 0\n"),
    "worker": ("StartServers 2\nServerLimit 8\nThreadLimit 16\n"
               "ThreadsPerChild 16\nMinSpareThreads 16\nMaxSpareThreads 48\n"
               "MaxRequestWorkers 64\n"),
    "prefork": ("StartServers 4\nMinSpareServers 4\nMaxSpareServers 8\n"
                "ServerLimit 8\nMaxRequestWorkers 8\n"),
}


def default_module_path():
    build = os.environ.get("ZDDC_BUILD") or os.path.join(
        REPO, "build-san" if SANITIZE else "build")
    return os.path.join(build, "mod_zddc_mirror.so")


def _sanitizer_libs():
    libs = []
    for name in ("libasan.so", "libubsan.so"):
        try:
            r = subprocess.run(["gcc", "-print-file-name=" + name],
                               capture_output=True, text=True, timeout=10)
            p = r.stdout.strip()
            if p and os.path.isabs(p) and os.path.exists(p):
                libs.append(os.path.realpath(p))
        except (OSError, subprocess.TimeoutExpired):
            pass
    return libs


class Apache:
    """A private httpd: Apache(vhost, mpm="event", server_conf="", modules=()).
    vhost/server_conf may use {port}, {root}, {cache}, {htdocs}."""

    def __init__(self, vhost, mpm="event", server_conf="", modules=(),
                 module_path=None, port=None):
        self.root = tempdir("zddc-httpd-")
        self.port = port or free_port()
        self.cache = os.path.join(self.root, "cache")
        self.htdocs = os.path.join(self.root, "htdocs")
        self.conf_path = os.path.join(self.root, "conf", "httpd.conf")
        self.module_path = module_path or default_module_path()
        self.mpm = mpm
        self.modules = tuple(modules)
        self.proc = None
        self.sanitize = SANITIZE
        for d, mode in (("conf", 0o755), ("logs", 0o777), ("run", 0o755),
                        ("htdocs", 0o755)):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
            os.chmod(os.path.join(self.root, d), mode)
        self.write_conf(vhost, server_conf)
        _cleanup["apaches"].append(self)

    # --- configuration --------------------------------------------------
    def expand(self, text):
        return (text.replace("{port}", str(self.port))
                .replace("{root}", self.root)
                .replace("{cache}", self.cache)
                .replace("{htdocs}", self.htdocs))

    def write_conf(self, vhost, server_conf=""):
        """(Re)write conf/httpd.conf; apply with graceful()/restart_hard()."""
        self.vhost, self.server_conf = vhost, server_conf
        r = self.root
        lines = [
            "ServerRoot %s" % r,
            "Listen 127.0.0.1:%d" % self.port,
            "ServerName 127.0.0.1",
            "PidFile %s/run/httpd.pid" % r,
            "DefaultRuntimeDir %s/run/" % r,
            "Mutex file:%s/run default" % r,
            "ErrorLog %s/logs/error.log" % r,
            "LogLevel info",
            "TypesConfig /etc/mime.types",
            "Timeout 30",
            "KeepAliveTimeout 5",
            "GracefulShutdownTimeout 5",
            "LoadModule mpm_%s_module %s/mod_mpm_%s.so"
            % (self.mpm, MODDIR, self.mpm),
            _MPM_CONF.get(self.mpm, ""),
        ]
        for m in _BASE_MODULES + self.modules:
            if m == "log_config":
                continue  # compiled into Debian's apache2
            lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m))
        lines += [
            "LoadModule zddc_mirror_module %s" % self.module_path,
            "AccessFileName .htaccess",
            "DocumentRoot %s" % self.htdocs,
            'LogFormat "%h %u %t \\"%r\\" %>s %b %{ZDDC_CACHE_STATUS}e" zddc',
            "CustomLog %s/logs/access.log zddc" % r,
        ]
        if os.geteuid() == 0:
            lines += ["User nobody", "Group nogroup"]
        if SCHEME == "https":
            lines.append("ZddcUpstreamCAFile %s" % test_pki()["ca"])
        lines += [self.expand(server_conf),
                  "<VirtualHost 127.0.0.1:%d>" % self.port,
                  "ServerName 127.0.0.1",
                  "DocumentRoot %s" % self.htdocs,
                  self.expand(vhost),
                  "</VirtualHost>", ""]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines))

    # --- process control --------------------------------------------------
    def _env(self):
        env = dict(os.environ, LANG="C", LC_ALL="C")
        if self.sanitize:
            libs = _sanitizer_libs()
            env["LD_PRELOAD"] = " ".join(libs)
            # allow_user_segv_handler=0: httpd's own SIGSEGV handler
            # (sig_coredump) would otherwise hide a crash's stack from ASan.
            env["ASAN_OPTIONS"] = ("detect_leaks=0:abort_on_error=0:"
                                   "halt_on_error=1:allow_user_segv_handler=0:"
                                   "log_path=%s/logs/asan" % self.root)
            env["UBSAN_OPTIONS"] = ("print_stacktrace=1:halt_on_error=1:"
                                    "log_path=%s/logs/ubsan" % self.root)
        return env

    def _cmd(self, *extra):
        return [HTTPD, "-d", self.root, "-f", self.conf_path] + list(extra)

    def configtest(self):
        """Run 'apache2 -t'; return (returncode, combined output)."""
        r = subprocess.run(self._cmd("-t"), env=self._env(), timeout=30,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        return r.returncode, r.stdout

    def start(self):
        """Start in the foreground; return once the port accepts (<= 15 s)."""
        if self.proc and self.proc.poll() is None:
            return self
        if not os.path.exists(self.module_path):
            raise RuntimeError("module not built: %s" % self.module_path)
        out = open(os.path.join(self.root, "logs", "stderr.log"), "ab")
        log_before = len(self.error_log())
        self.proc = subprocess.Popen(self._cmd("-DFOREGROUND"),
                                     env=self._env(), stdout=out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True,
                                     preexec_fn=_die_with_parent)
        out.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "apache exited with %s during startup:\n%s\n%s"
                    % (self.proc.returncode, self.stderr_log(),
                       self.error_log_tail(40)))
            # The port opens before post_config is done; "resuming normal
            # operations" says the module's start-up work finished.
            if (_port_open(self.port)
                    and RESUMING in self.error_log()[log_before:]):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("apache did not listen on %d within %ss:\n%s"
                           % (self.port, START_TIMEOUT,
                              self.error_log_tail(40)))

    def stop(self):
        """SIGTERM, bounded wait, then SIGKILL; sanitizer check if enabled."""
        p = self.proc
        if p is None:
            return
        self.proc = None
        children = self._children(p.pid)
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                diag("apache %d ignored SIGTERM; killing" % p.pid)
                p.kill()
                p.wait(5)
        deadline = time.monotonic() + 5
        for c in children:
            while _alive(c) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(c):
                try:
                    os.kill(c, signal.SIGKILL)
                except OSError:
                    pass
        if self.sanitize:
            self.check_sanitizers()

    def check_sanitizers(self):
        """Emit one TAP test 'no sanitizer reports' over logs/asan*, ubsan*,
        and the error log."""
        reports = []
        logs = os.path.join(self.root, "logs")
        for name in sorted(os.listdir(logs)):
            if name.startswith(("asan", "ubsan")):
                with open(os.path.join(logs, name), errors="replace") as f:
                    reports.append("== %s\n%s" % (name, f.read()[:20000]))
        for name in ("error.log", "stderr.log"):
            text = self._read(name)
            if "AddressSanitizer" in text or "runtime error:" in text:
                hits = [ln for ln in text.splitlines()
                        if "Sanitizer" in ln or "runtime error:" in ln]
                reports.append("== %s\n%s" % (name, "\n".join(hits[:50])))
        _san_checks[0] += 1
        ok(not reports, "no sanitizer reports (apache port %d)" % self.port,
           "\n".join(reports))

    def _wait_resumed(self, before, what):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("apache exited during %s:\n%s"
                                   % (what, self.error_log_tail(40)))
            if (self.error_log().count(RESUMING) > before
                    and _port_open(self.port)):
                return self
            time.sleep(0.05)
        raise RuntimeError("apache did not come back after %s:\n%s"
                           % (what, self.error_log_tail(40)))

    def graceful(self):
        """SIGUSR1 (graceful restart); return when it serves again."""
        before = self.error_log().count(RESUMING)
        self.proc.send_signal(signal.SIGUSR1)
        return self._wait_resumed(before, "graceful restart")

    def restart_hard(self):
        """SIGHUP (restart, children killed); return when it serves again."""
        before = self.error_log().count(RESUMING)
        self.proc.send_signal(signal.SIGHUP)
        return self._wait_resumed(before, "restart")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @staticmethod
    def _children(ppid):
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if len(fields) > 1 and fields[0] != "Z" and int(fields[1]) == ppid:
                kids.append(int(d))
        return sorted(kids)

    def child_pids(self):
        return self._children(self.pid) if self.pid else []

    def pids(self):
        return ([self.pid] + self.child_pids()) if self.pid else []

    # --- cache root -------------------------------------------------------
    def on_disk(self, path):
        """Where the (decoded) URL path is stored under the cache root."""
        return os.path.join(self.cache, path.lstrip("/"))

    def disk(self, path):
        """The stored bytes for path, or None if it cannot be read."""
        try:
            with open(self.on_disk(path), "rb") as f:
                return f.read()
        except OSError:
            return None

    def validated_at(self, path):
        """When the copy of path was last confirmed by the master, as the
        store keeps it (the user.zddc.validated xattr, in microseconds, else
        the file's ctime), in seconds; None without a copy."""
        f = self.on_disk(path)
        try:
            return int(os.getxattr(f, "user.zddc.validated")) / 1e6
        except (OSError, ValueError):
            try:
                return os.stat(f).st_ctime
            except OSError:
                return None

    def wait_confirmed_for(self, path, seconds, timeout=15.0):
        """Wait until the copy of path was last confirmed more than seconds
        ago (a ZddcCacheFreshness running out, an Age accruing): the
        condition itself, not a guessed sleep. True once it holds."""
        def held():
            v = self.validated_at(path)
            return v is not None and time.time() - v > seconds
        return wait_until(held, timeout, 0.02)

    # --- logs -------------------------------------------------------------
    def _read(self, name):
        try:
            with open(os.path.join(self.root, "logs", name),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def error_log(self):
        return self._read("error.log")

    def error_log_tail(self, n=30):
        return "\n".join(self.error_log().splitlines()[-n:])

    def access_log(self):
        return self._read("access.log")

    def stderr_log(self):
        return self._read("stderr.log")

    def walk_when_due(self, subtree, path, headers=None, timeout=20.0):
        """Access path until a walk of subtree is queued, i.e. once its
        ZddcMirrorMinInterval has passed (the observable effect, not a
        guessed time); True if one was. Wait for its end yourself."""
        queued = re.compile(r"walk of %s queued in process"
                            % re.escape(subtree))
        before = len(queued.findall(self.error_log()))

        def walked():
            self.get(path, headers)
            return len(queued.findall(self.error_log())) > before
        return wait_until(walked, timeout, 0.1)

    def wait_log(self, regex, timeout=10.0, log="error"):
        """Wait until the error (or access) log matches regex; return match."""
        read = self.error_log if log == "error" else self.access_log
        return wait_until(lambda: re.search(regex, read(), re.M), timeout)

    # --- HTTP -------------------------------------------------------------
    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, quote_path(path))

    def request(self, method, path, headers=None, body=None, timeout=10,
                raw=False, query=None):
        """Fresh connection. path is DECODED and percent-encoded here unless
        raw=True; query (str) is appended after '?' unencoded."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, _target(path, raw, query), body=body,
                         headers=headers or {})
            return _read_response(conn.getresponse())
        finally:
            conn.close()

    def get(self, path, headers=None, **kw):
        return self.request("GET", path, headers, **kw)

    def head(self, path, headers=None, **kw):
        return self.request("HEAD", path, headers, **kw)

    def stream(self, path, headers=None, method="GET", timeout=10, raw=False):
        """Open a request and return the http.client.HTTPResponse unread
        (read it in pieces; .conn holds the connection to close)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        conn.request(method, _target(path, raw, None), headers=headers or {})
        resp = conn.getresponse()
        resp.conn = conn
        return resp

    def client(self, timeout=10):
        """A keep-alive Client on one connection."""
        return Client(self.port, timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _die_with_parent():
    """In the child before exec: SIGTERM apache if the test process dies."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
