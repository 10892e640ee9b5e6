/* OpenMP queries that compile with or without OpenMP support. */
#ifndef EBM_OPENMP_H
#define EBM_OPENMP_H

#ifdef _OPENMP
#include <omp.h>
static inline int ebm_openmp_enabled(void) { return 1; }
static inline int ebm_max_threads(void) { return omp_get_max_threads(); }
#else
static inline int ebm_openmp_enabled(void) { return 0; }
static inline int ebm_max_threads(void) { return 1; }
#endif

#endif
