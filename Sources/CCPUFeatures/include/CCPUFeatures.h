#ifndef TWEEN_CCPUFEATURES_H
#define TWEEN_CCPUFEATURES_H

/// 1 when this CPU and the operating system support the AVX-512 subsets the KernelsAVX512 target is compiled for
/// (F, VL, BW, DQ: x86-64-v4), else 0.
int tween_cpu_supports_avx512(void);

#endif
