"""Tests of the ebmfast command line (python -m ebmfast and the console script)."""

import csv
import gzip
import math
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import ebmfast
from ebmfast._cli import _choose_image_shape, _scale_data, main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRIC_COLUMNS = ["epoch", "reconstruction_error", "pseudo_likelihood", "seconds"]
OUTPUT_FILES = ["model.npz", "metrics.csv", "samples.png", "filters.png"]
# Small settings that keep one training run on the digits to about a second.
QUICK_TRAINING = ["--epochs", "2", "--ais-runs", "10", "--ais-betas", "200",
                  "--sample-steps", "50", "--n-samples", "16"]


def run_cli(capsys, *argv):
    """Run main() in this process and return (exit status, stdout, stderr)."""
    try:
        status = main([str(arg) for arg in argv])
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def decode_png_pixels(path):
    """Decode an 8-bit grayscale PNG with filter type 0 into a uint8 array."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        chunk_type = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(chunk_type + body)
        chunks[chunk_type] = chunks.get(chunk_type, b"") + body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 0)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:]


def error_line(stderr):
    """Return the single error line, failing if stderr has anything else."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ebmfast: error: ")
    return lines[0]


def write_idx_gz(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


# Entry points and argument errors


def test_version_flag(capsys):
    status, out, _ = run_cli(capsys, "--version")

    assert status == 0
    assert out == f"ebmfast {ebmfast.__version__}\n"


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "ebmfast", "--version"],
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ebmfast {ebmfast.__version__}\n"


def test_console_script():
    script = Path(sys.executable).parent / "ebmfast"
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")

    result = subprocess.run([str(script), "--version"],
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ebmfast {ebmfast.__version__}\n"


def test_info_prints_version(capsys):
    status, out, _ = run_cli(capsys, "info")

    assert status == 0
    assert ebmfast.__version__ in out


def test_missing_command_exit_2(capsys):
    status, _, err = run_cli(capsys)

    assert status == 2
    assert "required" in err


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "0", "must be a positive integer"),
    ("--n-hidden", "ten", "must be an integer"),
    ("--learning-rate", "-0.1", "must be > 0"),
    ("--learning-rate", "nan", "must be a finite number"),
    ("--momentum", "1", r"must be in \[0, 1\)"),
    ("--weight-decay", "-0.001", "must be >= 0"),
    ("--binarize", "1.5", r"must be in \[0, 1\)"),
    ("--ais-runs", "1", "must be an integer >= 2"),
    ("--ais-betas", "2", "must be an integer >= 3"),
    ("--scale", "255", "invalid choice"),
    ("--backend", "gpu", "invalid choice"),
])
def test_invalid_option_exit_2(capsys, tmp_path, option, value, message):
    status, _, err = run_cli(capsys, "train-rbm", option, value,
                             "--output", tmp_path / "out")

    assert status == 2
    assert f"argument {option}" in err
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()


# User errors in the data: exit 1 with one error line, before any training


def test_missing_data_file(capsys, tmp_path):
    missing = tmp_path / "absent.npy"

    status, out, err = run_cli(capsys, "train-rbm", "--data", missing,
                               "--output", tmp_path / "out")

    assert status == 1
    assert out == ""
    assert f"data file not found: {missing}" in error_line(err)
    assert not (tmp_path / "out").exists()


