"""The Hillenbrand vowel formant data: locating, reading and splitting it.

The data file is not shipped with kurahw. It is found, in this order, at the path
given by the caller (the CLI's ``--data``), at ``$KURAHW_DATA`` (a file or a
folder holding ``hillenbrand_vowels.csv``), or in a ``shared/data`` folder beside
the working copy.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kurahw.errors import DataError

__all__ = ["VowelSplit", "find_vowel_file", "load_vowels", "vowel_split"]

FILE_NAME = "hillenbrand_vowels.csv"
ENV_VAR = "KURAHW_DATA"


def find_vowel_file(path: str | os.PathLike | None = None) -> Path:
    """Resolve the vowel data file (see the module docstring for the search order)."""
    if path is not None:
        candidates = [Path(path)]
    elif os.environ.get(ENV_VAR):
        candidates = [Path(os.environ[ENV_VAR])]
    else:
        here = Path(__file__).resolve().parent.parent
        candidates = [
            here.parent / "shared" / "data",
            Path.cwd().parent / "shared" / "data",
        ]
    for cand in candidates:
        cand = cand / FILE_NAME if cand.is_dir() else cand
        if cand.is_file():
            return cand
    tried = ", ".join(str(c) for c in candidates)
    raise DataError(
        f"Vowel data not found (looked at {tried}). Pass the path of "
        f"{FILE_NAME} with --data, or set {ENV_VAR} to it."
    )


def load_vowels(
    path: str | os.PathLike | None = None, vowels: tuple[str, ...] = ("a", "i")
) -> tuple[np.ndarray, np.ndarray]:
    """Read formants F1, F2 (Hz) of the chosen vowels, in file order.

    Returns
    -------
    features : ndarray, shape (samples, 2)
    labels : ndarray of int, shape (samples,)
        Index of each sample's vowel in ``vowels``.
    """
    file = find_vowel_file(path)
    rows_f, rows_y = [], []
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"vowel", "F1", "F2"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(
                f"{file}: header lacks column(s) {sorted(missing)}; expected "
                "'vowel,F1,F2'."
            )
        known = set()
        for line, row in enumerate(reader, start=2):
            known.add(row["vowel"])
            if row["vowel"] not in vowels:
                continue
            try:
                f1, f2 = float(row["F1"]), float(row["F2"])
            except (TypeError, ValueError):
                raise DataError(
                    f"{file}, line {line}: formants {row['F1']!r}, {row['F2']!r} are "
                    "not numbers."
                ) from None
            rows_f.append((f1, f2))
            rows_y.append(vowels.index(row["vowel"]))
    unknown = [v for v in vowels if v not in known]
    if unknown:
        raise DataError(
            f"Vowel(s) {unknown} do not occur in {file}; available: {sorted(known)}."
        )
    return np.array(rows_f), np.array(rows_y, dtype=np.int64)


@dataclass(frozen=True)
class VowelSplit:
    """Train and test features scaled to [-1, 1] with training statistics."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def vowel_split(
    features: np.ndarray, labels: np.ndarray, seed: int, train_fraction: float = 0.8
) -> VowelSplit:
    """The paper's per-seed split: a random permutation from ``default_rng(seed)``,
    the first ``int(0.8 n)`` for training, min-max scaling from the training part."""
    n = len(labels)
    order = np.random.default_rng(seed).permutation(n)
    cut = int(train_fraction * n)
    if cut == 0 or cut == n:
        raise DataError(
            f"A split of {n} samples with train_fraction={train_fraction} leaves an "
            "empty part; use more samples or a fraction strictly between them."
        )
    tr, te = order[:cut], order[cut:]
    lo, hi = features[tr].min(axis=0), features[tr].max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)

    def scale(x):
        return 2.0 * (x - lo) / span - 1.0

    return VowelSplit(scale(features[tr]), labels[tr], scale(features[te]), labels[te])
