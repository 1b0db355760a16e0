#ifndef TWEEN_CCPUFEATURES_H
#define TWEEN_CCPUFEATURES_H

/// 1 when this CPU and the operating system support the AVX-512 subsets the KernelsAVX512 target is compiled for
/// (F, VL, BW, DQ: x86-64-v4), else 0.
int tween_cpu_supports_avx512(void);

/// A hint to bring the cache line holding `p` into L1 (Swift has no prefetch of its own). Never faults.
static inline void tween_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