def test_missing_data_file_subprocess(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ebmfast", "train-rbm", "--data", "absent.npy"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path)

    assert result.returncode == 1
    assert "data file not found: absent.npy" in error_line(result.stderr)


def test_unknown_format(capsys, tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("0,1\n1,0\n")

    status, _, err = run_cli(capsys, "train-rbm", "--data", path,
                             "--output", tmp_path / "out")

    assert status == 1
    assert "unknown file format" in error_line(err)


def test_npz_needs_key(capsys, tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((3, 4)), y_train=np.zeros(3))

    status, _, err = run_cli(capsys, "train-rbm", "--data", path,
                             "--output", tmp_path / "out")

    assert status == 1
    line = error_line(err)
    assert "'x_train', 'y_train'" in line
    assert "--key NAME" in line


def test_key_without_data(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train-rbm", "--key", "x",
                             "--output", tmp_path / "out")

    assert status == 1
    assert "--key applies only together with --data" in error_line(err)


def test_scale_none_rejects_counts(capsys, tmp_path):
    path = tmp_path / "counts.npy"
    np.save(path, np.array([[0, 255], [128, 3]], dtype=np.uint8))

    status, _, err = run_cli(capsys, "train-rbm", "--data", path, "--scale", "none",
                             "--output", tmp_path / "out")

    assert status == 1
    line = error_line(err)
    assert "values up to 255" in line
    assert "--scale auto" in line


def test_negative_values_rejected(capsys, tmp_path):
    path = tmp_path / "centred.npy"
    np.save(path, np.array([[-0.5, 0.5], [0.25, 0.0]]))

    status, _, err = run_cli(capsys, "train-rbm", "--data", path,
                             "--output", tmp_path / "out")

    assert status == 1
    assert "negative values (minimum -0.5)" in error_line(err)


def test_nan_values_rejected(capsys, tmp_path):
    path = tmp_path / "gaps.npy"
    np.save(path, np.array([[0.5, np.nan]]))

    status, _, err = run_cli(capsys, "train-rbm", "--data", path,
                             "--output", tmp_path / "out")

    assert status == 1
    assert "NaN or infinite" in error_line(err)


def test_image_shape_mismatch(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train-rbm", "--image-shape", "7", "9",
                             "--output", tmp_path / "out")

    assert status == 1
    assert "63 pixels, but the data has 64 visible units" in error_line(err)


def test_output_folder_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("")

    status, _, err = run_cli(capsys, "train-rbm", "--output", blocker / "out")

    assert status == 1
    assert "cannot create the output folder" in error_line(err)


def test_diverging_training(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train-rbm", "--learning-rate", "1e308",
                             "--epochs", 1, "--quiet", "--output", tmp_path / "out")

    assert status == 1
    assert "non-finite parameters" in error_line(err)


# Helpers behind train-rbm


def test_scale_auto_divides_by_max():
    data, note = _scale_data(np.array([[0, 51], [255, 102]], dtype=np.uint8), "auto", "x")

    np.testing.assert_allclose(data, [[0.0, 0.2], [1.0, 0.4]])
    assert data.dtype == np.float64
    assert note == "divided by 255"


def test_scale_auto_keeps_unit_range():
    raw = np.array([[0.0, 0.5], [1.0, 0.25]])

    data, note = _scale_data(raw, "auto", "x")

    np.testing.assert_array_equal(data, raw)
    assert note == ""


def test_scale_max_divides_unit_range():
    data, note = _scale_data(np.array([[0.0, 0.5], [0.25, 0.0]]), "max", "x")

    np.testing.assert_allclose(data, [[0.0, 1.0], [0.5, 0.0]])
    assert note == "divided by 0.5"


def test_scale_all_zero_unchanged():
    data, note = _scale_data(np.zeros((2, 3)), "max", "x")

    assert (data == 0).all()
    assert note == ""


@pytest.mark.parametrize("requested, n_visible, expected", [
    (None, 64, (8, 8)),
    (None, 784, (28, 28)),
    (None, 12, (1, 12)),
    (None, 1, (1, 1)),
    ([3, 4], 12, (3, 4)),
])
def test_image_shape_choice(requested, n_visible, expected):
    assert _choose_image_shape(requested, n_visible) == expected


# End to end: train, then check every output file and printed number


def parse_results(out):
    """Return the printed numbers: reconstruction error, log Z, its stderr, log-likelihood."""
    error = re.search(r"^reconstruction error \(training data\): (\S+)$", out, re.M)
    log_z = re.search(r"^log Z: (\S+)(?: \+/- (\S+))?", out, re.M)
    likelihood = re.search(r"^average log-likelihood \(training data\): (\S+)", out, re.M)
    assert error, out
    assert log_z, out
    assert likelihood, out
    stderr = float(log_z.group(2)) if log_z.group(2) else 0.0
    return float(error.group(1)), float(log_z.group(1)), stderr, float(likelihood.group(1))


def read_metrics(path):
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        return reader.fieldnames, list(reader)


def test_train_rbm_digits(capsys, tmp_path):
    output = tmp_path / "run"

    status, out, err = run_cli(capsys, "train-rbm", *QUICK_TRAINING,
                               "--n-hidden", 30, "--seed", 3, "--output", output)

    assert status == 0, err
    for name in OUTPUT_FILES:
        assert (output / name).is_file(), name
        assert f"wrote {output / name}" in out
    assert "data: bundled digits (divided by 16), 1797 samples x 64 visible units" in out

    columns, rows = read_metrics(output / "metrics.csv")
    assert columns[:4] == METRIC_COLUMNS
    assert len(rows) == 2
    epochs = [int(float(row["epoch"])) for row in rows]
    assert epochs[1] == epochs[0] + 1
    for row in rows:
        for name in METRIC_COLUMNS[1:]:
            assert math.isfinite(float(row[name])), (name, row)

    # 16 samples: 4 x 4 tiles of 8x8 pixels drawn at 4x, 1-pixel padding.
    assert decode_png_pixels(output / "samples.png").shape == (131, 131)
    # 30 filters: ceil(sqrt(30)) = 6 columns and 5 rows of 32-pixel tiles.
    filters = decode_png_pixels(output / "filters.png")
    assert filters.shape == (5 * 32 + 4, 6 * 32 + 5)
    # Each filter is stretched to its own min..max, so both ends appear.
    assert filters.min() == 0
    assert filters.max() == 255

    error, log_z, log_z_stderr, likelihood = parse_results(out)
    assert math.isfinite(error)
    assert error >= 0
    assert math.isfinite(log_z)
    assert math.isfinite(log_z_stderr)
    assert log_z_stderr >= 0
    assert math.isfinite(likelihood)
    # With 30 hidden units and 64 visible units, log Z comes from AIS.
    assert "(AIS, 10 runs, 200 betas)" in out

    model = ebmfast.BernoulliRBM.load(output / "model.npz")
    assert model.weights_.shape == (64, 30)


def test_train_rbm_idx_file_quiet(capsys, tmp_path):
    rng = np.random.default_rng(0)
    data_path = tmp_path / "patterns-idx2-ubyte.gz"
    write_idx_gz(data_path, rng.integers(0, 256, size=(120, 12)))
    output = tmp_path / "run"

    status, out, err = run_cli(
        capsys, "train-rbm", "--data", data_path, "--binarize", "0.5", "--quiet",
        "--n-hidden", 6, "--epochs", 1, "--persistent", "--backend", "reference",
        "--sample-steps", 20, "--n-samples", 16, "--output", output)

    assert status == 0, err
    lines = out.strip().splitlines()
    # --quiet leaves the three result lines and one line per file.
    assert len(lines) == 3 + len(OUTPUT_FILES), out
    assert "(exact)" in out

    _, rows = read_metrics(output / "metrics.csv")
    assert len(rows) == 1
    assert math.isfinite(float(rows[0]["reconstruction_error"]))

    # 12 visible units is no square, so each image is a 1 x 12 strip drawn at
    # 3x (36 pixels wide), one per grid row.
    assert decode_png_pixels(output / "samples.png").shape == (16 * 3 + 15, 36)
    assert decode_png_pixels(output / "filters.png").shape == (6 * 3 + 5, 36)

    error, _, log_z_stderr, likelihood = parse_results(out)
    assert math.isfinite(error)
    assert log_z_stderr == 0.0
    assert math.isfinite(likelihood)
    # On binary data the exact log Z gives a true log-probability.
    assert likelihood < 0
