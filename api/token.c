/*
 * dbbackupfs — IAM tokens got by password, one per scope (see token.h).
 */
#include "token.h"

#include <errno.h>
#include <string.h>

#include "error.h"

#define SDK_THRESHOLD_US   (G_GINT64_CONSTANT(40) * 60 * G_USEC_PER_SEC)
#define DEFAULT_HOLDOFF_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)

typedef struct {
    char *token; /* NULL: none yet, or dropped */
    gint64 renew_at;
    gboolean fetching;
    guint64 fetches;      /* completed fetches: how a waiter knows its fetch is done */
    GError *last_error;   /* of the last completed fetch, or NULL */
    gint64 refused_until; /* a refused password: no fetch before this */
    gint64 reauth_at;     /* when a 401 last caused a re-auth (0: never) */
} Scope;

struct DbbTokens {
    GMutex lock;
    GCond done;
    GHashTable *scopes; /* project id ("" for the domain) -> Scope* */
    DbbTokenFetchFunc fetch;
    gpointer fetch_data;
    DbbTokenClockFunc clock;
    gpointer clock_data;
    gint64 holdoff;
};

void dbb_token_free(char *token)
{
    if (token == NULL)
        return;
    explicit_bzero(token, strlen(token));
    g_free(token);
}

static void scope_free(gpointer p)
{
    Scope *s = p;

    dbb_token_free(s->token);
    g_clear_error(&s->last_error);
    g_free(s);
}

DbbTokens *dbb_tokens_new(DbbTokenFetchFunc fetch, gpointer fetch_data, gint64 holdoff_us,
                          DbbTokenClockFunc clock, gpointer clock_data)
{
    DbbTokens *t = g_new0(DbbTokens, 1);

    g_mutex_init(&t->lock);
    g_cond_init(&t->done);
    t->scopes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, scope_free);
    t->fetch = fetch;
    t->fetch_data = fetch_data;
    t->clock = clock;
    t->clock_data = clock_data;
    t->holdoff = holdoff_us > 0 ? holdoff_us : DEFAULT_HOLDOFF_US;
    return t;
}

void dbb_tokens_free(DbbTokens *t)
{
    if (t == NULL)
        return;
    g_hash_table_unref(t->scopes);
    g_cond_clear(&t->done);
    g_mutex_clear(&t->lock);
    g_free(t);
}

static gint64 now(DbbTokens *t)
{
    return t->clock ? t->clock(t->clock_data) : g_get_real_time();
}

gint64 dbb_token_renew_at(gint64 issued, gint64 expires, gint64 fetched_at)
{
    gint64 life;

    if (issued <= 0 || issued > expires)
        issued = fetched_at;
    life = expires - issued;
    /* The Go SDK renews 40 minutes ahead; a token that short-lived would be renewed at
     * once, so those are kept for half their life. */
    if (life >= 2 * SDK_THRESHOLD_US)
        return expires - SDK_THRESHOLD_US;
    return issued + life / 2;
}

static Scope *scope_of(DbbTokens *t, const char *project_id)
{
    const char *key = project_id ? project_id : "";
    Scope *s = g_hash_table_lookup(t->scopes, key);

    if (s == NULL) {
        s = g_new0(Scope, 1);
        g_hash_table_insert(t->scopes, g_strdup(key), s);
    }
    return s;
}

/* Called locked, the fetch run unlocked: store its outcome and wake the waiters. */
static void fetch_locked(DbbTokens *t, Scope *s, const char *project_id)
{
    char *token = NULL;
    gint64 issued = 0, expires = 0, started = now(t);
    GError *error = NULL;
    gboolean ok;

    s->fetching = TRUE;
    g_mutex_unlock(&t->lock);
    ok = t->fetch(t->fetch_data, project_id, &token, &issued, &expires, &error);
    g_mutex_lock(&t->lock);
    s->fetching = FALSE;
    s->fetches++;
    g_clear_error(&s->last_error);
    if (ok) {
        dbb_token_free(s->token);
        s->token = token;
        s->renew_at = dbb_token_renew_at(issued, expires, started);
    } else {
        if (g_error_matches(error, DBB_API_ERROR, EACCES))
            s->refused_until = now(t) + t->holdoff;
        s->last_error = error;
    }
    g_cond_broadcast(&t->done);
}

char *dbb_tokens_get(DbbTokens *t, const char *project_id, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    Scope *s = scope_of(t, project_id);
    guint64 seen = s->fetches;
    gboolean waited = FALSE;

    for (;;) {
        if (s->token != NULL && now(t) < s->renew_at)
            return g_strdup(s->token);
        if (!s->fetching)
            break;
        waited = TRUE;
        g_cond_wait(&t->done, &t->lock);
    }
    /* A fetch this caller waited for failed: its failure is this caller's too. */
    if (waited && s->fetches != seen && s->last_error != NULL) {
        g_propagate_error(error, g_error_copy(s->last_error));
        return NULL;
    }
    if (now(t) < s->refused_until && s->last_error != NULL) {
        g_propagate_error(error, g_error_copy(s->last_error));
        return NULL;
    }
    fetch_locked(t, s, project_id);
    if (s->token == NULL || s->last_error != NULL) {
        g_propagate_error(error, s->last_error
                                     ? g_error_copy(s->last_error)
                                     : g_error_new_literal(DBB_API_ERROR, EIO, "iam: no token"));
        return NULL;
    }
    return g_strdup(s->token);
}

gboolean dbb_tokens_rejected(DbbTokens *t, const char *project_id, const char *token)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    Scope *s = scope_of(t, project_id);
    gint64 at = now(t);

    /* Another caller already dropped or replaced it: try the current one. */
    if (s->token == NULL || strcmp(s->token, token) != 0)
        return TRUE;
    if (s->reauth_at != 0 && at - s->reauth_at < t->holdoff)
        return FALSE;
    s->reauth_at = at;
    g_clear_pointer(&s->token, dbb_token_free);
    return TRUE;
}
