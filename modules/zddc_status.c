/* The status page: per Cache/Mirror vhost its upstream and cache root; per
 * subtree the last walk, next eligible time and walk in flight (SPEC §7). */
#include <apr_strings.h>
#include <apr_uri.h>
#include <unistd.h>

#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_main.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>

#include "zddc_status.h"
#include "zddc_status_int.h"
#include "zddc_config.h"
#include "zddc_sched.h"
#include "zddc_json.h"
#include "zddc_util.h"
#include "zddc_listing.h"
#include "zddc_state.h"
#include "zddc_version.h"

/* How often the HTML page reloads itself while a walk is in flight. */
#define STATUS_REFRESH_SECONDS 5

static const char *mode_name(zddc_mode_e mode)
{
    return mode == ZDDC_MODE_MIRROR ? "mirror" : "cache";
}

/* The upstream URL as shown: no userinfo and no query, whatever was
 * configured (the bearer itself is never part of it). */
static const char *safe_upstream(apr_pool_t *p, const char *url)
{
    apr_uri_t uri;

    if (!url) {
        return "";
    }
    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS) {
        return "(unparsable URL)";
    }
    uri.query = NULL;
    uri.fragment = NULL;
    return apr_uri_unparse(p, &uri, APR_URI_UNP_OMITUSERINFO);
}

/* Milliseconds, or whole seconds past a minute. */
static const char *duration(apr_pool_t *p, apr_interval_time_t d)
{
    if (d >= apr_time_from_sec(60)) {
        return zddc_duration_format(p, apr_time_from_sec(apr_time_sec(d)));
    }
    return zddc_duration_format(p, apr_time_from_msec(apr_time_as_msec(d)));
}

static const char *server_name(server_rec *s, apr_pool_t *p)
{
    const char *host = s->server_hostname ? s->server_hostname : "(unnamed)";

    if (s->addrs && s->addrs->host_port) {
        return apr_psprintf(p, "%s:%u", host, (unsigned)s->addrs->host_port);
    }
    return host;
}

apr_array_header_t *zddc_status_collect(request_rec *r, server_rec *only)
{
    apr_array_header_t *out = apr_array_make(r->pool, 4,
                                             sizeof(zddc_status_vhost));
    server_rec *s;

    for (s = only ? only : ap_server_conf; s; s = only ? NULL : s->next) {
        zddc_server_conf *conf = zddc_config_get(s);
        zddc_status_vhost *v;

        if (!conf || (conf->mode != ZDDC_MODE_CACHE
                      && conf->mode != ZDDC_MODE_MIRROR)) {
            continue;
        }
        v = apr_array_push(out);
        memset(v, 0, sizeof(*v));
        v->s = s;
        v->conf = conf;
        v->name = server_name(s, r->pool);
        v->upstream = safe_upstream(r->pool, conf->upstream);
        if (conf->mode == ZDDC_MODE_MIRROR && conf->subtrees) {
            v->slots = zddc_sched_snapshot(conf, r->pool);
            v->nsubtrees = v->slots ? conf->subtrees->nelts : 0;
        }
        v->has_counts = zddc_metrics_get(conf, &v->counts);
    }
    return out;
}

void zddc_status_subtree_get(const zddc_status_vhost *v, int i,
                             apr_time_t now, zddc_status_subtree *st)
{
    const zddc_sched_slot *slot = &v->slots[i];

    st->path = APR_ARRAY_IDX(v->conf->subtrees, i, const char *);
    st->slot = slot;
    st->in_flight = zddc_sched_slot_in_flight(slot, v->conf, now);
    st->next_eligible_at = slot->last.last_walk_at
                           ? slot->last.last_walk_at + v->conf->min_interval
                           : now;
    if (st->next_eligible_at < now) {
        st->next_eligible_at = now;
    }
    st->due = !st->in_flight && st->next_eligible_at <= now;
    st->last_success_at = slot->last.last_success_at;
}

static const char *json_time(apr_pool_t *p, apr_time_t t)
{
    return t ? zddc_json_quote(p, zddc_rfc3339_format(p, t)) : "null";
}

