/* The status page (SPEC §7): SetHandler zddc-status, HTML or JSON, and a
 * section on mod_status' server-status page. */
#ifndef ZDDC_STATUS_H
#define ZDDC_STATUS_H

#include <httpd.h>

#define ZDDC_STATUS_HANDLER "zddc-status"

/* Content handler: DECLINED unless r->handler is "zddc-status". */
int zddc_status_handler(request_rec *r);

/* mod_status' status_hook: an HTML section, or plain lines when flags has
 * AP_STATUS_SHORT. */
int zddc_status_hook(request_rec *r, int flags);

#endif
