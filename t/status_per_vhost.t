#!/usr/bin/python3
# Status page per virtual host (issue 8 #6, SPEC §7): each host's zddc-status
# shows only that host (mode, upstream, cache root, subtrees; never a token),
# in HTML and JSON; mod_status' server-status still shows every host.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

TOK_A, TOK_B = "token-of-vendor-a", "token-of-vendor-b"
ma = master(acl={TOK_A: ["/"]}, bearer=TOK_A)
mb = master(acl={TOK_B: ["/"]}, bearer=TOK_B)
STATUS = """\
<Location /zddc-status>
    SetHandler zddc-status
</Location>
<Location /server-status>
    SetHandler server-status
</Location>
"""
a = Apache(mirror_conf(ma, "ZddcMirrorSubtree \"/Alpha Project\"\n"
                       "ZddcMirrorSubtree \"/Alpha Two\"\n"
                       + STATUS, token=TOK_A),
           server_conf="<VirtualHost 127.0.0.1:{port}>\nServerName "
           "b.example\nDocumentRoot {htdocs}\n"
           + mirror_conf(mb, "ZddcMirrorSubtree \"/Bravo Site\"\n" + STATUS,
                         token=TOK_B).replace("{cache}", "{root}/cache-b")
           + "</VirtualHost>\n")
a.start()
root_a, root_b = a.cache, os.path.join(a.root, "cache-b")
HOST_A = {"Host": "127.0.0.1:%d" % a.port}
HOST_B = {"Host": "b.example:%d" % a.port}


def page(host, json):
    h = dict(host)
    h["Accept"] = "application/json" if json else "text/html"
    return a.get("/zddc-status", headers=h)


ja = page(HOST_A, True)
jb = page(HOST_B, True)
is_(ja.status, 200, "host A's status page answers")
is_(jb.status, 200, "host B's status page answers")
va, vb = ja.json()["vhosts"], jb.json()["vhosts"]
is_(len(va), 1, "host A's JSON lists one virtual host")
is_(len(vb), 1, "host B's JSON lists one virtual host")
is_((va[0]["upstream"], va[0]["cache_root"],
     [s["path"] for s in va[0]["subtrees"]]),
    (ma.base_url, root_a, ["/Alpha Project", "/Alpha Two"]),
    "host A shows its own upstream, root and subtrees")
is_((vb[0]["upstream"], vb[0]["cache_root"],
     [s["path"] for s in vb[0]["subtrees"]]),
    (mb.base_url, root_b, ["/Bravo Site"]),
    "host B shows its own upstream, root and subtrees")
like(va[0]["server"], r"^127\.0\.0\.1:%d$" % a.port, "host A named")
like(vb[0]["server"], r"^b\.example:%d$" % a.port, "host B named")

ha = page(HOST_A, False).text
hb = page(HOST_B, False).text
for what, text, own, other in (("A's HTML", ha, (ma, root_a, "/Alpha Two"),
                                (mb, root_b, "/Bravo Site")),
                               ("B's HTML", hb, (mb, root_b, "/Bravo Site"),
                                (ma, root_a, "/Alpha Two"))):
    ok(own[0].base_url in text and own[1] in text and own[2] in text,
       "%s shows its own upstream, root and subtree" % what, text)
    ok(other[0].base_url not in text and other[1] + "<" not in text
       and other[2] not in text,
       "%s shows nothing of the other host" % what, text)
for what, text in (("A's JSON", ja.text), ("B's JSON", jb.text)):
    ok(mb.base_url not in text if what.startswith("A") else
       ma.base_url not in text, "%s has no other upstream" % what)
    ok(TOK_A not in text and TOK_B not in text, "%s carries no token" % what)
ok(TOK_A not in ha + hb and TOK_B not in ha + hb, "HTML carries no token")

full = a.get("/server-status", headers=HOST_A).text
ok(ma.base_url in full and mb.base_url in full and root_a in full
   and root_b in full, "server-status still shows every host", full)
short = a.get("/server-status", query="auto", headers=HOST_B).text
like(short, r"ZddcSubtree: \S+ /Alpha Two ", "server-status?auto: A's subtree")
like(short, r"ZddcSubtree: \S+ /Bravo Site ", "server-status?auto: B's subtree")
ok(TOK_A not in full + short and TOK_B not in full + short,
   "server-status carries no token")

done_testing()
