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
        case '&':  extra += 4; break;
        case '<':
        case '>':  extra += 3; break;
        case '"':
        case '\'': extra += 4; break;
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

static void emit_row(apr_array_header_t *out, apr_pool_t *p,
                     const char *href, const char *label, const char *size,
                     const char *modified)
{
    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p,
        "<tr><td><a href=\"", href, "\">", label, "</a></td><td>", size,
        "</td><td>", modified, "</td></tr>\n", NULL);
}

const char *zddc_listing_render_html(apr_pool_t *p, const char *url_dir,
                                     const apr_array_header_t *entries)
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
        "<title>Index of ", title, "</title>\n</head>\n<body>\n"
        "<h1>Index of ", title, "</h1>\n<table>\n"
        "<thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>\n"
        "<tbody>\n", NULL);
    if (strcmp(url_dir, "/")) {
        emit_row(out, p, "../", "../", "-", "-");
    }
    for (i = 0; i < sorted->nelts; i++) {
        const zddc_listing_entry *e =
            APR_ARRAY_IDX(sorted, i, const zddc_listing_entry *);
        const char *slash = e->is_dir ? "/" : "";
        const char *size = "-", *modified = "-";

        if (!e->is_dir && e->size >= 0) {
            size = apr_off_t_toa(p, e->size);
        }
        if (e->mod_time) {
            modified = zddc_rfc3339_format(p, e->mod_time);
        }
        emit_row(out, p,
                 apr_pstrcat(p, zddc_path_encode(p, e->name), slash, NULL),
                 apr_pstrcat(p, zddc_html_escape(p, e->name), slash, NULL),
                 size, modified);
    }
    APR_ARRAY_PUSH(out, const char *) =
        "</tbody>\n</table>\n</body>\n</html>\n";
    return apr_array_pstrcat(p, out, 0);
}
