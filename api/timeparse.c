/*
 * dbbackupfs — lenient timestamps to UTC epoch seconds (see timeparse.h).
 */
#include "timeparse.h"

#include <string.h>

typedef struct {
    const char *p;
} Cursor;

gint64 dbb_days_from_civil(gint64 year, int month, int day)
{
    /* Howard Hinnant's days_from_civil: shift the year to start in March so the leap day
     * is the last day of the year, then count whole 400-year eras. */
    gint64 y = year - (month <= 2);
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    gint64 yoe = y - era * 400;
    gint64 doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static gboolean is_leap(gint64 year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(gint64 year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Exactly n decimal digits. */
static gboolean digits(Cursor *c, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!g_ascii_isdigit(c->p[i]))
            return FALSE;
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return TRUE;
}

static gboolean accept(Cursor *c, char ch)
{
    if (*c->p != ch)
        return FALSE;
    c->p++;
    return TRUE;
}

/* "±hh", "±hhmm", "±hh:mm", or a single-digit hour ("GMT+8"), at the sign. */
static gboolean parse_offset(Cursor *c, gint64 *offset, const char **why)
{
    int sign, hours, minutes = 0;

    sign = *c->p == '-' ? -1 : 1;
    c->p++;
    if (!digits(c, g_ascii_isdigit(c->p[0]) && g_ascii_isdigit(c->p[1]) ? 2 : 1, &hours)) {
        *why = "bad zone offset";
        return FALSE;
    }
    if ((accept(c, ':') || g_ascii_isdigit(*c->p)) && !digits(c, 2, &minutes)) {
        *why = "bad zone offset minutes";
        return FALSE;
    }
    if (hours > 23 || minutes > 59) {
        *why = "zone offset out of range";
        return FALSE;
    }
    *offset = sign * (hours * 3600 + minutes * 60);
    return TRUE;
}

/* A zone at the cursor; the whole rest of the text must be the zone. */
static gboolean parse_zone(Cursor *c, gint64 *offset, const char **why)
{
    if (accept(c, 'Z') || accept(c, 'z')) {
        *offset = 0;
        goto end;
    }
    if (g_ascii_strncasecmp(c->p, "UTC", 3) == 0 || g_ascii_strncasecmp(c->p, "GMT", 3) == 0) {
        c->p += 3;
        *offset = 0;
        if (*c->p == '\0')
            return TRUE;
    }
    if (*c->p != '+' && *c->p != '-') {
        *why = "unknown time zone";
        return FALSE;
    }
    if (!parse_offset(c, offset, why))
        return FALSE;
end:
    if (*c->p != '\0') {
        *why = "unexpected text after the time zone";
        return FALSE;
    }
    return TRUE;
}

gboolean dbb_zone_parse(const char *text, gint64 *offset, const char **why)
{
    Cursor c;

    if (text == NULL) {
        *why = "no time zone";
        return FALSE;
    }
    c.p = text;
    while (*c.p == ' ')
        c.p++;
    return parse_zone(&c, offset, why);
}

static gboolean parse_date(Cursor *c, int *year, int *month, int *day, const char **why)
{
    if (!digits(c, 4, year) || !accept(c, '-') || !digits(c, 2, month) || !accept(c, '-') ||
        !digits(c, 2, day)) {
        *why = "not a YYYY-MM-DD date";
        return FALSE;
    }
    if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) {
        *why = "date out of range";
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_clock(Cursor *c, int *hour, int *minute, int *second, const char **why)
{
    *second = 0;
    if (!digits(c, 2, hour) || !accept(c, ':') || !digits(c, 2, minute) ||
        (accept(c, ':') && !digits(c, 2, second))) {
        *why = "not a hh:mm[:ss] time";
        return FALSE;
    }
    if (accept(c, '.') || accept(c, ',')) {
        if (!g_ascii_isdigit(*c->p)) {
            *why = "empty fraction of a second";
            return FALSE;
        }
        while (g_ascii_isdigit(*c->p))
            c->p++;
    }
    if (*hour > 23 || *minute > 59 || *second > 60) {
        *why = "time of day out of range";
        return FALSE;
    }
    return TRUE;
}

gboolean dbb_time_parse(const char *text, gint64 default_offset, gint64 *epoch, const char **why)
{
    Cursor c;
    int year, month, day, hour = 0, minute = 0, second = 0;
    gint64 offset = default_offset;

    if (text == NULL) {
        *why = "missing";
        return FALSE;
    }
    c.p = text;
    while (*c.p == ' ')
        c.p++;
    if (!parse_date(&c, &year, &month, &day, why))
        return FALSE;
    if (c.p[0] == 'T' || c.p[0] == 't' || (c.p[0] == ' ' && g_ascii_isdigit(c.p[1]))) {
        c.p++;
        if (!parse_clock(&c, &hour, &minute, &second, why))
            return FALSE;
    }
    while (*c.p == ' ')
        c.p++;
    if (*c.p != '\0' && !parse_zone(&c, &offset, why))
        return FALSE;
    *epoch =
        dbb_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    return TRUE;
}

gint64 dbb_time_field(const char *service, const char *record_id, const char *field,
                      const char *text, const char *zone)
{
    const char *why = NULL;
    gint64 offset = 0, epoch;

    if (zone != NULL && !dbb_zone_parse(zone, &offset, &why)) {
        gint64 a, b;
        const char *ignored;

        /* A time that carries its own offset does not need the record's zone: it parses
         * the same whatever default is given. */
        if (dbb_time_parse(text, 0, &a, &ignored) && dbb_time_parse(text, 3600, &b, &ignored) &&
            a == b)
            return a;
        g_debug("%s: record %s: time_zone \"%s\": %s; time of \"%s\" set to 0", service, record_id,
                zone, why, field);
        return 0;
    }
    if (!dbb_time_parse(text, offset, &epoch, &why)) {
        if (text == NULL)
            g_debug("%s: record %s: \"%s\" is missing; time set to 0", service, record_id, field);
        else
            g_debug("%s: record %s: \"%s\" = \"%s\": %s; time set to 0", service, record_id, field,
                    text, why);
        return 0;
    }
    return epoch;
}
