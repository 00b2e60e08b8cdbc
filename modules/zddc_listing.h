/* Directory listings as the mirror shows them: the HTML rendering of a
 * parsed JSON listing, used when only the JSON sidecar is at hand. */
#ifndef ZDDC_LISTING_H
#define ZDDC_LISTING_H

#include "zddc_json.h"

/* An HTML page listing entries of url_dir ("/a/b/", decoded): names are
 * HTML-escaped, hrefs percent-encoded (zddc_path_encode), directories get a
 * trailing "/", and a link to the parent unless url_dir is "/". */
const char *zddc_listing_render_html(apr_pool_t *p, const char *url_dir,
                                     const apr_array_header_t *entries);

/* HTML-escape &, <, >, ", '. */
const char *zddc_html_escape(apr_pool_t *p, const char *s);

#endif
