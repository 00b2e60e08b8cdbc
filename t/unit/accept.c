/* Unit tests for zddc_accept_wants_json: media ranges, q values,
 * wildcards and case. */
#include <apr_general.h>

#include "tap.h"
#include "zddc_util.h"

static void wants(const char *accept, int expected)
{
    char name[256];

    snprintf(name, sizeof(name), "Accept '%s' -> %s",
             accept ? accept : "(none)", expected ? "JSON" : "HTML");
    is_int(zddc_accept_wants_json(accept), expected, name);
}

int main(void)
{
    apr_initialize();

    wants(NULL, 0);
    wants("", 0);
    wants("   ", 0);
    wants("application/json", 1);
    wants("APPLICATION/JSON", 1);
    wants("Application/Json; charset=utf-8", 1);
    wants("text/html", 0);
    wants("*/*", 0);
    wants("application/*", 1);
    wants("application/xml", 0);
    wants("application/json-seq", 0);
    wants("application/jsonx", 0);
    wants("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
          0);
    wants("application/json, text/plain, */*", 1);
    wants("application/json;q=0.9, text/html", 0);
    wants("text/html;q=0.5, application/json;q=0.9", 1);
    wants("text/html;q=0.9,application/json;q=0.9", 1);
    wants("application/json;q=0", 0);
    wants("application/json; q=0.000", 0);
    wants("application/json;q=0, application/*", 0);
    wants("application/json;q=0.001", 1);
    wants("application/json;q=0.5, */*", 0);
    wants("application/json;q=0.5, text/*;q=0.4", 1);
    wants("application/json;q=0.5, text/html;q=0.4, */*", 1);
    wants("text/*;q=0.1, */*;q=1, application/json;q=0.2", 1);
    wants("application/json ; Q=0.7 , text/html ; q=0.8", 0);
    wants("text/html;level=1;q=0.2,application/json;q=0.3", 1);
    wants(",,application/json,,", 1);
    wants("text/html;q=0", 0);
    wants("text/html;q=0, application/json;q=0.1", 1);

    apr_terminate();
    return done();
}
