/*
 * dbbackupfs — credentials, as the client uses them.
 *
 * Either an AK/SK pair (requests are signed with SDK-HMAC-SHA256, X-Project-Id per request,
 * optional X-Security-Token and X-Domain-Id), or an IAM token sent as X-Auth-Token, or an
 * IAM user's password, from which the client gets a token per project (token.h).  Where
 * they come from (environment, config file, token file) is the caller's business.  The
 * struct owns its strings; dbb_credentials_clear() wipes them before freeing.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    DBB_AUTH_NONE = 0,
    DBB_AUTH_AKSK,
    DBB_AUTH_TOKEN,
    DBB_AUTH_PASSWORD,
} DbbAuthKind;

typedef struct {
    DbbAuthKind kind;
    char *ak;             /* DBB_AUTH_AKSK */
    char *sk;             /* DBB_AUTH_AKSK; never logged */
    char *security_token; /* optional, with AK/SK; never logged */
    char *domain_id;      /* optional, with AK/SK: sent as X-Domain-Id to IAM */
    char *token;          /* DBB_AUTH_TOKEN; never logged */
    char *user;           /* DBB_AUTH_PASSWORD: the IAM user name */
    char *domain;         /* DBB_AUTH_PASSWORD: the account (domain) name */
    char *password;       /* DBB_AUTH_PASSWORD; never logged */
} DbbCredentials;

/* Zero the secrets, free every string and reset to DBB_AUTH_NONE. */
void dbb_credentials_clear(DbbCredentials *c);
/* Deep copy into *dst (which must be cleared). */
void dbb_credentials_copy(DbbCredentials *dst, const DbbCredentials *src);

G_END_DECLS
