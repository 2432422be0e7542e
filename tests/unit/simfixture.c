/*
 * simfixture — see simfixture.h.  The simulator is found through $CLOUDSIM (meson sets it
 * for every test); its stdout carries exactly one line, the URL, which is all we read.
 */
#include "simfixture.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define URL_PREFIX    "cloudsim listening on "
#define START_TIMEOUT 60000 /* ms: a 300k fleet under ASan on a loaded 2-core host */
#define STOP_TIMEOUT  5000  /* ms */

struct SimFixture {
    GPid pid;
    int out_fd; /* cloudsim's stdout, kept open so it never gets SIGPIPE */
    char *base_url;
    CURL *curl;
};

static void child_setup(gpointer data)
{
    /* Die with the test, even when it crashes or is killed by a timeout. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Reads one line from fd within timeout_ms; NULL on timeout, EOF or error. */
static char *read_line(int fd, int timeout_ms)
{
    g_autoptr(GString) line = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        char c;
        ssize_t n;

        if (left <= 0)
            return NULL;
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            return NULL;
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        n = read(fd, &c, 1);
        if (n <= 0)
            return NULL;
        if (c == '\n')
            return g_string_free(g_steal_pointer(&line), FALSE);
        g_string_append_c(line, c);
    }
}

static GPtrArray *build_argv(const char *exe, const char *const *extra)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup(exe));
    g_ptr_array_add(argv, g_strdup("--port"));
    g_ptr_array_add(argv, g_strdup("0"));
    g_ptr_array_add(argv, g_strdup("--quiet"));
    for (; extra && *extra; extra++)
        g_ptr_array_add(argv, g_strdup(*extra));
    g_ptr_array_add(argv, NULL);
    return argv;
}

/* Waits for the child for up to timeout_ms; returns its wait status, or -1. */
static int wait_child(GPid pid, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (g_get_monotonic_time() >= deadline)
            return -1;
        g_usleep(10000);
    }
}

static void kill_and_reap(GPid pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

SimFixture *sim_start(const char *const *extra_args)
{
    const char *exe = g_getenv("CLOUDSIM");
    g_autoptr(GPtrArray) argv = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;
    SimFixture *s;

    if (!exe || !*exe) {
        fprintf(stderr, "simfixture: $CLOUDSIM is not set (meson test sets it)\n");
        return NULL;
    }
    argv = build_argv(exe, extra_args);
    s = g_new0(SimFixture, 1);
    if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                  child_setup, NULL, &s->pid, NULL, &s->out_fd, NULL, &error)) {
        fprintf(stderr, "simfixture: cannot run %s: %s\n", exe, error->message);
        g_free(s);
        return NULL;
    }
    line = read_line(s->out_fd, START_TIMEOUT);
    if (!line || !g_str_has_prefix(line, URL_PREFIX)) {
        fprintf(stderr, "simfixture: %s did not print its URL within %d s (got: %s)\n", exe,
                START_TIMEOUT / 1000, line ? line : "nothing");
        kill_and_reap(s->pid);
        close(s->out_fd);
        g_free(s);
        return NULL;
    }
    s->base_url = g_strdup(line + strlen(URL_PREFIX));
    s->curl = curl_easy_init();
    return s;
}

double sim_cpu_seconds(const SimFixture *s)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)s->pid);
    g_autofree char *stat = NULL;
    unsigned long utime = 0, stime = 0;
    const char *p;

    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return -1;
    /* Fields after the command name, which may hold spaces and ')': state is field 3,
     * utime and stime are 14 and 15. */
    p = strrchr(stat, ')');
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

const char *sim_base_url(const SimFixture *s)
{
    return s->base_url;
}

char *sim_endpoint_template(const SimFixture *s)
{
    return g_strconcat(s->base_url, "/{service}", NULL);
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    g_string_append_len(user, data, (gssize)(size * n));
    return size * n;
}

