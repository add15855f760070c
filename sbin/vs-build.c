/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-build NAME [OPTIONS]\n"
               "Build a guest from a template into /var/lib/vservers/NAME and write\n"
               "its configuration to /etc/vservers/NAME.conf.\n\n"
               "  -t, --template NAME   template to build from (default: debian)\n"
               "  -r, --release NAME    distribution release (default: bookworm)\n"
               "      --arch ARCH       architecture (default: the host's)\n"
               "  -i, --init KIND       systemd (default) or sysvinit\n"
               "      --include PKGS    extra packages, comma-separated\n"
               "      --mirror URL      package mirror (default: the host's apt source)\n"
               "      --hostname NAME   the guest's host name (default: NAME)\n"
               "  -s, --set KEY=VALUE   set a config key, e.g. --set guest.autostart=yes\n"
               "      --cpu-weight N    fair CPU share, 1..10000 (default 100)\n"
               "      --cpu-max PCT     hard CPU cap, e.g. 50%% or 150%%\n"
               "      --cpus LIST       CPUs the guest may use, e.g. 0-1\n"
               "      --rss SIZE        memory limit (K, M, G, T)\n"
               "      --anon SIZE       anonymous memory limit\n"
               "      --memlock SIZE    locked memory limit (RLIMIT_MEMLOCK)\n"
               "      --pids N          process limit\n"
               "      --ip ADDR/LEN[,ADDR/LEN...]\n"
               "                        the guest's addresses, IPv4 and/or IPv6 (default: the\n"
               "                        next free one of each pool in defaults.conf)\n"
               "      --bridge NAME     bridge to attach to (default: defaults.conf, vsbr0)\n"
               "      --rate RATE       guaranteed bandwidth each way, e.g. 20mbit\n"
               "      --ceil RATE       bandwidth it may borrow up to (default: the rate)\n"
               "      --io-weight N     proportional I/O share, 1..10000 (needs bfq)\n"
               "      --read-bps SIZE   read cap per second on the guest's disk, e.g. 20M\n"
               "      --write-bps SIZE  write cap per second\n"
               "      --read-iops N     read requests per second\n"
               "      --write-iops N    write requests per second\n"
               "      --disk SIZE       root on its own ext4 image of SIZE (layout image);\n"
               "                        with --layout dir or --shared, a project quota of SIZE\n"
               "      --shared          root as an overlay on the shared template (layout shared)\n"
               "      --layout KIND     dir (default), image or shared\n"
               "      --clone GUEST     copy the stopped GUEST instead of using a template\n"
               "      --from-tar FILE   import a root tarball (.tar, .tar.gz, .tar.xz, .tar.zst)\n"
               "      --ssh-key FILE    add the public keys in FILE to root's authorized_keys\n"
               "                        (repeatable; guest.ssh_keys)\n"
               "      --root-password-file FILE\n"
               "                        root's password, the first line of FILE (- for stdin);\n"
               "                        only its hash is kept (guest.root_password_hash)\n"
               "      --dns ADDR[,ADDR] the guest's name servers (guest.dns)\n"
               "      --timezone ZONE   the guest's time zone, e.g. Europe/Berlin (guest.timezone)\n"
               "      --unprivileged    guest root is an unprivileged host user, in a user\n"
               "                        namespace of its own (guest.userns=yes, guest.idmap=auto);\n"
               "                        the default, except with --clone (the source's mode)\n"
               "      --privileged      guest root is host root (guest.userns=no)\n"
               "  -f, --force           rebuild a guest that exists (it must be stopped);\n"
               "                        with --clone, also copy a running guest, frozen\n"
               "  -h, --help            show this help\n"
               "      --version         show the version\n\n"
               "See vs-build(8).\n");
}

