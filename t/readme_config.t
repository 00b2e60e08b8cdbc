#!/usr/bin/python3
# Issue 8 #8, SPEC §9: every Apache configuration block in README.md
# (```apache fences) and conf/*.example, and conf/zddc_mirror.conf, passes
# `apache2 -t` as written, with the module built here loaded.
#
# How a block becomes a server config (nothing else is changed):
# - It goes at server level of a scratch server (Listen on an ephemeral
#   127.0.0.1 port, the built module and a fixed set of stock modules
#   loaded). A README block without a <VirtualHost> is a fragment the README
#   says to add to a virtual host: it is put inside the nearest README block
#   above it that has one, before its </VirtualHost>.
# - ${VAR}s are given with Define: APACHE_LOG_DIR (from Debian's envvars) a
#   scratch directory, any other (ZDDC_BEARER, ...) a test value.
# - Paths the module or Apache open at configtest and that name the
#   machine's own system files are replaced by scratch ones of the same kind,
#   always for ZddcCacheRoot (an empty directory owned by the server's User,
#   0750), ZddcUpstreamBearerFile / ZddcUpstreamProxyAuthFile (a root-only
#   0600 file with a value on its first line) and AuthUserFile (an htpasswd
#   file), and for a certificate or key directive (ZddcUpstreamCAFile,
#   ZddcUpstreamClientCert/Key, SSLCertificate(Key)File, SSLCACertificateFile)
#   only when the named file does not exist (a self-signed pair made here).
import os
import pwd
import re
import subprocess
import textwrap
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403

# Stock modules a README block may use, loaded for every block.
MODULES = ("ssl", "socache_shmcb", "proxy", "proxy_http", "rewrite", "info",
           "remoteip", "expires", "reqtimeout")

scratch = tempdir("zddc-readme-conf-")
for d in ("logs", "keys"):
    os.makedirs(os.path.join(scratch, d))
run_user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
run_ids = pwd.getpwnam(run_user)


def blocks_of(path):
    """[(label, text, is_fragment)] for the ```apache fences of a Markdown
    file, or the whole file for a config file."""
    with open(path) as f:
        text = f.read()
    rel = os.path.relpath(path, REPO)
    if not path.endswith(".md"):
        return [(rel, text, False)]
    found = []
    # Fences may be indented (inside a list item): the indent is removed.
    for m in re.finditer(r"^([ \t]*)```apache[ \t]*\n(.*?)^\1```", text,
                         re.M | re.S):
        line = text.count("\n", 0, m.start()) + 1
        body = textwrap.dedent(m.group(2))
        found.append(("%s block at line %d" % (rel, line), body,
                      not re.search(r"^\s*<VirtualHost\b", body, re.M | re.I)))
    return found


_made = {"cert": None, "n": 0}


def scratch_path(kind, value):
    _made["n"] += 1
    n = _made["n"]
    if kind == "cacheroot":
        p = os.path.join(scratch, "cache-%d" % n)
        os.makedirs(p)
        os.chmod(p, 0o750)
        if os.geteuid() == 0:
            os.chown(p, run_ids.pw_uid, run_ids.pw_gid)
        return p
    if kind in ("secret", "proxyauth"):
        p = os.path.join(scratch, "keys", "secret-%d" % n)
        with open(p, "w") as f:
            f.write("readme-test-token\n" if kind == "secret"
                    else "user:password\n")
        os.chmod(p, 0o600)
        return p
    if kind == "htpasswd":
        return basic_auth_file({"alice": "pw"},
                               os.path.join(scratch, "htpasswd-%d" % n))
    if kind == "pem":
        if os.path.exists(value):
            return value
        if not _made["cert"]:
            crt = os.path.join(scratch, "keys", "test.crt")
            key = os.path.join(scratch, "keys", "test.key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-keyout", key, "-out", crt], check=True,
                           capture_output=True, timeout=60)
            _made["cert"] = (crt, key)
        return _made["cert"][1 if "key" in value.lower() else 0]
    raise ValueError(kind)


SUBST = {
    "zddccacheroot": "cacheroot",
    "zddcupstreambearerfile": "secret",
    "zddcupstreamproxyauthfile": "proxyauth",
    "authuserfile": "htpasswd",
    "zddcupstreamcafile": "pem", "zddcupstreamclientcert": "pem",
    "zddcupstreamclientkey": "pem", "sslcertificatefile": "pem",
    "sslcertificatekeyfile": "pem", "sslcacertificatefile": "pem",
}


def substitute(text):
    out = []
    for line in text.splitlines():
        m = re.match(r'^(\s*)(\S+)(\s+)("([^"]*)"|\S+)(.*)$', line)
        kind = SUBST.get(m.group(2).lower()) if m else None
        if kind:
            arg = m.group(5) if m.group(5) is not None else m.group(4)
            line = "%s%s%s\"%s\"%s" % (m.group(1), m.group(2), m.group(3),
                                      scratch_path(kind, arg), m.group(6))
        out.append(line)
    return "\n".join(out) + "\n"


def defines(text):
    lines = []
    for var in sorted(set(re.findall(r"\$\{(\w+)\}", text))):
        value = (os.path.join(scratch, "logs") if var == "APACHE_LOG_DIR"
                 else "readme-test-" + var.lower())
        lines.append("Define %s %s" % (var, value))
    return "\n".join(lines) + "\n"


sources = [os.path.join(REPO, "README.md")]
sources += sorted(os.path.join(REPO, "conf", n)
                  for n in os.listdir(os.path.join(REPO, "conf"))
                  if n.endswith(".example"))
sources.append(os.path.join(REPO, "conf", "zddc_mirror.conf"))

checked = 0
for src in sources:
    last_vhost = None
    for label, body, fragment in blocks_of(src):
        if fragment:
            if last_vhost is None:
                ok(False, "%s: a fragment with no <VirtualHost> block above "
                   "it to go into" % label)
                continue
            i = last_vhost.lower().rindex("</virtualhost>")
            text = last_vhost[:i] + body + last_vhost[i:]
        else:
            text = body
            if re.search(r"^\s*<VirtualHost\b", body, re.M | re.I):
                last_vhost = body
        conf = defines(text) + substitute(text)
        a = Apache("", server_conf=conf, modules=MODULES)
        rc, out = a.configtest()
        ok(rc == 0 and "Syntax OK" in out,
           "%s passes configtest as written" % label,
           "%s\n--- the block as tested:\n%s" % (out, conf))
        checked += 1
ok(checked >= 3, "README.md and conf/ gave at least 3 blocks (%d)" % checked)
done_testing()
