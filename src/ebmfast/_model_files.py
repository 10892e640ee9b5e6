"""The ``.npz`` file format shared by the models' ``save`` and ``load``.

A file holds the entries "kind" (the model's class, such as
"ebmfast.BernoulliRBM"), "format_version", "settings" (the constructor
parameters as JSON) and the model's arrays. No entry needs pickle.
"""

import json

import numpy as np

FORMAT_VERSION = 1


def write_model_file(path, kind, settings, arrays):
    """Write ``arrays`` and the JSON ``settings`` to ``path`` as a model of ``kind``."""
    entries = {
        "kind": np.array(kind),
        "format_version": np.array(FORMAT_VERSION),
        "settings": np.array(json.dumps(settings)),
    }
    entries.update(arrays)
    np.savez(path, **entries)


def read_model_file(path, kind, required, optional, class_name):
    """Read a file written by :func:`write_model_file` for a model of ``kind``.

    Parameters
    ----------
    path : str or path-like
    kind : str
        Expected "kind" entry.
    required, optional : sequence of str
        Array entries that must be present, and those read when present.
    class_name : str
        Name of the class whose ``save`` writes such files, for messages.

    Returns
    -------
    settings : dict
    arrays : dict of ndarray
        The required entries and the optional ones present in the file.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable .npz model file: {error}") from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{path} is not a saved {kind} model: it holds a single array, "
            f"not the .npz archive that {class_name}.save writes.")
    with data:
        found = data["kind"].item() if "kind" in data.files else None
        if found != kind:
            raise ValueError(
                f"{path} is not a saved {kind} model: its 'kind' entry is {found!r}.")
        missing = sorted({"format_version", "settings", *required} - set(data.files))
        if missing:
            raise ValueError(f"{path} is missing the entries {missing}; "
                             "the file is damaged or was not written by save.")
        version = int(data["format_version"])
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path} uses file format {version}; this ebmfast reads "
                f"format {FORMAT_VERSION} and older. Upgrade ebmfast.")
        settings = json.loads(str(data["settings"]))
        arrays = {name: data[name] for name in (*required, *optional)
                  if name in data.files}
    return settings, arrays
