"""Command line, markdown tables and optional matplotlib shared by the experiment scripts."""

import argparse
import os
import platform
import sys
import time


def parse_args(description, default_output="experiment-results"):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true",
                        help="run a reduced size that finishes in seconds (for tests)")
    parser.add_argument("--output-dir", default=default_output,
                        help="directory for the PNG and the markdown table "
                             f"(default: {default_output})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--no-plot", action="store_true",
                        help="write only the markdown table, even when matplotlib is installed")
    return parser.parse_args()


def markdown_table(header, rows):
    """Return a markdown table; floats in rows must already be formatted as text."""
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def environment_line(seconds):
    """Return one line with the command, the Python and NumPy versions and the run time."""
    import numpy

    command = " ".join(["python", os.path.relpath(sys.argv[0])] + sys.argv[1:])
    return (f"Command: `{command}`; Python {platform.python_version()}, NumPy "
            f"{numpy.__version__}, {os.cpu_count()} CPUs visible; ran in {seconds:.1f} s.\n")


def pyplot_or_none(no_plot):
    """Return matplotlib.pyplot with the Agg backend, or None (with a message) without it."""
    if no_plot:
        return None
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: skipping the plot, writing the table only.")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def write_outputs(output_dir, name, markdown, figure):
    """Write NAME.md, and NAME.png when figure is not None; print what was written."""
    os.makedirs(output_dir, exist_ok=True)
    table_path = os.path.join(output_dir, name + ".md")
    with open(table_path, "w", encoding="utf-8") as f:
        f.write(markdown)
    print(markdown)
    print(f"wrote {table_path}")
    if figure is not None:
        png_path = os.path.join(output_dir, name + ".png")
        figure.savefig(png_path, dpi=110, bbox_inches="tight")
        print(f"wrote {png_path}")


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
