/* The status page as Prometheus text (0.0.4) or OpenMetrics 1.0 (SPEC §7):
 * zddc_* counters per vhost, walk gauges per subtree. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_protocol.h>

#include "zddc_status_int.h"
#include "zddc_version.h"

typedef struct {
    request_rec *r;
    int om;                     /* OpenMetrics */
} prom_out;

/* A label value: backslash, double quote and newline escaped (the same
 * rule in both formats). */
static const char *label_escape(apr_pool_t *p, const char *v)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *d;

    for (s = v; *s; s++) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    out = d = apr_palloc(p, n + 1);
    for (s = v; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *d++ = '\\';
            *d++ = *s;
        }
        else if (*s == '\n') {
            *d++ = '\\';
            *d++ = 'n';
        }
        else {
            *d++ = *s;
        }
    }
    *d = '\0';
    return out;
}

/* HELP and TYPE lines. A counter's samples end in _total; OpenMetrics
 * names its family without the suffix, the 0.0.4 text format with it. */
static void family(prom_out *o, const char *name, const char *type,
                   const char *help)
{
    apr_size_t n = strlen(name);
    const char *fam = name;

    if (o->om && !strcmp(type, "counter") && n > 6
        && !strcmp(name + n - 6, "_total")) {
        fam = apr_pstrmemdup(o->r->pool, name, n - 6);
    }
    ap_rprintf(o->r, "# HELP %s %s\n# TYPE %s %s\n", fam, help, fam, type);
}

static const char *vhost_label(prom_out *o, const zddc_status_vhost *v)
{
    return apr_pstrcat(o->r->pool, "vhost=\"",
                       label_escape(o->r->pool, v->name), "\"", NULL);
}

static void sample(prom_out *o, const char *name, const char *labels,
                   apr_uint64_t value)
{
    ap_rprintf(o->r, "%s{%s} %" APR_UINT64_T_FMT "\n", name, labels, value);
}

static void counters(prom_out *o, apr_array_header_t *vhosts)
{
    apr_pool_t *p = o->r->pool;
    int i, k;

    family(o, "zddc_requests_total", "counter",
           "Requests answered by the cache pipeline, by X-Zddc-Cache "
           "verdict.");
    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        for (k = 0; k < ZDDC_NVERDICTS; k++) {
            sample(o, "zddc_requests_total",
                   apr_pstrcat(p, vhost_label(o, v), ",verdict=\"",
                               zddc_verdict_names[k], "\"", NULL),
                   v->counts.requests[k]);
        }
    }
    family(o, "zddc_served_bytes_total", "counter",
           "Body bytes sent to clients by the cache pipeline.");
    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        sample(o, "zddc_served_bytes_total", vhost_label(o, v),
               v->counts.served_bytes);
    }
    family(o, "zddc_upstream_requests_total", "counter",
           "Requests sent to the upstream (client requests and walks).");
    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        sample(o, "zddc_upstream_requests_total", vhost_label(o, v),
               v->counts.upstream_requests);
    }
    family(o, "zddc_upstream_errors_total", "counter",
           "Upstream requests that failed, by kind.");
    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        for (k = 0; k < ZDDC_NUPERRS; k++) {
            sample(o, "zddc_upstream_errors_total",
                   apr_pstrcat(p, vhost_label(o, v), ",kind=\"",
                               zddc_uperr_names[k], "\"", NULL),
                   v->counts.upstream_errors[k]);
        }
    }
}

/* The walk gauges, one family at a time over every subtree. */
enum {
    G_IN_FLIGHT, G_LAST, G_LAST_SUCCESS, G_NEXT, G_DURATION, G_FAILED,
    G_DIRS, G_FILES, G_FETCHED, G_SKIPPED, G_PURGED, G_ERRORS, G_BYTES,
    NGAUGES
};