static const char *json_counts(apr_pool_t *p, const zddc_walk_counts *c)
{
    return apr_psprintf(p, "\"dirs\":%" APR_UINT64_T_FMT ",\"files\":%"
                        APR_UINT64_T_FMT ",\"done\":%" APR_UINT64_T_FMT
                        ",\"fetched\":%" APR_UINT64_T_FMT ",\"skipped\":%"
                        APR_UINT64_T_FMT ",\"purged\":%" APR_UINT64_T_FMT
                        ",\"errors\":%" APR_UINT64_T_FMT ",\"bytes\":%"
                        APR_UINT64_T_FMT ",\"busy\":%" APR_UINT64_T_FMT,
                        c->dirs, c->files, c->done, c->fetched, c->skipped,
                        c->purged, c->errors, c->bytes, c->busy);
}

/* The last walk's change report of a subtree (SPEC §6.8), as the walk's
 * process left it beside the state file. */
static const char *status_report_json(const zddc_status_vhost *v,
                                      const char *subtree, apr_pool_t *p)
{
    zddc_walk_report *rep;

    if (zddc_report_load(v->conf, subtree, &rep, p) != APR_SUCCESS) {
        return "null";
    }
    return zddc_report_serialize(subtree, rep, p);
}

static void status_html_paths(request_rec *r, const char *what,
                              const apr_array_header_t *a, apr_uint64_t total)
{
    int i;

    if (!total) {
        return;
    }
    ap_rprintf(r, "<details><summary>%s: %" APR_UINT64_T_FMT "%s</summary>"
               "<ul class=\"paths\">", what, total,
               total > (apr_uint64_t)a->nelts ? apr_psprintf(r->pool,
               " (the first %d shown)", a->nelts) : "");
    for (i = 0; i < a->nelts; i++) {
        ap_rprintf(r, "<li>%s</li>",
                   zddc_html_escape(r->pool, APR_ARRAY_IDX(a, i,
                                                           const char *)));
    }
    ap_rputs("</ul></details>", r);
}

static void status_html_report(request_rec *r, const zddc_status_vhost *v,
                               const char *subtree)
{
    zddc_walk_report *rep;

    if (zddc_report_load(v->conf, subtree, &rep, r->pool) != APR_SUCCESS) {
        return;
    }
    if (!rep->fetched_total && !rep->purged_total
        && !rep->would_purge_total) {
        ap_rputs("<br><span class=\"fig\">no changes</span>", r);
        return;
    }
    status_html_paths(r, "fetched", rep->fetched, rep->fetched_total);
    status_html_paths(r, "purged", rep->purged, rep->purged_total);
    status_html_paths(r, "would have purged (refused)", rep->would_purge,
                      rep->would_purge_total);
}

/* "requests":{"HIT":n,...},"served_bytes":n,"upstream_requests":n,
 * "upstream_errors":{"connect":n,...},"counters_since":time */
static const char *json_counters(apr_pool_t *p, const zddc_metrics_counts *c)
{
    const char *out = "\"requests\":{";
    int k;

    for (k = 0; k < ZDDC_NVERDICTS; k++) {
        out = apr_psprintf(p, "%s%s\"%s\":%" APR_UINT64_T_FMT, out,
                           k ? "," : "", zddc_verdict_names[k],
                           c->requests[k]);
    }
    out = apr_psprintf(p, "%s},\"served_bytes\":%" APR_UINT64_T_FMT
                       ",\"upstream_requests\":%" APR_UINT64_T_FMT
                       ",\"upstream_errors\":{", out, c->served_bytes,
                       c->upstream_requests);
    for (k = 0; k < ZDDC_NUPERRS; k++) {
        out = apr_psprintf(p, "%s%s\"%s\":%" APR_UINT64_T_FMT, out,
                           k ? "," : "", zddc_uperr_names[k],
                           c->upstream_errors[k]);
    }
    return apr_psprintf(p, "%s},\"counters_since\":%s", out,
                        json_time(p, c->since));
}