int main(int argc, char **argv)
{
        enum { OPT_ARCH = 256, OPT_INCLUDE, OPT_MIRROR, OPT_HOSTNAME, OPT_VERSION, OPT_DISK, OPT_SHARED, OPT_LAYOUT,
               OPT_CLONE, OPT_FROM_TAR, OPT_PRIVILEGED, OPT_UNPRIVILEGED, OPT_SSH_KEY, OPT_PASSWORD_FILE, OPT_DNS,
               OPT_TIMEZONE, OPT_IO, OPT_LIMIT = OPT_IO + 8 };
        /* I/O options, config keys under another name too. */
        static const char *const io_keys[] = { "io.weight", "io.read_bps", "io.write_bps", "io.read_iops",
                                               "io.write_iops" };
        /* Limit options are config keys under another name. */
        static const char *const limit_keys[] = { "cpu.weight", "cpu.max", "cpu.cpus", "memory.rss",
                                                   "memory.anon", "memory.memlock", "memory.pids",
                                                   "net.address", "net.bridge", "net.rate", "net.ceil" };
        static const struct option opts[] = {
                { "template", required_argument, NULL, 't' }, { "release", required_argument, NULL, 'r' },
                { "arch", required_argument, NULL, OPT_ARCH }, { "init", required_argument, NULL, 'i' },
                { "include", required_argument, NULL, OPT_INCLUDE }, { "mirror", required_argument, NULL, OPT_MIRROR },
                { "hostname", required_argument, NULL, OPT_HOSTNAME }, { "set", required_argument, NULL, 's' },
                { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "disk", required_argument, NULL, OPT_DISK }, { "shared", no_argument, NULL, OPT_SHARED },
                { "layout", required_argument, NULL, OPT_LAYOUT }, { "clone", required_argument, NULL, OPT_CLONE },
                { "from-tar", required_argument, NULL, OPT_FROM_TAR },
                { "privileged", no_argument, NULL, OPT_PRIVILEGED },
                { "unprivileged", no_argument, NULL, OPT_UNPRIVILEGED },
                { "ssh-key", required_argument, NULL, OPT_SSH_KEY },
                { "root-password-file", required_argument, NULL, OPT_PASSWORD_FILE },
                { "dns", required_argument, NULL, OPT_DNS }, { "timezone", required_argument, NULL, OPT_TIMEZONE },
                { "cpu-weight", required_argument, NULL, OPT_LIMIT + 0 }, { "cpu-max", required_argument, NULL, OPT_LIMIT + 1 },
                { "cpus", required_argument, NULL, OPT_LIMIT + 2 }, { "rss", required_argument, NULL, OPT_LIMIT + 3 },
                { "anon", required_argument, NULL, OPT_LIMIT + 4 }, { "memlock", required_argument, NULL, OPT_LIMIT + 5 },
                { "pids", required_argument, NULL, OPT_LIMIT + 6 }, { "ip", required_argument, NULL, OPT_LIMIT + 7 },
                { "bridge", required_argument, NULL, OPT_LIMIT + 8 }, { "rate", required_argument, NULL, OPT_LIMIT + 9 },
                { "ceil", required_argument, NULL, OPT_LIMIT + 10 },
                { "io-weight", required_argument, NULL, OPT_IO + 0 }, { "read-bps", required_argument, NULL, OPT_IO + 1 },
                { "write-bps", required_argument, NULL, OPT_IO + 2 }, { "read-iops", required_argument, NULL, OPT_IO + 3 },
                { "write-iops", required_argument, NULL, OPT_IO + 4 }, {}
        };
        struct vs_build_opts o = { 0 };
        struct vs_error err = { 0 };
        char **settings = NULL, **keys = NULL;
        size_t n_settings = 0, n_keys = 0;
        int mode = 0; /* OPT_PRIVILEGED or OPT_UNPRIVILEGED */
        int c, r;

        cmd_init(argv[0]);
        /* getopt permutes: the name may come before or after the options. */
        while ((c = getopt_long(argc, argv, "t:r:i:s:fh", opts, NULL)) >= 0) {
                switch (c) {
                case 't': o.template_name = optarg; break;
                case 'r': o.release = optarg; break;
                case OPT_ARCH: o.arch = optarg; break;
                case 'i': o.init = optarg; break;
                case OPT_INCLUDE: o.include = optarg; break;
                case OPT_MIRROR: o.mirror = optarg; break;
                case OPT_HOSTNAME: o.hostname = optarg; break;
                case 's':
                        settings = realloc(settings, (n_settings + 2) * sizeof(char *));
                        if (!settings)
                                return VS_EXIT_FAILURE;
                        settings[n_settings++] = optarg;
                        settings[n_settings] = NULL;
                        break;
                case OPT_LIMIT + 0: case OPT_LIMIT + 1: case OPT_LIMIT + 2: case OPT_LIMIT + 3:
                case OPT_LIMIT + 4: case OPT_LIMIT + 5: case OPT_LIMIT + 6: case OPT_LIMIT + 7:
                case OPT_LIMIT + 8: case OPT_LIMIT + 9: case OPT_LIMIT + 10:
                        settings = realloc(settings, (n_settings + 2) * sizeof(char *));
                        if (!settings)
                                return VS_EXIT_FAILURE;
                        settings[n_settings++] = vs_strdupf("%s=%s", limit_keys[c - OPT_LIMIT], optarg);
                        settings[n_settings] = NULL;
                        break;
                case OPT_IO + 0: case OPT_IO + 1: case OPT_IO + 2: case OPT_IO + 3: case OPT_IO + 4:
                        settings = realloc(settings, (n_settings + 2) * sizeof(char *));
                        if (!settings)
                                return VS_EXIT_FAILURE;
                        settings[n_settings++] = vs_strdupf("%s=%s", io_keys[c - OPT_IO], optarg);
                        settings[n_settings] = NULL;
                        break;
                case OPT_DISK: case OPT_SHARED: case OPT_LAYOUT:
                        /* Disk options are config keys too (vserver.conf(5), [disk]). */
                        settings = realloc(settings, (n_settings + 2) * sizeof(char *));
                        if (!settings)
                                return VS_EXIT_FAILURE;
                        settings[n_settings++] = c == OPT_DISK     ? vs_strdupf("disk.size=%s", optarg)
                                                 : c == OPT_SHARED ? vs_strdupf("disk.layout=shared")
                                                                   : vs_strdupf("disk.layout=%s", optarg);
                        settings[n_settings] = NULL;
                        break;
                case OPT_PRIVILEGED: case OPT_UNPRIVILEGED:
                        if (mode && mode != c)
                                return cmd_usage_error("--privileged and --unprivileged exclude each other");
                        mode = c;
                        break;
                case OPT_SSH_KEY: /* first-boot access (vserver/provision.c) */
                        keys = realloc(keys, (n_keys + 2) * sizeof(char *));
                        if (!keys)
                                return VS_EXIT_FAILURE;
                        keys[n_keys++] = optarg;
                        keys[n_keys] = NULL;
                        break;
                case OPT_PASSWORD_FILE: o.password_file = optarg; break;
                case OPT_DNS: case OPT_TIMEZONE:
                        settings = realloc(settings, (n_settings + 2) * sizeof(char *));
                        if (!settings)
                                return VS_EXIT_FAILURE;
                        settings[n_settings++] = vs_strdupf("guest.%s=%s", c == OPT_DNS ? "dns" : "timezone", optarg);
                        settings[n_settings] = NULL;
                        break;
                case OPT_CLONE: o.clone_from = optarg; break;
                case OPT_FROM_TAR: o.from_tar = optarg; break;
                case 'f': o.force = true; break;
                case 'h': help(); return VS_EXIT_OK;
                case OPT_VERSION: CMD_VERSION();
                default: return VS_EXIT_USAGE;
                }
        }
        if (optind < argc)
                o.name = argv[optind++];
        if (!o.name)
                return cmd_usage_error("Missing guest name");
        if (optind < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind]);
        /* New guests are unprivileged unless asked otherwise; a clone keeps
         * its source's mode, and --set guest.userns=... names one itself. */
        if (!mode && !o.clone_from) {
                mode = OPT_UNPRIVILEGED;
                for (size_t i = 0; i < n_settings; i++)
                        if (!strncmp(settings[i], "guest.userns=", 13))
                                mode = 0;
        }
        /* The mode goes in as config keys, before any --set, so that an
         * explicit --set guest.idmap=HOSTID:COUNT is kept. */
        if (mode) {
                char **all = calloc(n_settings + 3, sizeof(char *));
                size_t k = 0;
                if (!all)
                        return VS_EXIT_FAILURE;
                all[k++] = mode == OPT_PRIVILEGED ? "guest.userns=no" : "guest.userns=yes";
                if (mode == OPT_UNPRIVILEGED)
                        all[k++] = "guest.idmap=auto";
                for (size_t i = 0; i < n_settings; i++)
                        all[k++] = settings[i];
                free(settings);
                settings = all;
        }
        o.settings = settings;
        o.ssh_key_files = keys;
        o.say = cmd_say;
        cmd_need_root();
        r = vs_guest_build(&o, &err);
        free(settings);
        free(keys);
        if (r < 0)
                return cmd_fail(r, &err, "Build failed");
        return VS_EXIT_OK;
}
