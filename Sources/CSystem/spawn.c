#include "csystem_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

int csystem_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd, const char *cwd) {
    int fds[3] = {stdin_fd, stdout_fd, stderr_fd};
    int moved[3] = {-1, -1, -1};
    int rc = 0;
    // A source descriptor below 3 could be overwritten by an earlier dup2 in the child: move it up first.
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 3) {
            moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
            if (moved[i] < 0) {
                rc = errno;
                goto close_moved;
            }
            fds[i] = moved[i];
        }
    }

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) {
        goto close_moved;
    }
    if ((rc = posix_spawnattr_init(&attr)) != 0) {
        goto destroy_actions;
    }
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = posix_spawn_file_actions_adddup2(&actions, fds[i], i);
    }
    if (rc == 0) {
        rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    }
    if (rc == 0 && cwd != NULL) {
        rc = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    }
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    if (rc == 0) {
        rc = posix_spawnattr_setsigmask(&attr, &empty);
    }
    if (rc == 0) {
        rc = posix_spawnattr_setsigdefault(&attr, &all);
    }
    if (rc == 0) {
        rc = posix_spawnattr_setpgroup(&attr, 0);
    }
    if (rc == 0) {
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    }
    if (rc == 0) {
        rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    }

    posix_spawnattr_destroy(&attr);
destroy_actions:
    posix_spawn_file_actions_destroy(&actions);
close_moved:
    for (int i = 0; i < 3; i++) {
        if (moved[i] >= 0) {
            close(moved[i]);
        }
    }
    return rc;
}

int csystem_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}
