"""Build and runtime facts: ``ebmfast.show_config()``."""

import os
import sys

import numpy as np


def _blas_info():
    """Describe the BLAS the kernels call, which is scipy's."""
    try:
        import scipy
        config = scipy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        text = f"{blas.get('name', 'unknown')} {blas.get('version', '')} (scipy {scipy.__version__})"
    except Exception as error:  # scipy's config layout is not a stable API
        text = f"unknown ({type(error).__name__}: {error})"
    details = []
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        details.append("install threadpoolctl to see the loaded BLAS kernels and threads")
    else:
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                details.append(
                    f"{pool.get('internal_api')} {pool.get('version')}, "
                    f"{pool.get('architecture')}, {pool.get('num_threads')} threads: "
                    f"{pool.get('filepath')}")
    return text, details


def config_dict():
    """Return the facts printed by :func:`show_config` as a dict."""
    from . import __version__
    from ._parallel import max_threads, openmp_enabled

    blas, blas_details = _blas_info()
    return {
        "ebmfast": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "openmp": openmp_enabled(),
        "default_n_threads": max_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "blas": blas,
        "blas_libraries": blas_details,
    }


def show_config():
    """Print the version, OpenMP support, default thread count and BLAS."""
    info = config_dict()
    print(f"ebmfast {info['ebmfast']}")
    print(f"  python:            {info['python']}")
    print(f"  numpy:             {info['numpy']}")
    print(f"  OpenMP:            {'enabled' if info['openmp'] else 'not compiled in (serial kernels)'}")
    print(f"  default n_threads: {info['default_n_threads']}"
          f" (OMP_NUM_THREADS={info['OMP_NUM_THREADS'] or 'unset'})")
    print(f"  BLAS:              {info['blas']}")
    for line in info["blas_libraries"]:
        print(f"    {line}")
