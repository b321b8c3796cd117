"""A model's weights as ``.safetensors``: the file PyTorch, JAX and the Hugging Face tools read.

:func:`save_weights` writes a model's (or a state dict's) arrays with the names and layouts
of the equivalent PyTorch module (conv ``(OC, C, KH, KW)``, linear ``(out, in)``), so
``torch_model.load_state_dict(safetensors.torch.load_file(path))`` works;
:func:`load_weights` reads such a file (ours or one PyTorch wrote) back, into a model if
given. The format holds named arrays and a str -> str metadata table, nothing executable:
reading never runs code, and the ``safetensors`` library checks the header (its size, its
JSON, that the arrays exactly cover the data) before any array is made.

One difference from PyTorch's state dict is handled here: PyTorch's BatchNorm has a buffer
``num_batches_tracked`` (an int64 scalar; it only matters with ``momentum=None``), ours has
none. :func:`save_weights` writes it as 0 beside each ``running_var`` that lacks it, and
:func:`load_weights` with a model drops it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from autograd_mnist import nn
from autograd_mnist.errors import RunError
from autograd_mnist.io import PathLike, atomic_open, is_utf8
from autograd_mnist.models import config_for_weights, make_model
from autograd_mnist.tensor import Tensor

__all__ = [
    "MODEL_CONFIG_KEY",
    "MODEL_KEY",
    "NUM_BATCHES_TRACKED",
    "WEIGHTS",
    "load_preset",
    "load_weights",
    "preset_metadata",
    "save_run_weights",
    "save_weights",
    "weights_metadata",
]

WEIGHTS = "model.safetensors"
"""The weights' file name in a run folder (written beside ``checkpoint.npz``)."""
MODEL_KEY = "model"
"""Metadata key of the preset's name (``models.MODELS``)."""
MODEL_CONFIG_KEY = "model_config"
"""Metadata key of the preset's keyword config, as a JSON object."""
NUM_BATCHES_TRACKED = "num_batches_tracked"
"""PyTorch's BatchNorm buffer that ours lacks (see the module docstring)."""

_RUNNING_VAR = "running_var"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's files (since PyTorch 1.6) and .npz are zips
_FORMAT = {"format": "pt"}  # what safetensors.torch writes; transformers' loaders look for it


def preset_metadata(name: str, config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The metadata naming a preset model: ``{"model": name, "model_config": "<JSON>"}``."""
    return {MODEL_KEY: name, MODEL_CONFIG_KEY: json.dumps(dict(config or {}), sort_keys=True)}


def _sibling(key: str, name: str) -> str:
    head, _, _ = key.rpartition(".")
    return f"{head}.{name}" if head else name


def _torch_state(state: Mapping[str, Any], where: str) -> dict[str, np.ndarray]:
    """``state`` as contiguous arrays, with PyTorch's ``num_batches_tracked`` added."""
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not isinstance(key, str) or not key:
            raise TypeError(
                f"save_weights: bad key {key!r} for '{where}', expected a non-empty str"
            )
        if not is_utf8(key):
            raise ValueError(f"save_weights: key {key!r} for '{where}' is not UTF-8 text")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"save_weights: key {key!r} for '{where}': got dtype {array.dtype}, expected "
                "numbers (bool, int, uint, float)"
            )
        out[key] = np.ascontiguousarray(array)
        if key.rpartition(".")[2] == _RUNNING_VAR:
            out.setdefault(_sibling(key, NUM_BATCHES_TRACKED), np.zeros((), np.int64))
    return out


