/* The upstream client's libcurl version, for the startup log line; an
 * upstream file, since only those include curl. */
#include <curl/curl.h>

#include "zddc_version.h"

const char *zddc_upstream_client_version(void)
{
    return curl_version_info(CURLVERSION_NOW)->version;
}