static size_t collect_request_id(char *data, size_t size, size_t n, void *user)
{
    char **rid = user;
    size_t len = size * n;

    if (len > 13 && g_ascii_strncasecmp(data, "X-Request-Id:", 13) == 0) {
        g_free(*rid);
        *rid = g_strstrip(g_strndup(data + 13, len - 13));
    }
    return len;
}

/* One request; returns the status (0 on a transport error) and the body. */
static long perform(SimFixture *s, const char *method, const char *path, const char *post,
                    const char *const *headers, char **body, char **request_id)
{
    g_autofree char *url = g_strconcat(s->base_url, path, NULL);
    g_autoptr(GString) buf = g_string_new(NULL);
    struct curl_slist *list = NULL;
    char *rid = NULL;
    long status = 0;

    curl_easy_reset(s->curl);
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, buf);
    curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, collect_request_id);
    curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, &rid);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    for (; headers && *headers; headers++)
        list = curl_slist_append(list, *headers);
    if (post) {
        list = curl_slist_append(list, "Content-Type: application/json");
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(post));
    }
    curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, list);
    if (curl_easy_perform(s->curl) == CURLE_OK)
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    if (body)
        *body = g_strndup(buf->str, buf->len);
    if (request_id)
        *request_id = rid;
    else
        g_free(rid);
    return status;
}

long sim_http_get(SimFixture *s, const char *path, const char *const *headers, char **body,
                  char **request_id)
{
    return perform(s, "GET", path, NULL, headers, body, request_id);
}

json_object *sim_get_json(SimFixture *s, const char *path)
{
    g_autofree char *body = NULL;
    long status = perform(s, "GET", path, NULL, NULL, &body, NULL);

    if (status < 200 || status > 299) {
        fprintf(stderr, "simfixture: GET %s: HTTP %ld\n", path, status);
        return NULL;
    }
    return json_tokener_parse(body);
}

gboolean sim_post_json(SimFixture *s, const char *path, const char *body)
{
    g_autofree char *reply = NULL;
    long status = perform(s, "POST", path, body, NULL, &reply, NULL);

    if (status < 200 || status > 299) {
        fprintf(stderr, "simfixture: POST %s: HTTP %ld: %s\n", path, status, reply);
        return FALSE;
    }
    return TRUE;
}

gint64 sim_count(SimFixture *s, const char *route)
{
    json_object *counts = sim_get_json(s, "/_sim/counts"), *routes, *v;
    gint64 n = -1;

    if (!counts)
        return -1;
    if (strcmp(route, "total") == 0) {
        if (json_object_object_get_ex(counts, "total", &v))
            n = json_object_get_int64(v);
    } else if (json_object_object_get_ex(counts, "routes", &routes) &&
               json_object_object_get_ex(routes, route, &v)) {
        n = json_object_get_int64(v);
    }
    json_object_put(counts);
    return n;
}

void sim_reset_counts(SimFixture *s)
{
    sim_post_json(s, "/_sim/counts/reset", "{}");
}

gboolean sim_set_faults(SimFixture *s, const char *json)
{
    return sim_post_json(s, "/_sim/faults", json);
}

gboolean sim_stop_checked(SimFixture *s)
{
    int status;

    if (!s)
        return FALSE;
    kill(s->pid, SIGTERM);
    status = wait_child(s->pid, STOP_TIMEOUT);
    if (status == -1) {
        fprintf(stderr, "simfixture: cloudsim did not stop within %d s; killed\n",
                STOP_TIMEOUT / 1000);
        kill_and_reap(s->pid);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "simfixture: cloudsim ended badly (wait status %d)\n", status);
        status = -1;
    }
    g_spawn_close_pid(s->pid);
    close(s->out_fd);
    curl_easy_cleanup(s->curl);
    g_free(s->base_url);
    g_free(s);
    return status != -1;
}

void sim_stop(SimFixture *s)
{
    if (s)
        sim_stop_checked(s);
}
