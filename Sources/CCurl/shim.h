#ifndef POSTROOM_CCURL_SHIM_H
#define POSTROOM_CCURL_SHIM_H

#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
   These typed wrappers pass exactly one argument of the type each option expects. */

static inline CURLcode postroom_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode postroom_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode postroom_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*postroom_curl_io_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode postroom_curl_setopt_io_callback(CURL *handle, CURLoption option, postroom_curl_io_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*postroom_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *context);

static inline CURLcode postroom_curl_setopt_debug_callback(CURL *handle, CURLoption option, postroom_curl_debug_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode postroom_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode postroom_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode postroom_curl_getinfo_socket(CURL *handle, CURLINFO info, curl_socket_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
