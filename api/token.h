/*
 * dbbackupfs — IAM tokens got by password, one per scope (internal to api/).
 *
 * Promises (DESIGN.md, Credentials item 3):
 * - One token per scope: a project ID (a project-scoped token), or NULL (a domain-scoped
 *   token, for IAM's project list).  A scope's first use gets its token.
 * - A token is kept until less than 40 minutes of its lifetime remain (the Go SDK's
 *   threshold); one that lives less than 80 minutes, until half its life is gone.  Then
 *   the next caller gets a new one.
 * - Callers needing a token for one scope at once share one request (single-flight), and
 *   share its failure too.  A refused password (EACCES) is remembered for `holdoff`, so no
 *   request is made for that scope until it has passed; other failures are not kept.
 * - dbb_tokens_rejected(): after a 401 on a token that should still be valid, the first
 *   report drops the token, so the next dbb_tokens_get() authenticates again — once: a
 *   report within `holdoff` of that re-authentication is refused (FALSE), so a token the
 *   services keep refusing costs one re-auth per `holdoff`, never a loop.
 * - Tokens and the password are secrets: nothing here logs them or puts them in an error;
 *   the copies dbb_tokens_get() returns are wiped by dbb_token_free().
 * The fetch and the clock are callbacks, so the rules are unit-tested without HTTP or sleep.
 * Thread-safe.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct DbbTokens DbbTokens;

/* Get a token for project_id (NULL: domain-scoped).  TRUE with *token (newly allocated) and
 * its issued_at/expires_at (wall-clock µs; issued_at 0 when unknown), or FALSE with *error
 * (DBB_API_ERROR; EACCES when the credentials were refused). */
typedef gboolean (*DbbTokenFetchFunc)(gpointer data, const char *project_id, char **token,
                                      gint64 *issued_at, gint64 *expires_at, GError **error);
/* Wall-clock µs (g_get_real_time() when NULL). */
typedef gint64 (*DbbTokenClockFunc)(gpointer data);

DbbTokens *dbb_tokens_new(DbbTokenFetchFunc fetch, gpointer fetch_data, gint64 holdoff_us,
                          DbbTokenClockFunc clock, gpointer clock_data);
void dbb_tokens_free(DbbTokens *t);

/* A valid token for the scope (a copy; free it with dbb_token_free()), or NULL with *error. */
char *dbb_tokens_get(DbbTokens *t, const char *project_id, GError **error);

/* `token` of project_id's scope was refused with 401.  TRUE: ask dbb_tokens_get() again
 * (the token was dropped, or another caller already replaced it); FALSE: do not, the
 * failure stands. */
gboolean dbb_tokens_rejected(DbbTokens *t, const char *project_id, const char *token);

/* Wipe and free a token. */
void dbb_token_free(char *token);

/* The instant a token issued at `issued` (µs; 0: fetched_at) and expiring at `expires` is
 * renewed (exposed for tests). */
gint64 dbb_token_renew_at(gint64 issued, gint64 expires, gint64 fetched_at);

G_END_DECLS
