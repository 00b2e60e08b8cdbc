/* Directory listings as the mirror shows them: the HTML rendering of a
 * parsed JSON listing, used when only the JSON sidecar is at hand. */
#ifndef ZDDC_LISTING_H
#define ZDDC_LISTING_H

#include "zddc_json.h"

/* How a rendered listing presents itself beyond its entries. */
typedef struct {
    int stale;                  /* the master could not be reached */
    apr_time_t confirmed_at;    /* when this copy was last confirmed; 0 = unknown */
    apr_time_t now;             /* for "N ago"; 0 = apr_time_now() */
} zddc_listing_view;

/* An HTML page listing entries of url_dir ("/a/b/", decoded): names are
 * HTML-escaped, hrefs percent-encoded (zddc_path_encode), directories get a
 * trailing "/", and a link to the parent unless url_dir is "/". */
const char *zddc_listing_render_html(apr_pool_t *p, const char *url_dir,
                                     const apr_array_header_t *entries);

/* The same page as mod_autoindex's FancyIndexing would show it: folders
 * first, human-readable sizes (exact bytes in the title), dates in the
 * server's local time, a parent link, and when view->stale a banner saying
 * the master could not be reached and when the copy was last confirmed. */
const char *zddc_listing_render_html_view(apr_pool_t *p, const char *url_dir,
                                          const apr_array_header_t *entries,
                                          const zddc_listing_view *view);

/* HTML-escape &, <, >, ", '. */
const char *zddc_html_escape(apr_pool_t *p, const char *s);

#endif