static void status_json(request_rec *r, apr_array_header_t *vhosts,
                        apr_time_t now)
{
    apr_pool_t *p = r->pool;
    int i, j;

    ap_rprintf(r, "{\"version\":\"" ZDDC_VERSION "\",\"generated_at\":%s,"
               "\"pid\":%" APR_PID_T_FMT ",\"vhosts\":[", json_time(p, now),
               getpid());
    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        ap_rprintf(r, "%s{\"server\":%s,\"mode\":\"%s\",\"upstream\":%s,"
                   "\"cache_root\":%s", i ? "," : "",
                   zddc_json_quote(p, v->name), mode_name(v->conf->mode),
                   zddc_json_quote(p, v->upstream),
                   zddc_json_quote(p, v->conf->cache_root
                                      ? v->conf->cache_root : ""));
        if (v->conf->mode == ZDDC_MODE_MIRROR) {
            ap_rprintf(r, ",\"min_interval\":%s,\"parallelism\":%d,"
                       "\"max_purge\":%" APR_INT64_T_FMT,
                       zddc_json_quote(p, zddc_duration_format(
                                              p, v->conf->min_interval)),
                       v->conf->parallelism, v->conf->max_purge);
        }
        if (v->has_counts) {
            ap_rprintf(r, ",%s", json_counters(p, &v->counts));
        }
        ap_rputs(",\"subtrees\":[", r);
        for (j = 0; j < v->nsubtrees; j++) {
            zddc_status_subtree st;
            const zddc_sched_slot *sl;

            zddc_status_subtree_get(v, j, now, &st);
            sl = st.slot;
            ap_rprintf(r, "%s{\"path\":%s,\"last_walk_at\":%s,"
                       "\"last_success_at\":%s,"
                       "\"next_eligible_at\":%s,\"due\":%s,\"in_flight\":",
                       j ? "," : "", zddc_json_quote(p, st.path),
                       json_time(p, sl->last.last_walk_at),
                       json_time(p, st.last_success_at),
                       json_time(p, st.next_eligible_at),
                       st.due ? "true" : "false");
            if (st.in_flight) {
                ap_rprintf(r, "{\"pid\":%" APR_PID_T_FMT ",\"state\":\"%s\","
                           "\"started_at\":%s,%s}", sl->pid,
                           sl->state == ZDDC_SLOT_RUNNING ? "running"
                                                          : "queued",
                           json_time(p, sl->started_at),
                           json_counts(p, &sl->live));
            }
            else {
                ap_rputs("null", r);
            }
            ap_rputs(",\"last\":", r);
            if (sl->last.last_walk_at) {
                zddc_walk_counts c;

                zddc_walk_counts_from_rec(&sl->last, sl->last_busy, &c);
                ap_rprintf(r, "{\"ended_at\":%s,\"duration\":%s,"
                           "\"status\":\"%s\",\"message\":%s,%s}",
                           json_time(p, sl->last.last_walk_at),
                           zddc_json_quote(p, duration(p,
                                                       sl->last.duration)),
                           !sl->last_failed ? "ok"
                           : sl->last_offline ? "offline" : "failed",
                           sl->last_error[0]
                               ? zddc_json_quote(p, sl->last_error) : "null",
                           json_counts(p, &c));
            }
            else {
                ap_rputs("null", r);
            }
            ap_rputs(",\"report\":", r);
            ap_rputs(status_report_json(v, st.path, p), r);
            ap_rputs("}", r);
        }
        ap_rputs("]}", r);
    }
    ap_rputs("]}\n", r);
}

/* "5m ago" / "in 5m", whole seconds. */
static const char *relative(apr_pool_t *p, apr_time_t t, apr_time_t now)
{
    apr_interval_time_t d = t > now ? t - now : now - t;
    const char *ds = zddc_duration_format(p, apr_time_from_sec(
                                                 apr_time_sec(d)));

    return t > now ? apr_pstrcat(p, "in ", ds, NULL)
                   : apr_pstrcat(p, ds, " ago", NULL);
}

static const char *html_time(apr_pool_t *p, apr_time_t t, apr_time_t now)
{
    return apr_psprintf(p, "%s <span class=\"rel\">(%s)</span>",
                        zddc_html_escape(p, zddc_rfc3339_format(p, t)),
                        zddc_html_escape(p, relative(p, t, now)));
}

static const char *html_size(apr_pool_t *p, apr_uint64_t bytes)
{
    char buf[8];

    apr_strfsize((apr_off_t)bytes, buf);
    while (buf[0] == ' ') {
        memmove(buf, buf + 1, strlen(buf));
    }
    return apr_pstrcat(p, buf, "B", NULL);
}