def save_weights(
    model_or_state_dict: nn.Module | Mapping[str, Any],
    path: PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a model's weights (or a state dict) to ``path`` as safetensors, atomically.

    The names are the state dict's, which are PyTorch's for the same module tree, plus
    ``<bn>.num_batches_tracked`` (int64 0) for each BatchNorm, so PyTorch's strict
    ``load_state_dict`` accepts the file.

    Args:
        model_or_state_dict: a Module (its ``state_dict()``) or a mapping of str to arrays
            (or Tensors).
        path: the file (``.safetensors`` is the customary suffix); its folder must exist.
        metadata: str -> str entries stored in the header (e.g. :func:`preset_metadata`);
            ``"format": "pt"`` is added unless given.

    Raises:
        TypeError: for a key that is not a non-empty str, an array that is not numbers or
            metadata that is not str -> str (naming the file and key).
        ValueError: for a key or metadata that is not UTF-8 text (a lone surrogate).
        OSError: if the file cannot be written (naming ``path``).
    """
    where = os.fspath(path)
    state = (
        model_or_state_dict.state_dict()
        if isinstance(model_or_state_dict, nn.Module)
        else model_or_state_dict
    )
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save_weights: got {type(state).__name__} for '{where}', expected a Module or a "
            "state dict (a mapping of str to arrays)"
        )
    meta = {**_FORMAT, **(metadata or {})}
    bad = [k for k, v in meta.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise TypeError(f"save_weights: metadata for '{where}' must map str to str; got {bad}")
    bad = [k for k, v in meta.items() if not (is_utf8(k) and is_utf8(v))]
    if bad:
        raise ValueError(f"save_weights: metadata for '{where}' is not UTF-8 text: keys {bad}")
    data = safetensors.numpy.save(_torch_state(state, where), metadata=meta)
    with atomic_open(where) as f:
        f.write(data)


def save_run_weights(
    run_dir: PathLike, model: nn.Module, name: str, config: Mapping[str, Any] | None
) -> Path:
    """Write ``<run_dir>/model.safetensors``: ``model``'s weights, naming preset ``name``.

    ``model`` is the model to export: the one a user of the run should get (the trained
    model, or an average of its weights when a run keeps one). Written atomically after
    each epoch, beside the checkpoint (which stays the run's own record for resuming).

    Returns:
        The file written.
    """
    path = Path(run_dir) / WEIGHTS
    save_weights(model, path, preset_metadata(name, config))
    return path


def _plain(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` in a NumPy dtype: BF16 (NumPy knows it only when ``ml_dtypes``
    is loaded, e.g. by onnx or JAX) becomes float32, exactly."""
    if array.dtype.kind == "V" and array.dtype.name == "bfloat16":
        return array.astype(np.float32)
    return np.array(array)


def _hint(where: str) -> str:
    """What a file that is not safetensors may be instead (a zip: torch.save's or .npz)."""
    try:
        with open(where, "rb") as f:
            zipped = f.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC
    except OSError:
        return ""
    return (
        " (it is a zip archive: torch.save's .pt, read only by unpickling, which is never "
        "done here: write safetensors with safetensors.torch.save_file; or an .npz: am.load)"
        if zipped
        else ""
    )


def _read(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every array and the metadata of a safetensors file; errors name the file and key."""
    where = os.fspath(path)
    if Path(where).is_dir():
        raise IsADirectoryError(f"load_weights: '{where}' is a folder, expected a file")
    if not Path(where).is_file():
        raise FileNotFoundError(f"load_weights: no file '{where}'")
    try:
        handle = safetensors.safe_open(where, framework="np")
    except Exception as exc:  # SafetensorError, OSError, whatever a hostile header provokes
        raise ValueError(
            f"load_weights: '{where}' is not a readable safetensors file: {exc}{_hint(where)}"
        ) from None
    state: dict[str, np.ndarray] = {}
    with handle as f:
        meta = dict(f.metadata() or {})
        for key in f.keys():  # noqa: SIM118 - safe_open has keys(), not iteration
            try:
                state[key] = _plain(f.get_tensor(key))
            except Exception as exc:  # e.g. BF16 when NumPy has no dtype for it
                raise ValueError(
                    f"load_weights: '{where}': key {key!r}: cannot read it as a NumPy array "
                    f"({type(exc).__name__}: {exc}); expected F16/F32/F64 or an integer dtype"
                ) from None
    return state, meta


def weights_metadata(path: PathLike) -> dict[str, str]:
    """The metadata in a safetensors file's header (``{}`` if it has none).

    Raises:
        FileNotFoundError, ValueError: as :func:`load_weights`.
    """
    return _read(path)[1]


def _checked(state: dict[str, np.ndarray], model: nn.Module, where: str) -> dict[str, Any]:
    """``state`` fitted to ``model``: BatchNorm counters dropped, keys, shapes, dtypes checked."""
    target = model.state_dict()
    state = {
        k: v
        for k, v in state.items()
        if not (k.rpartition(".")[2] == NUM_BATCHES_TRACKED and k not in target)
    }
    problems = []
    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    for k in (k for k in target if k in state):
        got, want = state[k], target[k]
        if got.shape != want.shape:
            problems.append(f"key {k!r}: shape {got.shape}, expected {want.shape}")
        elif got.dtype.kind != want.dtype.kind:
            problems.append(f"key {k!r}: dtype {got.dtype}, expected {want.dtype}")
    if problems:
        raise ValueError(
            f"load_weights: '{where}' does not fit {type(model).__name__}: " + "; ".join(problems)
        )
    return state


def _load_into(model: nn.Module, state: dict[str, np.ndarray], where: str) -> dict[str, Any]:
    """Load the file ``where``'s arrays into ``model`` (checked by :func:`_checked`); returns
    what was loaded."""
    state = _checked(state, model, where)
    model.load_state_dict(state)
    return state


def load_weights(path: PathLike, model: nn.Module | None = None) -> dict[str, np.ndarray]:
    """Read a safetensors file (ours or PyTorch's); load it into ``model`` if given.

    Unlike ``torch.load``, this takes the path first and returns the arrays; with
    ``model=`` it also does what ``model.load_state_dict`` does, strictly, checking the file
    first (PyTorch's ``num_batches_tracked`` entries are dropped: ours has no such buffer).
    Floats of another width (F16, F64) are converted to the model's dtype; an integer or
    bool array where the model has floats is refused.

    Args:
        path: the ``.safetensors`` file.
        model: a module to load the weights into (in place), or None.

    Returns:
        The file's arrays by name (with ``model``: those loaded into it).

    Raises:
        FileNotFoundError: if there is no such file (IsADirectoryError: a folder).
        ValueError: if it is not a safetensors file (too short, a truncated or hostile
            header, data not covering the arrays), holds a dtype NumPy cannot represent
            (BF16 unless ``ml_dtypes`` is loaded: then it is read as float32), or, with
            ``model``, has missing or unexpected keys, a shape or a dtype kind that does
            not fit; the message names the file and every such key.
    """
    state, _ = _read(path)
    if model is None:
        return state
    return _load_into(model, state, os.fspath(path))


def load_preset(path: PathLike) -> nn.Module:
    """Rebuild the preset model named in a file's metadata and load its weights (eval mode).

    The file must have been written with :func:`preset_metadata` (run folders' and
    ``autograd-mnist export --format safetensors``'s files are). The metadata's config is
    checked against the weights in the file before the model is built
    (``models.make_model``), so a tampered one cannot ask for a huge model.

    Raises:
        ValueError: if the metadata names no preset or a bad config, or the weights do not
            fit (as :func:`load_weights`); the message names the file.
        RunError: (a ``ValueError``) if the preset cannot be built with that config, or
            would be larger than the weights in the file, naming the file.
    """
    where = os.fspath(path)
    state, meta = _read(path)
    name, config = meta.get(MODEL_KEY), meta.get(MODEL_CONFIG_KEY, "{}")
    try:
        cfg = json.loads(config)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        cfg = None
    if name is None or not isinstance(cfg, dict):
        raise ValueError(
            f"load_preset: '{where}' metadata names no preset: got {MODEL_KEY}="
            f"{name!r}, {MODEL_CONFIG_KEY}={config[:60]!r}, expected a name and a JSON object"
        )
    try:
        model = make_model(name, config_for_weights(name, cfg, state), weights=state)
    except RunError as exc:
        raise RunError(f"load_preset: '{where}': {exc}") from None
    _load_into(model, state, where)
    return model.eval()