static const struct {
    const char *name;
    const char *help;
} gauges[NGAUGES] = {
    { "zddc_walk_in_flight", "1 while a walk of the subtree is in flight." },
    { "zddc_walk_last_timestamp_seconds",
      "When the last walk of the subtree ended (0: never walked)." },
    { "zddc_walk_last_success_timestamp_seconds",
      "When the last successful walk of the subtree ended (0: none known)." },
    { "zddc_walk_next_eligible_timestamp_seconds",
      "From when a request under the subtree starts a walk." },
    { "zddc_walk_last_duration_seconds", "How long the last walk took." },
    { "zddc_walk_last_failed", "1 when the last walk failed." },
    { "zddc_walk_dirs", "Directories listed by the last walk." },
    { "zddc_walk_files", "Files seen by the last walk." },
    { "zddc_walk_fetched", "Files downloaded by the last walk." },
    { "zddc_walk_skipped", "Files found current by the last walk." },
    { "zddc_walk_purged", "Local entries purged by the last walk." },
    { "zddc_walk_errors", "Errors of the last walk." },
    { "zddc_walk_bytes", "Body bytes downloaded by the last walk." },
};

static void gauge_value(request_rec *r, int g, const zddc_status_subtree *st)
{
    const zddc_sched_slot *sl = st->slot;
    const zddc_state_rec *l = &sl->last;
    apr_uint64_t v = 0;

    switch (g) {
    case G_IN_FLIGHT:    v = st->in_flight ? 1 : 0; break;
    case G_LAST:         v = (apr_uint64_t)apr_time_sec(l->last_walk_at);
                         break;
    case G_LAST_SUCCESS: v = (apr_uint64_t)apr_time_sec(st->last_success_at);
                         break;
    case G_NEXT:         v = (apr_uint64_t)apr_time_sec(st->next_eligible_at);
                         break;
    case G_DURATION:
        ap_rprintf(r, "%.3f\n", (double)l->duration / APR_USEC_PER_SEC);
        return;
    case G_FAILED:       v = l->last_walk_at && sl->last_failed ? 1 : 0; break;
    case G_DIRS:         v = l->dirs; break;
    case G_FILES:        v = l->files; break;
    case G_FETCHED:      v = l->fetched; break;
    case G_SKIPPED:      v = l->skipped; break;
    case G_PURGED:       v = l->purged; break;
    case G_ERRORS:       v = l->errors; break;
    case G_BYTES:        v = l->bytes; break;
    }
    ap_rprintf(r, "%" APR_UINT64_T_FMT "\n", v);
}

static void walks(prom_out *o, apr_array_header_t *vhosts, apr_time_t now)
{
    apr_pool_t *p = o->r->pool;
    int g, i, j, any = 0;

    for (i = 0; i < vhosts->nelts; i++) {
        any |= APR_ARRAY_IDX(vhosts, i, zddc_status_vhost).nsubtrees > 0;
    }
    if (!any) {
        return;
    }
    for (g = 0; g < NGAUGES; g++) {
        family(o, gauges[g].name, "gauge", gauges[g].help);
        for (i = 0; i < vhosts->nelts; i++) {
            zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i,
                                                  zddc_status_vhost);

            for (j = 0; j < v->nsubtrees; j++) {
                zddc_status_subtree st;

                zddc_status_subtree_get(v, j, now, &st);
                ap_rprintf(o->r, "%s{%s,subtree=\"%s\"} ", gauges[g].name,
                           vhost_label(o, v), label_escape(p, st.path));
                gauge_value(o->r, g, &st);
            }
        }
    }
}

void zddc_status_prometheus(request_rec *r, apr_array_header_t *vhosts,
                            apr_time_t now, int openmetrics)
{
    prom_out o = { r, openmetrics };

    family(&o, "zddc_build_info", "gauge",
           "The module's version, as a label; the value is always 1.");
    ap_rputs("zddc_build_info{version=\"" ZDDC_VERSION "\"} 1\n", r);
    counters(&o, vhosts);
    walks(&o, vhosts, now);
    if (openmetrics) {
        ap_rputs("# EOF\n", r);
    }
}