/* Files another download held past the walk's wait: shown when any. */
static const char *html_busy(apr_pool_t *p, apr_uint64_t busy)
{
    if (!busy) {
        return "";
    }
    return apr_psprintf(p, ", %" APR_UINT64_T_FMT " busy (left for the next "
                        "walk)", busy);
}

static void status_html_subtree(request_rec *r, const zddc_status_vhost *v,
                                int i, apr_time_t now)
{
    apr_pool_t *p = r->pool;
    zddc_status_subtree st;
    const zddc_sched_slot *sl;

    zddc_status_subtree_get(v, i, now, &st);
    sl = st.slot;
    ap_rprintf(r, "<tr><td class=\"path\">%s</td>\n<td>",
               zddc_html_escape(p, st.path));

    if (sl->last.last_walk_at) {
        ap_rprintf(r, "%s, took %s",
                   html_time(p, sl->last.last_walk_at, now),
                   zddc_html_escape(p, duration(p, sl->last.duration)));
        if (sl->last_failed) {
            ap_rprintf(r, "<br><span class=\"bad\">failed: %s</span>",
                       zddc_html_escape(p, sl->last_error));
        }
        if (st.last_success_at && st.last_success_at
                                  != sl->last.last_walk_at) {
            ap_rprintf(r, "<br>last success %s",
                       html_time(p, st.last_success_at, now));
        }
        else if (sl->last_error[0]) {
            ap_rprintf(r, "<br><span class=\"bad\">%s</span>",
                       zddc_html_escape(p, sl->last_error));
        }
        ap_rprintf(r, "<br><span class=\"fig\">%" APR_UINT64_T_FMT " dirs, %"
                   APR_UINT64_T_FMT " files, %" APR_UINT64_T_FMT " fetched, %"
                   APR_UINT64_T_FMT " skipped, %" APR_UINT64_T_FMT
                   " purged, %" APR_UINT64_T_FMT " errors, %s%s</span>",
                   sl->last.dirs, sl->last.files, sl->last.fetched,
                   sl->last.skipped, sl->last.purged, sl->last.errors,
                   html_size(p, sl->last.bytes), html_busy(p, sl->last_busy));
        status_html_report(r, v, st.path);
    }
    else {
        ap_rputs("never", r);
    }

    ap_rputs("</td>\n<td>", r);
    if (st.in_flight) {
        ap_rputs("after the walk in flight", r);
    }
    else if (st.due) {
        ap_rputs("now (next request under it)", r);
    }
    else {
        ap_rputs(html_time(p, st.next_eligible_at, now), r);
    }

    ap_rputs("</td>\n<td>", r);
    if (st.in_flight) {
        const zddc_walk_counts *c = &sl->live;
        int pct = c->files ? (int)(c->done * 100 / c->files) : 0;

        ap_rprintf(r, "%s in process %" APR_PID_T_FMT " since %s<br>",
                   sl->state == ZDDC_SLOT_RUNNING ? "running" : "queued",
                   sl->pid, html_time(p, sl->started_at, now));
        ap_rprintf(r, "<progress max=\"%" APR_UINT64_T_FMT "\" value=\"%"
                   APR_UINT64_T_FMT "\">%d%%</progress> %" APR_UINT64_T_FMT
                   " / %" APR_UINT64_T_FMT " files seen so far<br>",
                   c->files ? c->files : 1, c->done, pct, c->done, c->files);
        ap_rprintf(r, "<span class=\"fig\">%" APR_UINT64_T_FMT " dirs, %"
                   APR_UINT64_T_FMT " fetched, %" APR_UINT64_T_FMT
                   " skipped, %" APR_UINT64_T_FMT " purged, %"
                   APR_UINT64_T_FMT " errors, %s%s</span>",
                   c->dirs, c->fetched, c->skipped, c->purged, c->errors,
                   html_size(p, c->bytes), html_busy(p, c->busy));
    }
    else {
        ap_rputs("&mdash;", r);
    }
    ap_rputs("</td></tr>\n", r);
}

