/*
 * dbbackupfs — lenient timestamps to UTC epoch seconds (internal to api/).
 *
 * Accepts what the three services send (reference §9): "YYYY-MM-DD", then 'T' or ' ',
 * "hh:mm[:ss[.fraction]]", then optionally a zone: 'Z', "UTC"/"GMT", or an offset "±hh",
 * "±hhmm" or "±hh:mm" (one space before the zone is tolerated).  A time without a zone is
 * in the caller's default zone (UTC unless told otherwise).  Fields are range-checked
 * (month 1-12, day within its month, leap years, hour < 24, minute < 60, second <= 60 for
 * a leap second, offsets up to ±23:59), and the conversion is pure calendar arithmetic —
 * no mktime/timegm, no TZ, no locale — so it is thread-safe and covers years 0000-9999,
 * before 1970 included.  Fractions are truncated.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
gint64 dbb_days_from_civil(gint64 year, int month, int day);

/* Parse `text`; a time without its own zone is taken to be at UTC+default_offset seconds.
 * FALSE with *why (a static string) when it cannot be parsed. */
gboolean dbb_time_parse(const char *text, gint64 default_offset, gint64 *epoch, const char **why);

/* Parse a zone name as TaurusDB's time_zone field gives it: "UTC", "GMT", "Z", "UTC+08:00",
 * "UTC-05:30", "GMT+8", "UTC+8", "+0800", "+08:00", "-05".  Offset in seconds east of UTC. */
gboolean dbb_zone_parse(const char *text, gint64 *offset, const char **why);

/* For the adapters: `text` (may be NULL) in the zone named by `zone` (may be NULL: UTC) as
 * epoch seconds, or 0 with one g_debug line naming service, record and field when the time
 * is missing or cannot be parsed. */
gint64 dbb_time_field(const char *service, const char *record_id, const char *field,
                      const char *text, const char *zone);

G_END_DECLS
