#include "csystem_process.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int csystem_pipe_cloexec(int fds[2], int nonblocking) {
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
}

int csystem_pidfd_open(int pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int csystem_child_has_ended(int pid) {
    siginfo_t info = {0};
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    return info.si_pid != 0;
}

int csystem_wifexited(int status) { return WIFEXITED(status); }
int csystem_wexitstatus(int status) { return WEXITSTATUS(status); }
int csystem_wifsignaled(int status) { return WIFSIGNALED(status); }
int csystem_wtermsig(int status) { return WTERMSIG(status); }
