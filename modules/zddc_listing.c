/* Directory listings as the mirror shows them: an HTML page rendered from a
 * parsed JSON listing (used offline, when only the JSON sidecar exists). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "zddc_listing.h"
#include "zddc_util.h"

const char *zddc_html_escape(apr_pool_t *p, const char *s)
{
    const char *c;
    char *out, *o;
    apr_size_t extra = 0;

    if (!s) {
        return "";
    }
    for (c = s; *c; c++) {
        switch (*c) {
        case '&':  extra += 4; break;   /* &amp;  */
        case '<':
        case '>':  extra += 3; break;   /* &lt; &gt; */
        case '"':  extra += 5; break;   /* &quot; */
        case '\'': extra += 4; break;   /* &#39;  */
        default:   break;
        }
    }
    if (!extra) {
        return s;
    }
    out = o = apr_palloc(p, (apr_size_t)(c - s) + extra + 1);
    for (c = s; *c; c++) {
        switch (*c) {
        case '&':  memcpy(o, "&amp;", 5);  o += 5; break;
        case '<':  memcpy(o, "&lt;", 4);   o += 4; break;
        case '>':  memcpy(o, "&gt;", 4);   o += 4; break;
        case '"':  memcpy(o, "&quot;", 6); o += 6; break;
        case '\'': memcpy(o, "&#39;", 5);  o += 5; break;
        default:   *o++ = *c; break;
        }
    }
    *o = '\0';
    return out;
}

static int entry_cmp(const void *a, const void *b)
{
    const zddc_listing_entry *x = *(const zddc_listing_entry *const *)a;
    const zddc_listing_entry *y = *(const zddc_listing_entry *const *)b;

    if (x->is_dir != y->is_dir) {
        return x->is_dir ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static const char *human_size(apr_pool_t *p, apr_off_t size)
{
    char buf[8];
    const char *s = apr_strfsize(size, buf);
    apr_size_t n;

    while (*s == ' ') {
        s++;
    }
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ') {
        n--;
    }
    return apr_pstrmemdup(p, s, n);
}

static const char *local_date(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;
    char buf[32];
    apr_size_t n = 0;

    if (apr_time_exp_lt(&tm, t) != APR_SUCCESS
        || apr_strftime(buf, &n, sizeof(buf), "%Y-%m-%d %H:%M", &tm)
           != APR_SUCCESS) {
        return zddc_rfc3339_format(p, t);
    }
    return apr_pstrmemdup(p, buf, n);
}

static const char *age_words(apr_pool_t *p, apr_interval_time_t d)
{
    apr_int64_t s = apr_time_sec(d);

    if (s < 120) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT " s ago", s < 0 ? 0 : s);
    }
    if (s < 2 * 3600) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT " min ago", s / 60);
    }
    if (s < 2 * 86400) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT " h ago", s / 3600);
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT " days ago", s / 86400);
}

static const char *time_cell(apr_pool_t *p, apr_time_t t)
{
    if (!t) {
        return "-";
    }
    return apr_pstrcat(p, "<time datetime=\"", zddc_rfc3339_format(p, t),
                       "\">", local_date(p, t), "</time>", NULL);
}

static const char *stale_banner(apr_pool_t *p, const zddc_listing_view *v)
{
    apr_time_t now = v->now ? v->now : apr_time_now();

    if (!v->confirmed_at) {
        return "<p class=\"zddc-stale\" role=\"alert\">The master could not "
               "be reached. This is the mirror's offline copy of this "
               "folder; when it was last confirmed is not known.</p>\n";
    }
    return apr_pstrcat(p, "<p class=\"zddc-stale\" role=\"alert\">The "
                       "master could not be reached. This is the mirror's "
                       "offline copy of this folder, last confirmed ",
                       time_cell(p, v->confirmed_at), " (",
                       age_words(p, now - v->confirmed_at), "); documents "
                       "may have changed since.</p>\n", NULL);
}

