#include "csystem_signal.h"
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int csystem_signalfd_open(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int csystem_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t count = read(fd, &info, sizeof info);
    if (count < 0) return -1;
    if (count < (ssize_t)sizeof info) return 0;
    return (int)info.ssi_signo;
}
