#ifndef VIPPS_CSYSTEM_SIGNAL_H
#define VIPPS_CSYSTEM_SIGNAL_H

/// signalfd(2) (blocking, close-on-exec) for the `count` signals in `signals`; -1 with errno on failure. The signals
/// must be blocked in every thread, or a thread that does not block one may take it before the descriptor sees it.
int csystem_signalfd_open(const int *signals, int count);

/// Reads one signal from a signalfd made by `csystem_signalfd_open`: its number, 0 at end of file, or -1 with errno.
int csystem_signalfd_read(int fd);

#endif
