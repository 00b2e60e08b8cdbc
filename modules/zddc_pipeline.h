/* The request pipeline of Cache and Mirror modes (SPEC §5): files, listing
 * sidecars, live forwarding, and the X-Zddc-Cache verdict of each request. */
#ifndef ZDDC_PIPELINE_H
#define ZDDC_PIPELINE_H

#include <httpd.h>

#define ZDDC_HANDLER      "zddc-mirror"
#define ZDDC_NOTE_OWNED   "zddc-mirror-owned"
#define ZDDC_NOTE_UNSAFE  "zddc-mirror-unsafe"

/* Content handler for requests translated into the cache (r->handler is
 * ZDDC_HANDLER). May set r->filename/r->finfo and DECLINE so that httpd's
 * default handler serves a cached file with ranges, 304s and sendfile. */
int zddc_pipeline_handler(request_rec *r);

#endif
