#ifndef VIPPS_CSYSTEM_SPAWN_H
#define VIPPS_CSYSTEM_SPAWN_H
#include <sys/types.h>

/// posix_spawn(2) for hooks: `stdin_fd`, `stdout_fd`, `stderr_fd` become the child's 0, 1, 2 and every other
/// descriptor is closed in the child; the child gets an empty signal mask, default dispositions for every signal
/// (so SIGPIPE and SIGTERM act normally even when the parent ignores or blocks them) and its own process group
/// (pgid = pid), so the whole group can be killed with kill(-pid, sig). No PATH search: `path` is used as given
/// (a relative one would be resolved in `cwd`). Unless `cwd` is NULL the child changes to that directory before
/// exec; a directory it cannot enter fails the spawn (ENOENT, EACCES, ...).
/// Returns 0 and stores the pid, or an errno value (nothing is spawned then).
int csystem_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd, const char *cwd);

/// Sets O_NONBLOCK on `fd`; 0, or -1 with errno.
int csystem_set_nonblocking(int fd);

#endif
