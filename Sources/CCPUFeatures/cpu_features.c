#include "CCPUFeatures.h"

// The compiler runtime's CPUID query also checks that the OS saves the AVX-512 register state (XCR0).
int tween_cpu_supports_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}
