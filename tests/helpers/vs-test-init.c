/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tiny static init for tests: lifecycle tests boot it as a guest's PID 1
 * in a fraction of a second with no distribution, and run it again inside the
 * guest through vs-enter to look around (pid, host name, fds, environment,
 * capabilities, files). Started as "init-ignore-halt" it ignores every
 * signal, to test a stop that must end in SIGKILL. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_dir(const char *path, int numeric_only_skip_fd)
{
        DIR *d = opendir(path);
        char *names[4096];
        int n = 0;
        struct dirent *de;

        if (!d) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        while ((de = readdir(d)) && n < 4096) {
                if (de->d_name[0] == '.')
                        continue;
                if (numeric_only_skip_fd && atoi(de->d_name) == dirfd(d))
                        continue;
                names[n++] = strdup(de->d_name);
        }
        closedir(d);
        if (numeric_only_skip_fd) {
                for (int i = 0; i < n; i++)
                        for (int j = i + 1; j < n; j++)
                                if (atoi(names[j]) < atoi(names[i])) {
                                        char *t = names[i];
                                        names[i] = names[j];
                                        names[j] = t;
                                }
        } else
                qsort(names, (size_t)n, sizeof(char *), cmp);
        for (int i = 0; i < n; i++)
                puts(names[i]);
        return 0;
}

static int cat(const char *path)
{
        char buf[8192];
        ssize_t k;
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t)k, stdout);
        close(fd);
        return 0;
}

static int write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        return 0;
}

static int run_init(int ignore)
{
        sigset_t all;
        int sig;

        printf("vs-test-init: running as pid %d%s\n", (int)getpid(), ignore ? " (ignoring signals)" : "");
        fflush(stdout);
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        for (;;) {
                if (sigwait(&all, &sig) != 0)
                        continue;
                if (sig == SIGCHLD) {
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
                        continue;
                }
                if (ignore)
                        continue;
                if (sig == SIGRTMIN + 3 || sig == SIGPWR || sig == SIGINT || sig == SIGTERM) {
                        printf("vs-test-init: halting on signal %d\n", sig);
                        fflush(stdout);
                        return 0;
                }
        }
}

int main(int argc, char **argv)
{
        const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        const char *a = argc > 1 ? argv[1] : "--init";

        if (strcmp(base, "init-ignore-halt") == 0 && argc == 1)
                return run_init(1);
        if (!strcmp(a, "--init"))
                return run_init(0);
        if (!strcmp(a, "--ignore-halt"))
                return run_init(1);
        if (!strcmp(a, "--exit") && argc > 2)
                return atoi(argv[2]);
        if (!strcmp(a, "--sleep") && argc > 2) {
                sleep((unsigned)atoi(argv[2]));
                return 0;
        }
        if (!strcmp(a, "--pid")) {
                printf("%d %d\n", (int)getpid(), (int)getppid());
                return 0;
        }
        if (!strcmp(a, "--hostname")) {
                struct utsname u;
                uname(&u);
                puts(u.nodename);
                return 0;
        }
        if (!strcmp(a, "--fds"))
                return list_dir("/proc/self/fd", 1);
        if (!strcmp(a, "--env")) {
                for (char **e = environ; *e; e++)
                        puts(*e);
                return 0;
        }
        if (!strcmp(a, "--cwd")) {
                char buf[4096];
                puts(getcwd(buf, sizeof(buf)) ? buf : "?");
                return 0;
        }
        if (!strcmp(a, "--cat") && argc > 2)
                return cat(argv[2]);
        if (!strcmp(a, "--write") && argc > 3)
                return write_file(argv[2], argv[3]);
        if (!strcmp(a, "--ls") && argc > 2)
                return list_dir(argv[2], 0);
        if (!strcmp(a, "--status")) {
                FILE *f = fopen("/proc/self/status", "r");
                char line[256];
                if (!f)
                        return 1;
                while (fgets(line, sizeof(line), f))
                        if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8))
                                fputs(line, stdout);
                fclose(f);
                return 0;
        }
        fprintf(stderr, "vs-test-init: unknown arguments\n");
        return 2;
}
