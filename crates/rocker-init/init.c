/*
 * rocker-init: the tiny init that `--init` runs as a container's PID 1 (mounted read-only at
 * /sbin/docker-init, where Docker puts its tini).
 *
 * Why it exists: a program that is not written to be PID 1 neither reaps the orphans that
 * get re-parented to it (they pile up as zombies) nor gets default signal actions (the
 * kernel drops SIGTERM/SIGINT to a PID 1 without a handler, so `stop` has to wait for the
 * timeout and SIGKILL). This init blocks every catchable signal, runs the command as its
 * child, forwards every signal it receives to that child, reaps every child that exits, and
 * exits with the command's status (128+signal when it was killed).
 *
 * Built statically (gcc -static -Os -s) by crates/rocker-engine/build.rs; no dynamic memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROCKER_INIT_VERSION "0.1.0"

/* Signals that are about this process's own faults: never blocked (blocking them hides a
 * crash) and never forwarded. */
static const int sync_signals[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS};

static void usage(void)
{
    fprintf(stderr, "usage: rocker-init [--] COMMAND [ARG...]\n"
                    "       rocker-init -v|--version\n");
}

/* Child side: own process group, foreground of the terminal if any, then exec. */
static void exec_child(char **argv, const sigset_t *orig_mask)
{
    if (setpgid(0, 0) != 0) {
        fprintf(stderr, "rocker-init: setpgid failed: %s\n", strerror(errno));
    }
    /* SIGTTOU is still blocked here, so a background process group may take the tty. */
    if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) != 0 && errno != ENOTTY) {
        fprintf(stderr, "rocker-init: tcsetpgrp failed: %s\n", strerror(errno));
    }
    if (sigprocmask(SIG_SETMASK, orig_mask, NULL) != 0) {
        fprintf(stderr, "rocker-init: restoring the signal mask failed: %s\n", strerror(errno));
        _exit(1);
    }
    execvp(argv[0], argv);
    int err = errno;
    fprintf(stderr, "rocker-init: exec %s failed: %s\n", argv[0], strerror(err));
    _exit(err == EACCES ? 126 : 127);
}

/* Reaps every exited child; returns 1 and sets *code when the main child was among them. */
static int reap(pid_t child, int *code)
{
    int done = 0;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            /* 0: children left but none exited; -1/ECHILD: none left. */
            return done;
        }
        if (pid == child) {
            if (WIFEXITED(status)) {
                *code = WEXITSTATUS(status);
            } else if (WIFSIGNALED(status)) {
                *code = 128 + WTERMSIG(status);
            } else {
                continue;
            }
            done = 1;
        }
    }
}

int main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("rocker-init version %s\n", ROCKER_INIT_VERSION);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--") == 0) {
        first = 2;
    } else if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0') {
        fprintf(stderr, "rocker-init: unknown option %s\n", argv[1]);
        usage();
        return 1;
    }
    if (first >= argc) {
        usage();
        return 1;
    }

    sigset_t all, orig;
    sigfillset(&all);
    for (size_t i = 0; i < sizeof(sync_signals) / sizeof(sync_signals[0]); i++) {
        sigdelset(&all, sync_signals[i]);
    }
    if (sigprocmask(SIG_SETMASK, &all, &orig) != 0) {
        fprintf(stderr, "rocker-init: blocking signals failed: %s\n", strerror(errno));
        return 1;
    }

    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "rocker-init: fork failed: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        exec_child(&argv[first], &orig);
    }

    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "rocker-init: sigwaitinfo failed: %s\n", strerror(errno));
            return 1;
        }
        if (sig == SIGCHLD) {
            int code = 0;
            if (reap(child, &code)) {
                return code;
            }
            continue;
        }
        /* Everything else (SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGTSTP, SIGTTIN, SIGTTOU,
         * SIGWINCH, ...) goes to the command. ESRCH only means it already exited and its
         * SIGCHLD is on its way. */
        if (kill(child, sig) != 0 && errno != ESRCH) {
            fprintf(stderr, "rocker-init: forwarding signal %d failed: %s\n", sig,
                    strerror(errno));
        }
    }
}
