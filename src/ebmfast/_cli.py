"""The ``ebmfast`` command line: ``info`` and ``train-rbm``.

User errors (a missing file, data outside [0, 1], an image shape that does not
fit) print one ``ebmfast: error: ...`` line to stderr and exit with status 1.
Invalid options are reported by argparse with status 2.
"""

import argparse
import csv
import math
import os
import sys
import time

import numpy as np

import ebmfast

__all__ = ["build_parser", "main"]

PROG = "ebmfast"
EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130

# history_ columns written first to metrics.csv, in this order. Any other
# keys that the model records follow them.
METRIC_COLUMNS = ("epoch", "reconstruction_error", "pseudo_likelihood", "seconds")
# Tiles in samples.png and filters.png are enlarged until their longer side
# reaches this many pixels, so 8x8 digits are drawn at 4x.
MIN_TILE_PIXELS = 32


class CommandError(Exception):
    """A problem with the user's input that ends the command with status 1."""


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser():
    """Build the argument parser with the ``info`` and ``train-rbm`` subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Energy-based models on the CPU.",
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {ebmfast.__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser(
        "info",
        help="print the version, OpenMP support, default thread count and BLAS",
        description="Print the ebmfast version, whether OpenMP is compiled in, "
        "the default thread count and the BLAS library in use.",
    )
    info.set_defaults(handler=_run_info)

    train = commands.add_parser(
        "train-rbm",
        help="train a Bernoulli RBM and write the model, metrics and images",
        description="Train a Bernoulli RBM on the bundled 8x8 digits or on "
        "your own data, then write model.npz, metrics.csv, samples.png and "
        "filters.png to the output folder and print the reconstruction error "
        "and the average log-likelihood, with log Z exact when a layer has at "
        "most 20 units and estimated by AIS otherwise.",
    )
    _add_train_rbm_arguments(train)
    train.set_defaults(handler=_run_train_rbm)
    return parser


def _add_train_rbm_arguments(parser):
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", metavar="PATH",
        help="data file, one sample per row: .npy, .npz or MNIST IDX, plain "
        "or gzip-compressed (default: the bundled 1797 8x8 digits)",
    )
    data.add_argument(
        "--key", metavar="NAME",
        help="array to read from an .npz file that contains several arrays",
    )
    data.add_argument(
        "--scale", choices=("auto", "none", "max"), default="auto",
        help="auto: divide by the data maximum if it exceeds 1 (255 for "
        "most 8-bit images, 16 for the digits); max: always divide by the "
        "maximum; "
        "none: use the values as stored, which must lie in [0, 1] "
        "(default: %(default)s)",
    )
    data.add_argument(
        "--binarize", type=_unit_fraction, metavar="THRESHOLD",
        help="after scaling, set values above THRESHOLD to 1 and the rest to 0",
    )
    data.add_argument(
        "--image-shape", type=_positive_int, nargs=2, metavar=("H", "W"),
        help="height and width of one image, for the PNG files (default: "
        "square if the number of visible units is a perfect square, else "
        "one row)",
    )

    model = parser.add_argument_group("model and training")
    model.add_argument("--n-hidden", type=_positive_int, default=100,
                       help="number of hidden units (default: %(default)s)")
    model.add_argument("--epochs", type=_positive_int, default=30,
                       help="passes over the data (default: %(default)s)")
    model.add_argument("--learning-rate", type=_positive_float, default=0.05,
                       help="step size of the gradient updates (default: %(default)s)")
    model.add_argument("--batch-size", type=_positive_int, default=10,
                       help="samples per gradient update (default: %(default)s)")
    model.add_argument("--k", type=_positive_int, default=1,
                       help="Gibbs steps per update, as in CD-k (default: %(default)s)")
    model.add_argument("--persistent", action="store_true",
                       help="use persistent contrastive divergence (PCD) "
                       "instead of CD")
    model.add_argument("--momentum", type=_unit_fraction, default=0.5,
                       help="momentum of the updates, in [0, 1) (default: %(default)s)")
    model.add_argument("--weight-decay", type=_nonnegative_float, default=1e-4,
                       help="L2 penalty on the weights (default: %(default)s)")
    model.add_argument("--seed", type=_nonnegative_int, default=0,
                       help="seed for training, sampling and AIS (default: %(default)s)")
    model.add_argument("--n-threads", type=_positive_int,
                       help="threads for the compiled kernels (default: "
                       "every thread that OpenMP allows)")
    model.add_argument("--backend", choices=("fast", "reference"), default="fast",
                       help="fast: compiled kernels; reference: the NumPy "
                       "version (default: %(default)s)")

    evaluation = parser.add_argument_group("samples and evaluation")
    evaluation.add_argument("--sample-steps", type=_positive_int, default=1000,
                            help="Gibbs steps per sample for samples.png "
                            "(default: %(default)s)")
    evaluation.add_argument("--n-samples", type=_positive_int, default=100,
                            help="number of samples in samples.png (default: %(default)s)")
    evaluation.add_argument("--ais-runs", type=_ais_runs, default=100,
                            help="independent AIS runs for the estimate of "
                            "log Z (default: %(default)s)")
    evaluation.add_argument("--ais-betas", type=_ais_betas, default=10000,
                            help="inverse temperatures (betas) per AIS run "
                            "(default: %(default)s)")

    output = parser.add_argument_group("output")
    output.add_argument("--output", metavar="DIR", default="rbm-output",
                        help="folder for the output files, created if missing "
                        "(default: %(default)s)")
    output.add_argument("--quiet", action="store_true",
                        help="print only the results and the files written. "
                        "The model then skips the per-epoch pseudo-log-likelihood, "
                        "which metrics.csv records as nan")


def _run_info(args):
    ebmfast.show_config()
    return 0


def _run_train_rbm(args):
    log = _make_logger(args.quiet)
    data, source = _load_training_data(args)
    n_samples, n_visible = data.shape
    image_shape = _choose_image_shape(args.image_shape, n_visible)
    output_dir = _make_output_dir(args.output)
    log(f"data: {source}, {n_samples} samples x {n_visible} visible units")

    rbm = _train(data, args, log)
    paths = _write_outputs(rbm, image_shape, output_dir, args, log)

    reconstruction_error = rbm.reconstruction_error(data)
    log("computing log Z (exactly if a layer is small enough, else by AIS)")
    log_z = rbm.log_partition(n_runs=args.ais_runs, n_betas=args.ais_betas,
                              random_state=args.seed)
    log_likelihood = rbm.log_likelihood(data, log_partition=log_z)

    _print_results(reconstruction_error, log_z, log_likelihood, args)
    for path in paths:
        print(f"wrote {path}")
    return 0


def _train(data, args, log):
    method = "PCD" if args.persistent else "CD"
    epochs = f"{args.epochs} epoch" + ("s" if args.epochs != 1 else "")
    log(f"training: {args.n_hidden} hidden units, {epochs} of "
        f"{method}-{args.k}, backend {args.backend}")
    rbm = ebmfast.BernoulliRBM(
        n_hidden=args.n_hidden,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        n_epochs=args.epochs,
        k=args.k,
        persistent=args.persistent,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        backend=args.backend,
        n_threads=args.n_threads,
        random_state=args.seed,
        verbose=not args.quiet,
    )

    start = time.perf_counter()
    try:
        rbm.fit(data)
    except FloatingPointError as exc:
        # fit raises this when the weights diverge, and its message names the
        # learning rate and momentum to lower.
        raise CommandError(str(exc)) from None
    epochs_seconds = sum(entry["seconds"] for entry in rbm.history_)
    log(f"trained in {time.perf_counter() - start:.1f} s ({epochs_seconds:.1f} s in "
        "the epochs, the rest in the per-epoch metrics)")
    return rbm


def _write_outputs(rbm, image_shape, output_dir, args, log):
    """Write model.npz, metrics.csv, samples.png and filters.png, and return their paths."""
    from ._png import tile_images, write_png

    model_path = os.path.join(output_dir, "model.npz")
    metrics_path = os.path.join(output_dir, "metrics.csv")
    samples_path = os.path.join(output_dir, "samples.png")
    filters_path = os.path.join(output_dir, "filters.png")

    _save_output(rbm.save, model_path)
    _save_output(_write_metrics, metrics_path, rbm.history_)

    tile_scale = _tile_scale(image_shape)
    # Images of a single row are stacked one per grid row.
    n_cols = 1 if image_shape[0] == 1 else None

    log(f"sampling: {args.n_samples} chains of {args.sample_steps} Gibbs steps")
    samples = rbm.sample(args.n_samples, n_steps=args.sample_steps,
                         random_state=args.seed)
    sample_grid = tile_images(samples, image_shape, n_cols=n_cols,
                              scale=tile_scale, normalize=None)
    _save_output(write_png, samples_path, sample_grid)

    # Column j of weights_ contains the weights from hidden unit j to every
    # visible unit, which is one image-shaped filter.
    filter_grid = tile_images(rbm.weights_.T, image_shape, n_cols=n_cols,
                              scale=tile_scale, normalize="each")
    _save_output(write_png, filters_path, filter_grid)
    return [model_path, metrics_path, samples_path, filters_path]


def _make_logger(quiet):
    def log(message):
        if not quiet:
            print(message, flush=True)
    return log


def _load_training_data(args):
    """Load, check and scale the training data.

    Returns the data as float64 and a description of its source and scaling.
    """
    from .datasets import load_array, load_digits

    if args.data is None:
        if args.key is not None:
            raise CommandError("--key applies only together with --data.")
        raw, _ = load_digits(scale=False)
        source = "bundled digits"
    else:
        try:
            raw = load_array(args.data, key=args.key)
        except (OSError, ValueError) as exc:
            message = str(exc)
            if args.key is None and "key=NAME" in message:
                message += " On the command line, pass --key NAME."
            raise CommandError(message) from None
        source = args.data

    data, note = _scale_data(raw, args.scale, source)
    if note:
        source = f"{source} ({note})"
    if args.binarize is not None:
        data = (data > args.binarize).astype(np.float64)
        source = f"{source}, binarized at {args.binarize}"
    return data, source


def _scale_data(raw, mode, source):
    """Apply ``--scale`` and check that every value ends in [0, 1]."""
    if raw.size == 0:
        raise CommandError(f"{source} contains no values (shape {raw.shape}).")
    data = raw.astype(np.float64)
    if not np.isfinite(data).all():
        raise CommandError(f"{source} contains NaN or infinite values.")

    low, high = data.min(), data.max()
    if low < 0:
        raise CommandError(
            f"{source} contains negative values (minimum {low:g}), but a "
            "Bernoulli RBM needs values in [0, 1]; rescale the data first."
        )
    if mode == "none" and high > 1:
        raise CommandError(
            f"{source} contains values up to {high:g}, but --scale none needs "
            "values in [0, 1]; use --scale auto or --scale max to divide by "
            "the maximum."
        )

    divide = high > 0 and (mode == "max" or (mode == "auto" and high > 1))
    if not divide:
        return data, ""
    data /= high
    return data, f"divided by {high:g}"


def _choose_image_shape(requested, n_visible):
    if requested is not None:
        height, width = requested
        if height * width != n_visible:
            raise CommandError(
                f"--image-shape {height} {width} has {height * width} pixels, "
                f"but the data has {n_visible} visible units."
            )
        return height, width
    side = math.isqrt(n_visible)
    if side * side == n_visible:
        return side, side
    return 1, n_visible


def _tile_scale(image_shape):
    return max(1, math.ceil(MIN_TILE_PIXELS / max(image_shape)))


def _make_output_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create the output folder {path}: {exc}") from None
    return path


def _save_output(write, path, *args):
    try:
        write(path, *args)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from None


def _write_metrics(path, history):
    columns = list(METRIC_COLUMNS)
    for record in history:
        columns.extend(name for name in record if name not in columns)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for record in history:
            writer.writerow(record)


def _print_results(reconstruction_error, log_z, log_likelihood, args):
    print(f"reconstruction error (training data): {reconstruction_error:.6f}")
    if log_z.method == "exact":
        print(f"log Z: {log_z.log_z:.4f} (exact)")
        print(f"average log-likelihood (training data): {log_likelihood:.4f}")
        return
    print(f"log Z: {log_z.log_z:.4f} +/- {log_z.stderr:.4f} "
          f"({log_z.method.upper()}, {args.ais_runs} runs, {args.ais_betas} betas)")
    print(f"average log-likelihood (training data): {log_likelihood:.4f} "
          f"+/- {log_z.stderr:.4f} (standard error of log Z)")


def _positive_int(text):
    value = _parse(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _ais_runs(text):
    # The standard error of log Z needs at least two runs.
    return _int_at_least(text, 2)


def _ais_betas(text):
    # BernoulliRBM.log_partition needs the base model, the RBM and at least
    # one temperature between them.
    return _int_at_least(text, 3)


def _nonnegative_int(text):
    return _int_at_least(text, 0)


def _int_at_least(text, minimum):
    value = _parse(text, int, "an integer")
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
    return value


def _positive_float(text):
    value = _parse_finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _nonnegative_float(text):
    value = _parse_finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _unit_fraction(text):
    value = _parse_finite(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _parse_finite(text):
    value = _parse(text, float, "a number")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _parse(text, kind, description):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {description}, got {text!r}") from None
