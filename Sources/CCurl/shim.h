#ifndef DIGEST_CCURL_SHIM_H
#define DIGEST_CCURL_SHIM_H

// Swift cannot call C variadic functions, so every curl_easy_setopt / curl_easy_getinfo
// form digest needs gets a typed, static inline wrapper here.
#include <curl/curl.h>

typedef size_t (*digest_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode digest_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode digest_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode digest_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode digest_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode digest_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode digest_curl_setopt_callback(CURL *handle, CURLoption option, digest_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode digest_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode digest_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode digest_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