/* size < 0: no size ("-"); otherwise human-readable, exact in the title. */
static void emit_row(apr_array_header_t *out, apr_pool_t *p,
                     const char *href, const char *label,
                     const char *modified, apr_off_t size, const char *kind)
{
    const char *cell = size < 0 ? "<td class=\"size\">-</td>"
        : apr_pstrcat(p, "<td class=\"size\" title=\"",
                      apr_off_t_toa(p, size), " bytes\">",
                      human_size(p, size), "</td>", NULL);

    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p,
        "<tr class=\"", kind, "\"><td><a href=\"", href, "\">", label,
        "</a></td><td>", modified, "</td>", cell, "</tr>\n", NULL);
}

#define ZDDC_LISTING_STYLE \
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}" \
    "h1{font-size:1.3em;font-weight:600}" \
    "table{border-collapse:collapse;min-width:60%}" \
    "th,td{text-align:left;padding:.25em 1.2em .25em 0;white-space:nowrap}" \
    "th{border-bottom:1px solid #999}" \
    "td.size,th.size{text-align:right}" \
    "tr.dir a{font-weight:600}" \
    "tr:hover td{background:#f3f3f3}" \
    ".zddc-stale{background:#fff3cd;border:1px solid #e0b400;" \
    "padding:.6em .8em;max-width:60em}"

const char *zddc_listing_render_html(apr_pool_t *p, const char *url_dir,
                                     const apr_array_header_t *entries)
{
    zddc_listing_view view = { 0 };

    return zddc_listing_render_html_view(p, url_dir, entries, &view);
}

const char *zddc_listing_render_html_view(apr_pool_t *p, const char *url_dir,
                                          const apr_array_header_t *entries,
                                          const zddc_listing_view *view)
{
    apr_array_header_t *out = apr_array_make(p, 32, sizeof(const char *));
    apr_array_header_t *sorted;
    const char *title;
    int i;

    if (!url_dir || !*url_dir) {
        url_dir = "/";
    }
    title = zddc_html_escape(p, url_dir);

    /* Entries the mirror would never store (".", "..", "a/b", ".zddc-*")
     * get no link: they would point outside this directory or at nothing. */
    sorted = apr_array_make(p, entries ? entries->nelts + 1 : 1,
                            sizeof(const zddc_listing_entry *));
    for (i = 0; entries && i < entries->nelts; i++) {
        const zddc_listing_entry *e =
            &APR_ARRAY_IDX(entries, i, zddc_listing_entry);
        if (e->name && zddc_name_is_safe(e->name, strlen(e->name), NULL)) {
            APR_ARRAY_PUSH(sorted, const zddc_listing_entry *) = e;
        }
    }
    qsort(sorted->elts, (size_t)sorted->nelts,
          sizeof(const zddc_listing_entry *), entry_cmp);

    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width\">\n"
        "<title>Index of ", title, "</title>\n"
        "<style>" ZDDC_LISTING_STYLE "</style>\n</head>\n<body>\n"
        "<h1>Index of ", title, "</h1>\n",
        view && view->stale ? stale_banner(p, view) : "",
        "<table>\n<thead><tr><th>Name</th><th>Last modified</th>"
        "<th class=\"size\">Size</th></tr></thead>\n<tbody>\n", NULL);
    if (strcmp(url_dir, "/")) {
        emit_row(out, p, "../", "Parent Directory", "", -1, "parent");
    }
    for (i = 0; i < sorted->nelts; i++) {
        const zddc_listing_entry *e =
            APR_ARRAY_IDX(sorted, i, const zddc_listing_entry *);
        const char *slash = e->is_dir ? "/" : "";

        emit_row(out, p,
                 apr_pstrcat(p, zddc_path_encode(p, e->name), slash, NULL),
                 apr_pstrcat(p, zddc_html_escape(p, e->name), slash, NULL),
                 time_cell(p, e->mod_time), e->is_dir ? -1 : e->size,
                 e->is_dir ? "dir" : "file");
    }
    APR_ARRAY_PUSH(out, const char *) =
        "</tbody>\n</table>\n</body>\n</html>\n";
    return apr_array_pstrcat(p, out, 0);
}
