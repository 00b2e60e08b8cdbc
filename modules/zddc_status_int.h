/* What the status page's renderers share (HTML/JSON in zddc_status.c, the
 * Prometheus text in zddc_status_prom.c): one view of a vhost. */
#ifndef ZDDC_STATUS_INT_H
#define ZDDC_STATUS_INT_H

#include <httpd.h>
#include "zddc_config.h"
#include "zddc_metrics.h"
#include "zddc_sched.h"

typedef struct {
    server_rec *s;
    zddc_server_conf *conf;
    const char *name;           /* ServerName:port */
    const char *upstream;       /* without userinfo or query */
    zddc_sched_slot *slots;     /* NULL unless Mirror with a scheduler */
    int nsubtrees;
    int has_counts;
    zddc_metrics_counts counts;
} zddc_status_vhost;

typedef struct {
    const char *path;
    const zddc_sched_slot *slot;
    int in_flight;
    apr_time_t next_eligible_at;
    int due;
    apr_time_t last_success_at; /* 0: never, or not known */
} zddc_status_subtree;

/* The Cache and Mirror vhosts to show: only "only" when it is set (the
 * zddc-status page of one virtual host), else every one (server-status). */
apr_array_header_t *zddc_status_collect(request_rec *r, server_rec *only);

/* Subtree i of v as of now. */
void zddc_status_subtree_get(const zddc_status_vhost *v, int i,
                             apr_time_t now, zddc_status_subtree *st);

/* The Prometheus text exposition (version 0.0.4), or OpenMetrics 1.0 when
 * openmetrics is set, of vhosts. */
void zddc_status_prometheus(request_rec *r, apr_array_header_t *vhosts,
                            apr_time_t now, int openmetrics);

/* A POST to the status page: one of its two actions (SPEC §7). */
int zddc_status_action(request_rec *r);

#endif
