/* Start-up checks of cache roots: writable by the server's User, not someone
 * else's non-empty directory, and one scope (upstream + bearer) per root. */
#include <apr_strings.h>
#include <apr_file_io.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zddc_rootcheck.h"
#include "zddc_store_disk.h"

/* Outcomes of the access probe run as the server's User. */
#define PROBE_OK        0
#define PROBE_DENIED    1
#define PROBE_NO_ID     2

/* access() as another user needs a process of that identity: fork, drop to
 * uid/gid with the user's groups, probe, report through the exit code. */
static int probe_as(const char *path, int mode, const char *user_name,
                    apr_uid_t uid, apr_gid_t gid)
{
    pid_t pid;
    int status;

    if (uid == (apr_uid_t)-1 || geteuid() != 0) {
        return access(path, mode) == 0 ? PROBE_OK : PROBE_DENIED;
    }
    pid = fork();
    if (pid < 0) {
        return access(path, mode) == 0 ? PROBE_OK : PROBE_DENIED;
    }
    if (pid == 0) {
        if ((user_name ? initgroups(user_name, gid) : setgroups(0, NULL)) != 0
            || setgid(gid) != 0 || setuid(uid) != 0) {
            _exit(PROBE_NO_ID);
        }
        _exit(access(path, mode) == 0 ? PROBE_OK : PROBE_DENIED);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return PROBE_NO_ID;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : PROBE_NO_ID;
}

static const char *who(apr_pool_t *p, const char *user_name, apr_uid_t uid)
{
    if (uid == (apr_uid_t)-1 || geteuid() != 0) {
        return "this process";
    }
    return apr_psprintf(p, "the server's User %s",
                        user_name ? user_name
                                  : apr_psprintf(p, "#%ld", (long)uid));
}

static int dir_has_content(const char *path, int *has)
{
    apr_pool_t *p;
    apr_dir_t *d;
    apr_finfo_t fi;
    int rc = 0;

    *has = 0;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    if (apr_dir_open(&d, path, p) != APR_SUCCESS) {
        rc = -1;
    }
    else {
        while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
            if (strcmp(fi.name, ".") && strcmp(fi.name, "..")) {
                *has = 1;
                break;
            }
        }
        apr_dir_close(d);
    }
    apr_pool_destroy(p);
    return rc;
}

const char *zddc_rootcheck_usable(apr_pool_t *p, const char *root,
                                  const char *user_name, apr_uid_t uid,
                                  apr_gid_t gid)
{
    struct stat sb;
    char *dir;
    int has, probe;

    if (lstat(root, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            return apr_psprintf(p, "'%s' exists and is not a directory", root);
        }
        if (dir_has_content(root, &has) != 0) {
            return apr_psprintf(p, "cannot read '%s': %s", root,
                                strerror(errno));
        }
        if (has && lstat(apr_pstrcat(p, root, "/" ZDDC_MARKER, NULL),
                         &sb) != 0) {
            return apr_psprintf(p, "'%s' is not empty and has no "
                                ZDDC_MARKER " marker: refusing to adopt "
                                "(and later purge) someone else's files; "
                                "point ZddcCacheRoot at an empty or new "
                                "directory, or create the marker by hand if "
                                "this really is a mirror tree", root);
        }
        /* An empty root is adopted at start-up (given to User) when the
         * server starts as root; otherwise User must be able to write. */
        probe = (!has && geteuid() == 0) ? PROBE_OK
                : probe_as(root, W_OK | X_OK, user_name, uid, gid);
        if (probe == PROBE_DENIED) {
            return apr_psprintf(p, "%s cannot create files in '%s' (make it "
                                "owned by that user, mode 0750)",
                                who(p, user_name, uid), root);
        }
    }
    else if (errno != ENOENT) {
        return apr_psprintf(p, "cannot stat '%s': %s", root, strerror(errno));
    }
    else {
        /* Missing: start-up creates it (as root, then gives it to User);
         * User must still be able to reach it. */
        dir = apr_pstrdup(p, root);
        for (;;) {
            char *slash = strrchr(dir, '/');
            if (!slash || slash == dir) {
                dir = apr_pstrdup(p, "/");
            }
            else {
                *slash = '\0';
            }
            if (lstat(dir, &sb) == 0) {
                break;
            }
            if (!strcmp(dir, "/")) {
                return apr_psprintf(p, "cannot stat '/': %s",
                                    strerror(errno));
            }
        }
        if (!S_ISDIR(sb.st_mode)) {
            return apr_psprintf(p, "cannot create '%s': '%s' is not a "
                                "directory", root, dir);
        }
        probe = probe_as(dir, X_OK, user_name, uid, gid);
        if (probe == PROBE_DENIED) {
            return apr_psprintf(p, "%s cannot reach '%s' (no search "
                                "permission on '%s' or above)",
                                who(p, user_name, uid), root, dir);
        }
    }
    if (probe == PROBE_NO_ID) {
        return apr_psprintf(p, "cannot check '%s' as %s: switching to that "
                            "identity failed", root, who(p, user_name, uid));
    }
    return NULL;
}

/* The root as the kernel sees it when it exists (symlinks resolved), so
 * two spellings of one directory are one root. */
static const char *canonical(apr_pool_t *p, const char *root)
{
    char buf[PATH_MAX];

    if (realpath(root, buf)) {
        return apr_pstrdup(p, buf);
    }
    return root;
}

static int inside(const char *outer, const char *inner)
{
    apr_size_t n = strlen(outer);

    return strncmp(outer, inner, n) == 0 && inner[n] == '/';
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

const char *zddc_rootcheck_scopes(apr_pool_t *p,
                                  const apr_array_header_t *scopes)
{
    int i, j, n = scopes->nelts;
    const char **canon = apr_pcalloc(p, sizeof(*canon) * (n ? n : 1));

    for (i = 0; i < n; i++) {
        canon[i] = canonical(p, APR_ARRAY_IDX(scopes, i, zddc_root_scope).root);
    }
    for (i = 0; i < n; i++) {
        const zddc_root_scope *a = &APR_ARRAY_IDX(scopes, i, zddc_root_scope);
        for (j = i + 1; j < n; j++) {
            const zddc_root_scope *b = &APR_ARRAY_IDX(scopes, j,
                                                      zddc_root_scope);
            if (!strcmp(canon[i], canon[j])) {
                if (!same(a->upstream, b->upstream)
                    || !same(a->bearer, b->bearer)) {
                    return apr_psprintf(p, "virtual hosts %s and %s share "
                                        "the cache root '%s' with a "
                                        "different %s: one cache root holds "
                                        "one scope, or a copy fetched with "
                                        "one token would be served to users "
                                        "of the other; give each its own "
                                        "ZddcCacheRoot", a->host, b->host,
                                        a->root,
                                        same(a->upstream, b->upstream)
                                        ? "bearer token" : "upstream");
                }
            }
            else if (inside(canon[i], canon[j]) || inside(canon[j], canon[i])) {
                int a_out = inside(canon[i], canon[j]);
                return apr_psprintf(p, "the cache root '%s' of %s lies inside "
                                    "the cache root '%s' of %s: the outer "
                                    "host's walks would purge it",
                                    a_out ? b->root : a->root,
                                    a_out ? b->host : a->host,
                                    a_out ? a->root : b->root,
                                    a_out ? a->host : b->host);
            }
        }
    }
    return NULL;
}
