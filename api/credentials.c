/*
 * dbbackupfs — credentials: ownership, copying and wiping of the secrets.
 */
#include "credentials.h"

#include <string.h>

/* explicit_bzero, unlike memset, cannot be optimised away before the free. */
static void wipe_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        g_free(*s);
        *s = NULL;
    }
}

void dbb_credentials_clear(DbbCredentials *c)
{
    if (!c)
        return;
    wipe_free(&c->ak);
    wipe_free(&c->sk);
    wipe_free(&c->security_token);
    wipe_free(&c->domain_id);
    wipe_free(&c->token);
    wipe_free(&c->user);
    wipe_free(&c->domain);
    wipe_free(&c->password);
    c->kind = DBB_AUTH_NONE;
}

void dbb_credentials_copy(DbbCredentials *dst, const DbbCredentials *src)
{
    dst->kind = src->kind;
    dst->ak = g_strdup(src->ak);
    dst->sk = g_strdup(src->sk);
    dst->security_token = g_strdup(src->security_token);
    dst->domain_id = g_strdup(src->domain_id);
    dst->token = g_strdup(src->token);
    dst->user = g_strdup(src->user);
    dst->domain = g_strdup(src->domain);
    dst->password = g_strdup(src->password);
}
