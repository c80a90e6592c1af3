// reaper: run a command as a child subreaper, so every process it leaves orphaned (WebKit helpers,
// the accessibility bus that D-Bus starts, ...) is reparented here instead of to init, reaped when it
// exits, and stopped (SIGTERM, SIGKILL after 2 s) when the command is done.
//
//   reaper PROGRAM [ARGS...]      exits with PROGRAM's status
//
// scripts/bench runs itself under it: this machine's init does not reap orphans, which would stay
// as zombies. SIGTERM and SIGHUP are passed on to PROGRAM; SIGINT is not (a terminal sends it to
// the whole process group, PROGRAM included). Build: cc -O2 -o reaper reaper.c
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t forward = 0;
static void on_signal(int sig) { forward = sig; }

// Sends sig to every process whose parent is this one; returns how many there were.
static int signal_children(int sig) {
    DIR *dir = opendir("/proc");
    if (!dir) return 0;
    pid_t self = getpid();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *paren = strrchr(buf, ')');
        char state;
        long ppid;
        if (!paren || sscanf(paren + 1, " %c %ld", &state, &ppid) != 2) continue;
        if (ppid != self || state == 'Z') continue;
        kill((pid_t)pid, sig);
        n++;
    }
    closedir(dir);
    return n;
}

static void reap_all(void) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: reaper PROGRAM [ARGS...]\n");
        return 64;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) perror("reaper: PR_SET_CHILD_SUBREAPER");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGINT, SIG_IGN);

    pid_t main_child = fork();
    if (main_child < 0) {
        perror("reaper: fork");
        return 2;
    }
    if (main_child == 0) {
        signal(SIGINT, SIG_DFL);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "reaper: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }

    int status = 0;
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid == main_child) {
            status = st;
            break;
        }
        if (pid < 0 && errno == EINTR) {
            if (forward) {
                kill(main_child, forward);
                forward = 0;
            }
            continue;
        }
        if (pid < 0) break;  // ECHILD: cannot happen before main_child is reaped
    }

    // The command is done: stop what it left behind, reaping as they exit.
    if (signal_children(SIGTERM) > 0) {
        for (int i = 0; i < 40; i++) {
            reap_all();
            if (signal_children(0) == 0) break;
            sleep_ms(50);
        }
        if (signal_children(SIGKILL) > 0) {
            for (int i = 0; i < 40 && signal_children(0) > 0; i++) {
                reap_all();
                sleep_ms(50);
            }
        }
    }
    reap_all();
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}