/* Rows of the vhost table: requests by verdict, bytes, upstream. */
static void status_html_counters(request_rec *r, const zddc_metrics_counts *c,
                                 apr_time_t now)
{
    apr_pool_t *p = r->pool;
    int k;

    ap_rputs("<tr><th>requests</th><td class=\"fig\">", r);
    for (k = 0; k < ZDDC_NVERDICTS; k++) {
        ap_rprintf(r, "%s%s %" APR_UINT64_T_FMT, k ? ", " : "",
                   zddc_verdict_names[k], c->requests[k]);
    }
    ap_rprintf(r, "<br>since %s</td></tr>\n<tr><th>served</th><td>%s "
               "(%" APR_UINT64_T_FMT " bytes)</td></tr>\n"
               "<tr><th>upstream requests</th><td class=\"fig\">%"
               APR_UINT64_T_FMT "; errors: ", html_time(p, c->since, now),
               html_size(p, c->served_bytes), c->served_bytes,
               c->upstream_requests);
    for (k = 0; k < ZDDC_NUPERRS; k++) {
        ap_rprintf(r, "%s%s %" APR_UINT64_T_FMT, k ? ", " : "",
                   zddc_uperr_names[k], c->upstream_errors[k]);
    }
    ap_rputs("</td></tr>\n", r);
}

static void status_html_body(request_rec *r, apr_array_header_t *vhosts,
                             apr_time_t now, const char *h)
{
    apr_pool_t *p = r->pool;
    int i, j;

    if (vhosts->nelts == 0) {
        ap_rputs("<p>This virtual host is not in Cache or Mirror mode.</p>\n",
                 r);
        return;
    }
    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        ap_rprintf(r, "<%s>%s</%s>\n<table class=\"kv\">\n"
                   "<tr><th>mode</th><td>%s</td></tr>\n"
                   "<tr><th>upstream</th><td>%s</td></tr>\n"
                   "<tr><th>cache root</th><td>%s</td></tr>\n", h,
                   zddc_html_escape(p, v->name), h,
                   v->conf->mode == ZDDC_MODE_MIRROR ? "Mirror" : "Cache",
                   zddc_html_escape(p, v->upstream),
                   zddc_html_escape(p, v->conf->cache_root
                                       ? v->conf->cache_root : ""));
        if (v->conf->mode == ZDDC_MODE_MIRROR) {
            ap_rprintf(r, "<tr><th>walks</th><td>at most every %s, %d "
                       "parallel requests, timeout %s, max purge %s</td>"
                       "</tr>\n",
                       zddc_html_escape(p, zddc_duration_format(
                                               p, v->conf->min_interval)),
                       v->conf->parallelism,
                       zddc_html_escape(p, zddc_duration_format(
                                               p, v->conf->walk_timeout)),
                       v->conf->max_purge < 0 ? "unlimited"
                       : apr_psprintf(p, "%" APR_INT64_T_FMT,
                                      v->conf->max_purge));
        }
        if (v->has_counts) {
            status_html_counters(r, &v->counts, now);
        }
        ap_rputs("</table>\n", r);
        if (v->nsubtrees == 0) {
            continue;
        }
        ap_rputs("<table class=\"walks\">\n<tr><th>subtree</th>"
                 "<th>last walk</th><th>next eligible</th>"
                 "<th>walk in flight</th></tr>\n", r);
        for (j = 0; j < v->nsubtrees; j++) {
            status_html_subtree(r, v, j, now);
        }
        ap_rputs("</table>\n", r);
    }
}

