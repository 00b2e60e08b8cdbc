/* Live forwarding of what the cache never stores (SPEC §5): GET/HEAD with a
 * query string, and other methods only under ZddcForwardWrites; BYPASS. */
#ifndef ZDDC_FORWARD_H
#define ZDDC_FORWARD_H

#include <httpd.h>
#include "zddc_config.h"

/* Forward r upstream (bearer added, client credentials dropped) and relay
 * the answer; after a 2xx to a write method drop the local copy of the
 * path and its parent's listing sidecars. */
int zddc_forward(request_rec *r, zddc_server_conf *conf);

/* The method policy for what the cache does not serve: OPTIONS answered
 * locally, TRACE never forwarded, other methods 405 with Allow unless
 * ZddcForwardWrites On; GET/HEAD with a query string forwarded. */
int zddc_forward_or_refuse(request_rec *r, zddc_server_conf *conf);

#endif
