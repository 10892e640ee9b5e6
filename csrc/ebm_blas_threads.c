/*
 * Thread control of the BLAS that scipy.linalg.cython_blas calls.
 *
 * The RBM kernels split their chains into row blocks, one OpenMP thread per
 * block, each calling a single-threaded GEMM. OpenBLAS's own threads would
 * otherwise spin between products and compete with the OpenMP threads. The
 * BLAS library is found as a dependency of the shared object that contains
 * scipy's cython_blas functions. A BLAS other than OpenBLAS exports no known
 * thread-count function; control is then reported unavailable, and the
 * kernels run their blocks on one OpenMP thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stddef.h>

#include "ebm_blas_threads.h"

typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static int lookup_done = 0;
static set_threads_fn set_threads = NULL;
static get_threads_fn get_threads = NULL;

static void lookup(const void *blas_function)
{
    static const char *set_names[] = {
        "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
        "openblas_set_num_threads", "openblas_set_num_threads64_", NULL};
    static const char *get_names[] = {
        "scipy_openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
        "openblas_get_num_threads", "openblas_get_num_threads64_", NULL};
    Dl_info info;
    lookup_done = 1;
    if (!dladdr(blas_function, &info) || info.dli_fname == NULL) return;
    void *handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (handle == NULL) return;
    /* dlsym on a dlopen handle also searches that object's dependencies. */
    for (int i = 0; set_names[i] != NULL; i++) {
        set_threads_fn set = (set_threads_fn)dlsym(handle, set_names[i]);
        get_threads_fn get = (get_threads_fn)dlsym(handle, get_names[i]);
        if (set != NULL && get != NULL) {
            set_threads = set;
            get_threads = get;
            break;
        }
    }
    dlclose(handle); /* RTLD_NOLOAD took a reference; the library stays loaded */
}

int ebm_blas_set_threads(const void *blas_function, int n_threads)
{
    if (!lookup_done) lookup(blas_function);
    if (set_threads == NULL) return -1;
    int previous = get_threads();
    set_threads(n_threads);
    return previous;
}
