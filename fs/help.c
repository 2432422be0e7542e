/*
 * dbbackupfs — --help and --version (options.h).
 */
#include "fs/options_internal.h"

#include <stdio.h>

#include "dbb-config.h"

void dbb_options_print_help(const char *progname)
{
    g_autofree char *braces = opt_known_services(",");
    g_autofree char *colons = opt_known_services(":");

    printf("usage: %s [options] MOUNTPOINT\n"
           "       %s --help | --version\n"
           "\n"
           "Shows the database backups of a Huawei Cloud account as read-only JSON files:\n"
           "MOUNTPOINT/<project>/{%s}/<instance>/<backup>.json\n"
           "(backups of deleted instances too, wherever a service's API still lists them)\n"
           "\n"
           "general options:\n"
           "    -h   --help            print help\n"
           "    -V   --version         print version\n"
           "    -f                     foreground operation\n"
           "    -d   -o debug          enable debug output (implies -f)\n"
           "    -s                     disable multi-threaded operation\n"
           "    -o opt[,opt...]        mount options\n"
           "\n"
           "dbbackupfs options:\n"
           "    -o config=PATH         configuration file\n"
           "                           (default: $XDG_CONFIG_HOME/dbbackupfs/config)\n"
           "    -o endpoint=URL        base URL of every service and IAM; {service} and\n"
           "                           {region} are replaced (default: public hosts)\n"
           "    -o projects=A:B        only these projects (default: all)\n"
           "    -o services=S:S        only these services (default: %s)\n"
           "    -o ttl=SECONDS         listing lifetime (default: 60)\n"
           "    -o negative_ttl=SECONDS  lifetime of \"no such name\" (default: 10)\n"
           "    -o max_stale=SECONDS   how old a listing may be served when the API\n"
           "                           fails (default: 3600)\n"
           "    -o max_conns=N         concurrent API requests, 1-256 (default: 8)\n"
           "    -o max_records=N       most records in one listing (default: 1000000)\n"
           "    -o max_listing_bytes=BYTES  most bytes of one listing, e.g. 1G\n"
           "                           (default: 512M)\n"
           "    -o timeout=SECONDS     deadline of one API call, retries included\n"
           "                           (default: 30)\n"
           "    -o cafile=PATH         extra CA bundle (default: the system's)\n"
           "    -o metrics=PATH        write Prometheus text-format metrics to PATH\n"
           "                           (atomically replaced; default: off)\n"
           "    -o metrics_interval=SECONDS  how often metrics= is rewritten (default: 15)\n"
           "    -o log=syslog|stderr|PATH  where log lines go (default: syslog when\n"
           "                           daemonised, stderr with -f)\n"
           "    -o uid=N  -o gid=N     owner of every entry (default: the mounting user)\n"
           "    -o allow_insecure_http send credentials over plain http:// to hosts other\n"
           "                           than loopback (default: such requests fail)\n"
           "\n"
           "credentials, first found wins:\n"
           "    " ENV_AK " + " ENV_SK "\n"
           "        (+ " ENV_SECURITY_TOKEN ", " ENV_DOMAIN_ID ")\n"
           "    " ENV_TOKEN " (one project; it cannot be renewed)\n"
           "    IAM password: " ENV_PASSWORD " or [auth] password_file=, with the user\n"
           "        and account from " ENV_USER " and " ENV_DOMAIN " or [auth] user=\n"
           "        and domain= (a token per project, renewed before it expires)\n"
           "    the config file's [auth] group: ak= + sk=, token= or token_file=\n"
           "\n"
           "FUSE options:\n",
           progname, progname, braces, colons);
    fuse_lowlevel_help();
    printf("    -o default_permissions let the kernel check permissions\n"
           "\n"
           "See dbbackupfs(1).\n");
}

void dbb_options_print_version(void)
{
    printf("dbbackupfs %s\n", DBB_VERSION);
    printf("FUSE library version %s\n", fuse_pkgversion());
    fflush(stdout); /* fuse_lowlevel_version() also runs fusermount3, writing to our stdout */
    fuse_lowlevel_version();
}
