#!/usr/bin/env python
"""Time one modern Hopfield update against NumPy and torch's attention.

One update of ``--queries`` float32 queries of dimension ``--dim`` against
M stored patterns is softmax(beta Q X^T) X, the same product as attention
with K = V = X. The methods:

- fast: ``ModernHopfield(X, beta).update(Q)``, the compiled blocked kernel;
- reference: ``backend="reference"``, NumPy with the full score matrix,
  shifted and exponentiated in place;
- torch: ``torch.nn.functional.scaled_dot_product_attention`` on 4-D inputs
  of shape (1, 1, n, d), which selects its CPU flash kernel, when torch is
  installed.

Each (method, M) pair runs in its own subprocess, so that the process peak
resident memory (VmHWM) belongs to that method alone. The report gives the
minimum time over ``--repeats`` runs after one warm-up run, the extra
resident memory above the process after the data were made, and for the
NumPy-based methods the tracemalloc peak of one run. tracemalloc tracks NumPy
allocations but not the compiled kernel's C scratch buffers (up to
256 x block_size scores per thread), which the resident figure includes.

Run from the repository root with ebmfast installed:

    python bench/bench_hopfield.py                     # M = 1e5 and 1e6
    python bench/bench_hopfield.py --sizes 100000 --repeats 5
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import tracemalloc

import numpy as np

METHODS = ("fast", "reference", "torch")
SEED = 0


def read_status_kib(field):
    """Return a field of /proc/self/status in KiB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/self/status")


def make_data(n_patterns, n_queries, dim):
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n_patterns, dim), dtype=np.float32)
    X /= np.sqrt(np.einsum("ij,ij->i", X, X))[:, None]
    Q = X[rng.integers(0, n_patterns, n_queries)]
    Q = Q + 0.1 * rng.standard_normal(Q.shape, dtype=np.float32) / np.sqrt(dim)
    return X, np.ascontiguousarray(Q, dtype=np.float32)


def build_method(method, X, Q, beta, n_threads, block_size):
    """Return a function that runs one update of Q with the given method."""
    if method in ("fast", "reference"):
        from ebmfast.hopfield import ModernHopfield

        net = ModernHopfield(X, beta, backend=method, n_threads=n_threads,
                             block_size=block_size, copy=False)
        return lambda: net.update(Q)
    import torch

    if n_threads is not None:
        torch.set_num_threads(n_threads)
    keys = torch.from_numpy(X).view(1, 1, *X.shape)
    queries = torch.from_numpy(Q).view(1, 1, *Q.shape)

    def run():
        with torch.no_grad():
            out = torch.nn.functional.scaled_dot_product_attention(
                queries, keys, keys, scale=beta)
        return out.numpy()[0, 0]
    return run


def reset_peak_rss():
    """Reset VmHWM to the current resident size (Linux 4.0 and later)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def run_child(args):
    """Time one method at one size and print a JSON record."""
    X, Q = make_data(args.child_size, args.queries, args.dim)
    run = build_method(args.child_method, X, Q, args.beta, args.threads,
                       args.block_size)
    reset_peak_rss()
    baseline_kib = read_status_kib("VmRSS")
    out = run()  # warm-up; also loads the kernels and threads
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    traced = None
    if args.child_method != "torch":
        tracemalloc.start()
        run()
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    record = {
        "method": args.child_method,
        "n_patterns": args.child_size,
        "seconds": min(times),
        "seconds_all": times,
        "extra_rss_mib": (read_status_kib("VmHWM") - baseline_kib) / 1024,
        "traced_mib": None if traced is None else traced / 2**20,
        "patterns_mib": X.nbytes / 2**20,
        "checksum": float(np.abs(out).sum()),
    }
    print(json.dumps(record))


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_one(method, size, args):
    command = [sys.executable, os.path.abspath(__file__),
               "--child-method", method, "--child-size", str(size),
               "--queries", str(args.queries), "--dim", str(args.dim),
               "--beta", str(args.beta), "--repeats", str(args.repeats),
               "--block-size", str(args.block_size)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{method} at M={size} failed:\n{done.stderr}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def versions():
    import scipy

    import ebmfast

    parts = [f"ebmfast {ebmfast.__version__}", f"numpy {np.__version__}",
             f"scipy {scipy.__version__}"]
    if torch_available():
        import torch
        parts.append(f"torch {torch.__version__}")
    return ", ".join(parts)


def format_mib(value):
    return "-" if value is None else f"{value:,.0f}"


def print_report(records, args):
    print("## Modern Hopfield: one update, float32\n")
    print(f"Command: `{shlex.join(['python'] + sys.argv)}`\n")
    print(f"{args.queries} queries, d = {args.dim}, beta = {args.beta}, "
          f"block_size = {args.block_size}, n_threads = {args.threads}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"{versions()}. Time: minimum of {args.repeats} runs after a warm-up. "
          "Extra RSS: peak resident memory above the process after the data "
          "were made. Traced: tracemalloc peak of one run (NumPy allocations).\n")
    print("| M | method | time (s) | vs fast | all runs (s) | extra RSS (MiB) "
          "| traced (MiB) | patterns (MiB) |")
    print("| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for size in args.sizes:
        rows = [r for r in records if r["n_patterns"] == size]
        fast = next((r for r in rows if r["method"] == "fast"), None)
        for r in rows:
            ratio = "-" if fast is None else f"{r['seconds'] / fast['seconds']:.2f}x"
            runs = ", ".join(f"{t:.3f}" for t in r["seconds_all"])
            print(f"| {size:,} | {r['method']} | {r['seconds']:.3f} | {ratio} | {runs} "
                  f"| {format_mib(r['extra_rss_mib'])} | {format_mib(r['traced_mib'])} "
                  f"| {format_mib(r['patterns_mib'])} |")
    print("\n'vs fast' is the method's time divided by the fast backend's time.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="numbers of stored patterns M")
    parser.add_argument("--queries", type=int, default=1000, help="queries per update")
    parser.add_argument("--dim", type=int, default=64, help="pattern dimension d")
    parser.add_argument("--beta", type=float, default=8.0, help="inverse temperature")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method")
    parser.add_argument("--block-size", type=int, default=512,
                        help="patterns per block of the fast kernel")
    parser.add_argument("--threads", type=int, default=None,
                        help="n_threads for ebmfast and torch.set_num_threads")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--child-method", help=argparse.SUPPRESS)
    parser.add_argument("--child-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_method:
        run_child(args)
        return
    methods = [m for m in args.methods if m != "torch" or torch_available()]
    if "torch" in args.methods and "torch" not in methods:
        print("torch is not installed; skipping it.", file=sys.stderr)
    records = []
    for size in args.sizes:
        for method in methods:
            record = run_one(method, size, args)
            if record is not None:
                records.append(record)
    print_report(records, args)


if __name__ == "__main__":
    main()