/* The two actions as forms posting back to this page (SPEC §7). */
static void status_html_forms(request_rec *r, apr_array_header_t *vhosts)
{
    apr_pool_t *p = r->pool;
    const char *self;
    zddc_status_vhost *v;
    int j;

    if (vhosts->nelts != 1) {
        return;
    }
    v = &APR_ARRAY_IDX(vhosts, 0, zddc_status_vhost);
    self = ap_escape_html(p, r->uri);
    ap_rputs("<h2>Actions</h2>\n", r);
    if (v->conf->mode == ZDDC_MODE_MIRROR && v->conf->subtrees
        && v->conf->subtrees->nelts > 0) {
        ap_rprintf(r, "<form method=\"post\" action=\"%s\">"
                   "<input type=\"hidden\" name=\"action\" value=\"walk\">"
                   "\n<label>Walk <select name=\"subtree\">", self);
        for (j = 0; j < v->conf->subtrees->nelts; j++) {
            const char *sub = zddc_html_escape(
                p, APR_ARRAY_IDX(v->conf->subtrees, j, const char *));

            ap_rprintf(r, "<option value=\"%s\">%s</option>", sub, sub);
        }
        ap_rputs("</select></label> <button type=\"submit\">now</button> "
                 "<span class=\"rel\">(ignores the minimum interval; "
                 "refused while a walk of it is in flight)</span></form>\n",
                 r);
    }
    ap_rprintf(r, "<form method=\"post\" action=\"%s\">"
               "<input type=\"hidden\" name=\"action\" value=\"purge\">\n"
               "<label>Purge the local copy of <input name=\"path\" "
               "size=\"50\" required placeholder=\"/Project 123456/old.pdf"
               "\"></label> <button type=\"submit\">purge</button> "
               "<span class=\"rel\">(a folder: everything under it; "
               "nothing is sent upstream)</span></form>\n", self);
}

static int any_in_flight(apr_array_header_t *vhosts, apr_time_t now)
{
    int i, j;

    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        for (j = 0; j < v->nsubtrees; j++) {
            if (zddc_sched_slot_in_flight(&v->slots[j], v->conf, now)) {
                return 1;
            }
        }
    }
    return 0;
}

typedef enum {
    FMT_HTML, FMT_JSON, FMT_PROMETHEUS, FMT_OPENMETRICS
} status_format_e;

/* ?format=prometheus|openmetrics|json|html, else by Accept: OpenMetrics
 * when named (Prometheus asks for it first), the 0.0.4 text format for
 * text/plain;version=0.0.4, JSON, else HTML. */
static status_format_e status_format(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    if (r->args) {
        char *args = apr_pstrdup(r->pool, r->args), *state = NULL, *kv;

        for (kv = apr_strtok(args, "&", &state); kv;
             kv = apr_strtok(NULL, "&", &state)) {
            if (!strcmp(kv, "format=prometheus")) {
                return FMT_PROMETHEUS;
            }
            if (!strcmp(kv, "format=openmetrics")) {
                return FMT_OPENMETRICS;
            }
            if (!strcmp(kv, "format=json")) {
                return FMT_JSON;
            }
            if (!strcmp(kv, "format=html")) {
                return FMT_HTML;
            }
        }
    }
    if (accept) {
        if (ap_strcasestr(accept, "application/openmetrics-text")) {
            return FMT_OPENMETRICS;
        }
        if (ap_strcasestr(accept, "text/plain")
            && ap_strcasestr(accept, "version=0.0.4")) {
            return FMT_PROMETHEUS;
        }
    }
    return zddc_accept_wants_json(accept) ? FMT_JSON : FMT_HTML;
}

int zddc_status_handler(request_rec *r)
{
    status_format_e fmt;
    apr_array_header_t *vhosts;
    apr_time_t now;

    if (!r->handler || strcmp(r->handler, ZDDC_STATUS_HANDLER)) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (r->method_number == M_POST) {
        return zddc_status_action(r);
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }

    now = apr_time_now();
    vhosts = zddc_status_collect(r, r->server);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->headers_out, "Vary", "Accept");

    fmt = status_format(r);
    if (fmt == FMT_PROMETHEUS || fmt == FMT_OPENMETRICS) {
        ap_set_content_type(r, fmt == FMT_OPENMETRICS
                            ? "application/openmetrics-text; version=1.0.0; "
                              "charset=utf-8"
                            : "text/plain; version=0.0.4; charset=utf-8");
        if (!r->header_only) {
            zddc_status_prometheus(r, vhosts, now, fmt == FMT_OPENMETRICS);
        }
        return OK;
    }
    if (fmt == FMT_JSON) {
        ap_set_content_type(r, "application/json");
        if (!r->header_only) {
            status_json(r, vhosts, now);
        }
        return OK;
    }

    ap_set_content_type(r, "text/html; charset=utf-8");
    if (r->header_only) {
        return OK;
    }
    ap_rputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n", r);
    if (any_in_flight(vhosts, now)) {
        ap_rprintf(r, "<meta http-equiv=\"refresh\" content=\"%d\">\n",
                   STATUS_REFRESH_SECONDS);
    }
    ap_rputs("<title>ZDDC mirror status</title>\n<style>\n"
             "body{font-family:sans-serif;margin:1.5em}\n"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
             "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
             "vertical-align:top}\n"
             "table.kv th{background:#f4f4f4;font-weight:normal}\n"
             "table.walks th{background:#eee}\n"
             ".path{font-family:monospace}\n.rel,.fig{color:#555}\n"
             ".bad{color:#a00}\nprogress{width:14em}\n"
             "</style></head><body>\n<h1>ZDDC mirror status</h1>\n", r);
    ap_rprintf(r, "<p>mod_zddc_mirror/" ZDDC_VERSION ", %s, served by "
               "process %" APR_PID_T_FMT "</p>\n",
               zddc_html_escape(r->pool, zddc_rfc3339_format(r->pool, now)),
               getpid());
    status_html_body(r, vhosts, now, "h2");
    status_html_forms(r, vhosts);
    ap_rputs("</body></html>\n", r);
    return OK;
}

