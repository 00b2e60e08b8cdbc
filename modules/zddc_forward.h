/* Live forwarding of what the cache never stores (SPEC §5): requests with a
 * query string and methods other than GET/HEAD, answered as BYPASS. */
#ifndef ZDDC_FORWARD_H
#define ZDDC_FORWARD_H

#include <httpd.h>
#include "zddc_config.h"

/* Forward r upstream (bearer added, client credentials dropped) and relay
 * the answer; after a 2xx to a write method drop the local copy of the
 * path and its parent's listing sidecars. */
int zddc_forward(request_rec *r, zddc_server_conf *conf);

#endif
