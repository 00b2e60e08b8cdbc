/* The one version string of mod_zddc_mirror: status page, startup log line,
 * User-Agent, Makefile (make version/deb); debian/changelog must agree. */
#ifndef ZDDC_VERSION_H
#define ZDDC_VERSION_H

#define ZDDC_VERSION "0.3.0"

/* The libcurl version the upstream client runs with ("7.88.1"), for the
 * startup log line (defined in zddc_upstream_version.c). */
const char *zddc_upstream_client_version(void);

#endif
