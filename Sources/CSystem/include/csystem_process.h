#ifndef VIPPS_CSYSTEM_PROCESS_H
#define VIPPS_CSYSTEM_PROCESS_H

/// pipe2(2) with O_CLOEXEC (and O_NONBLOCK when `nonblocking` is non-zero).
int csystem_pipe_cloexec(int fds[2], int nonblocking);

/// pidfd_open(2); -1 with errno on failure.
int csystem_pidfd_open(int pid);

/// Whether child `pid` has ended (a zombie not reaped yet), without reaping it: waitid(2) with WNOHANG | WNOWAIT.
/// 1 when it has, 0 when it runs, -1 with errno on failure.
int csystem_child_has_ended(int pid);

/// WIFEXITED / WEXITSTATUS / WIFSIGNALED / WTERMSIG for Swift.
int csystem_wifexited(int status);
int csystem_wexitstatus(int status);
int csystem_wifsignaled(int status);
int csystem_wtermsig(int status);

#endif