static void status_short(request_rec *r, apr_array_header_t *vhosts,
                         apr_time_t now)
{
    apr_pool_t *p = r->pool;
    int i, j;

    for (i = 0; i < vhosts->nelts; i++) {
        zddc_status_vhost *v = &APR_ARRAY_IDX(vhosts, i, zddc_status_vhost);

        ap_rprintf(r, "ZddcVhost: %s mode=%s upstream=%s cache_root=%s\n",
                   v->name, mode_name(v->conf->mode), v->upstream,
                   v->conf->cache_root ? v->conf->cache_root : "");
        for (j = 0; j < v->nsubtrees; j++) {
            zddc_status_subtree st;
            const zddc_sched_slot *sl;

            zddc_status_subtree_get(v, j, now, &st);
            sl = st.slot;
            ap_rprintf(r, "ZddcSubtree: %s %s last_walk_at=%s "
                       "next_eligible_at=%s",
                       v->name, st.path,
                       sl->last.last_walk_at
                           ? zddc_rfc3339_format(p, sl->last.last_walk_at)
                           : "never",
                       zddc_rfc3339_format(p, st.next_eligible_at));
            if (st.in_flight) {
                ap_rprintf(r, " in_flight_pid=%" APR_PID_T_FMT
                           " started_at=%s dirs=%" APR_UINT64_T_FMT
                           " files=%" APR_UINT64_T_FMT " done=%"
                           APR_UINT64_T_FMT " fetched=%" APR_UINT64_T_FMT
                           " skipped=%" APR_UINT64_T_FMT " purged=%"
                           APR_UINT64_T_FMT " errors=%" APR_UINT64_T_FMT
                           " bytes=%" APR_UINT64_T_FMT " busy=%"
                           APR_UINT64_T_FMT "\n", sl->pid,
                           zddc_rfc3339_format(p, sl->started_at),
                           sl->live.dirs, sl->live.files, sl->live.done,
                           sl->live.fetched, sl->live.skipped,
                           sl->live.purged, sl->live.errors, sl->live.bytes,
                           sl->live.busy);
            }
            else {
                ap_rprintf(r, " in_flight_pid=0 dirs=%" APR_UINT64_T_FMT
                           " files=%" APR_UINT64_T_FMT " fetched=%"
                           APR_UINT64_T_FMT " skipped=%" APR_UINT64_T_FMT
                           " purged=%" APR_UINT64_T_FMT " errors=%"
                           APR_UINT64_T_FMT " bytes=%" APR_UINT64_T_FMT
                           " busy=%" APR_UINT64_T_FMT "\n",
                           sl->last.dirs, sl->last.files, sl->last.fetched,
                           sl->last.skipped, sl->last.purged,
                           sl->last.errors, sl->last.bytes, sl->last_busy);
            }
        }
    }
}

int zddc_status_hook(request_rec *r, int flags)
{
    apr_array_header_t *vhosts = zddc_status_collect(r, NULL);
    apr_time_t now = apr_time_now();

    if (vhosts->nelts == 0) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        status_short(r, vhosts, now);
        return OK;
    }
    ap_rputs("<hr>\n<h2>ZDDC mirror</h2>\n", r);
    status_html_body(r, vhosts, now, "h3");
    return OK;
}
