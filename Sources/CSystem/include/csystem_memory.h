#ifndef VIPPS_CSYSTEM_MEMORY_H
#define VIPPS_CSYSTEM_MEMORY_H
#include <stddef.h>

/// malloc_trim(3): gives the free memory of every malloc arena back to the kernel (not only the top of the heap).
/// 1 when some memory was released, 0 otherwise.
int csystem_malloc_trim(size_t pad);

/// mallopt(M_ARENA_MAX, count): at most `count` malloc arenas for the whole process. 1 on success, 0 otherwise.
int csystem_malloc_arena_max(int count);

/// mallopt(M_MMAP_THRESHOLD, bytes): blocks of at least `bytes` are mapped on their own (and unmapped when freed); a
/// fixed value also stops glibc from raising the threshold as mapped blocks are freed. 1 on success, 0 otherwise.
int csystem_malloc_mmap_threshold(int bytes);

#endif
