/*
 * dbbackupfs — AK/SK request signing (SDK-HMAC-SHA256), as the official Huawei Cloud SDKs
 * do it (reference/huawei-api.md §7).  Pure functions: no I/O, no clock, no globals, so the
 * signer reproduces the SDK's vectors byte for byte and the simulator can verify requests
 * with the very same code.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *key;
    const char *value; /* "" for a parameter without a value */
} DbbQueryParam;

typedef struct {
    const char *name; /* any case; lower-cased for signing */
    const char *value;
} DbbHeader;

typedef struct {
    const char *method;         /* "GET" */
    const char *path;           /* decoded path, e.g. "/v3/<pid>/instances" */
    const DbbQueryParam *query; /* decoded keys and values, any order, repeats allowed */
    gsize n_query;
    const DbbHeader *headers; /* exactly the headers to sign, "host" and "X-Sdk-Date"
                               * among them */
    gsize n_headers;
    const void *body; /* may be NULL when body_len is 0 */
    gsize body_len;
    const char *sdk_date; /* "YYYYMMDDTHHMMSSZ", the X-Sdk-Date value */
} DbbSignInput;

/* RFC 3986 percent-encoding as the SDK signer does it: A-Z a-z 0-9 - _ . ~ kept, every other
 * byte %XX with upper-case hex. */
char *dbb_sign_uri_encode(const char *s);
/* The path with each '/'-separated segment percent-encoded as above (no trailing '/'
 * added): what goes on the wire, matching what is signed. */
char *dbb_sign_encode_path(const char *path);
/* Canonical query string: pairs sorted by key, then value (bytewise, on the decoded text, as
 * the Node, Go and Python SDKs sort), each encoded as key=value, joined with '&'. */
char *dbb_sign_canonical_query(const DbbQueryParam *query, gsize n_query);
/* Canonical request (§7 step 8).  Header values are trimmed of outer blanks, as the Go and
 * Python signers do. */
char *dbb_sign_canonical_request(const DbbSignInput *in);
/* "SDK-HMAC-SHA256\n<date>\n<hex sha256(canonical request)>" */
char *dbb_sign_string_to_sign(const DbbSignInput *in);
/* Lower-case hex HMAC-SHA256(sk, string to sign). */
char *dbb_sign_signature(const char *sk, const DbbSignInput *in);
/* "SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<a;b;c>, Signature=<hex>" */
char *dbb_sign_authorization(const char *ak, const char *sk, const DbbSignInput *in);
/* X-Sdk-Date for a UTC epoch time. */
char *dbb_sign_format_date(gint64 unix_seconds);

G_END_DECLS
