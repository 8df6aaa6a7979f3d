"""The Hillenbrand vowel formant data: locating, reading and splitting it.

The data file is not shipped with kurahw. It is found, in this order, at the path
given by the caller (the CLI's ``--data``), at ``$KURAHW_DATA`` (a file, or a
folder holding ``hillenbrand_vowels.csv`` or ``vowdata.dat``), or in a
``shared/data`` folder beside the working copy.

Two layouts are read, recognised by their content rather than their name:

* the paper's CSV: a header ``vowel,F1,F2`` and one token per row, with the
  one-letter vowel names ``a`` (hod), ``e`` (head), ``i`` (heed), ``o`` (hoed)
  and ``u`` (who'd);
* Hillenbrand et al.'s (1995) original ``vowdata.dat``: free-text header lines,
  then whitespace-separated rows ``filename duration f0 F1 F2 F3 F4 ...`` with
  steady-state formants in columns 4 and 5 and 0 for a formant that could not be
  measured. The filename is a talker group (``m``, ``w``, ``b``, ``g``), a
  two-digit talker number and a two-letter vowel code, e.g. ``m01ae``. Tokens
  with F1 or F2 missing are dropped, which is how the CSV was built.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kurahw.errors import DataError

__all__ = ["VowelSplit", "find_vowel_file", "load_vowels", "vowel_split"]

FILE_NAME = "hillenbrand_vowels.csv"
VOWDATA_NAME = "vowdata.dat"
ENV_VAR = "KURAHW_DATA"

#: Hillenbrand's two-letter vowel codes and the hVd word each was recorded in.
VOWEL_CODES = {
    "ae": "had",
    "ah": "hod",
    "aw": "hawed",
    "eh": "head",
    "ei": "hayed",
    "er": "heard",
    "ih": "hid",
    "iy": "heed",
    "oa": "hoed",
    "oo": "hood",
    "uh": "hud",
    "uw": "who'd",
}
#: The CSV's one-letter names and the codes they stand for in ``vowdata.dat``.
SHORT_NAMES = {"a": "ah", "e": "eh", "i": "iy", "o": "oa", "u": "uw"}
#: Some copies of Hillenbrand's readme spell the "hayed" code ``ey``.
_CODE_ALIASES = {"ey": "ei"}

_TOKEN = re.compile(r"^[A-Za-z]\d{2}[A-Za-z]{2}$")
_GROUPS = "mwbg"
_F1_COLUMN, _F2_COLUMN = 3, 4  # 0-based: filename, duration, f0, F1, F2


def _search_candidates(path) -> list[Path]:
    if path is not None:
        return [Path(path)]
    if os.environ.get(ENV_VAR):
        return [Path(os.environ[ENV_VAR])]
    here = Path(__file__).resolve().parent.parent
    return [here.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]


def find_vowel_file(path: str | os.PathLike | None = None) -> Path:
    """Resolve the vowel data file.

    Parameters
    ----------
    path : str or path-like, optional
        A file, or a folder holding ``hillenbrand_vowels.csv`` or
        ``vowdata.dat`` (tried in that order). Without it, ``$KURAHW_DATA`` and
        then the ``shared/data`` folders beside the working copy are tried.

    Returns
    -------
    Path
        The first existing file.

    Raises
    ------
    DataError
        If nothing is found; the message lists every place that was tried.
    """
    candidates = _search_candidates(path)
    tried = []
    for cand in candidates:
        files = [cand / FILE_NAME, cand / VOWDATA_NAME] if cand.is_dir() else [cand]
        for file in files:
            if file.is_file():
                return file
            tried.append(str(file))

    raise DataError(
        f"Vowel data not found (looked at {', '.join(tried)}; the search order is "
        f"the given path, then ${ENV_VAR}, then ../shared/data). Pass the path of "
        f"{FILE_NAME} or {VOWDATA_NAME} with --data, or set {ENV_VAR} to it."
    )


def load_vowels(
    path: str | os.PathLike | None = None, vowels: tuple[str, ...] = ("a", "i")
) -> tuple[np.ndarray, np.ndarray]:
    """Read formants F1, F2 (Hz) of the chosen vowels, in file order.

    Parameters
    ----------
    path : str or path-like, optional
        The data file or its folder; located as :func:`find_vowel_file`.
    vowels : tuple of str
        The classes, in label order. Both layouts accept the one-letter names
        ``a e i o u``; ``vowdata.dat`` also accepts any of Hillenbrand's
        two-letter codes (``ae ah aw eh ei er ih iy oa oo uh uw``).

    Returns
    -------
    features : ndarray, shape (samples, 2)
        F1 and F2 in Hz.
    labels : ndarray of int, shape (samples,)
        Index of each sample's vowel in ``vowels``.

    Raises
    ------
    DataError
        If the file is missing, unreadable or malformed, if a vowel is unknown,
        or if the selection holds no samples.
    """
    if not vowels or isinstance(vowels, str):
        raise DataError(
            f"`vowels` must be a non-empty tuple of names such as ('a', 'i'), got "
            f"{vowels!r}."
        )

    file = find_vowel_file(path)
    text = _read_text(file)
    if _looks_like_csv(text):
        features, labels = _parse_csv(file, text, tuple(vowels))
    elif _looks_like_vowdata(text):
        features, labels = _parse_vowdata(file, text, tuple(vowels))
    else:
        raise DataError(
            f"{file}: neither a CSV with header 'vowel,F1,F2' nor Hillenbrand's "
            "vowdata.dat (rows such as 'm01ae 323 174 663 2012 ...'); check that "
            "the path points at the vowel data."
        )

    counts = np.bincount(labels, minlength=len(vowels))
    empty = [v for v, c in zip(vowels, counts, strict=True) if c == 0]
    if empty:
        raise DataError(
            f"{file}: vowel(s) {empty} of the selection {tuple(vowels)} have no "
            "token with both F1 and F2 measured; choose other vowels."
        )
    return features, labels


def _read_text(file: Path) -> str:
    # Undecodable bytes (e.g. a Latin-1 header) become U+FFFD; in a data row
    # they then show up as a malformed-row error with its line number.
    try:
        return file.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise DataError(
            f"{file}: cannot be read ({exc.strerror}); check its permissions."
        ) from None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _looks_like_csv(text: str) -> bool:
    """A CSV header names a ``vowel`` column; other comma lines count if no
    ``vowdata.dat`` row follows (so a broken header still reads as a CSV)."""
    first = _first_line(text)
    if "vowel" in (field.strip() for field in first.split(",")):
        return True
    return "," in first and not _looks_like_vowdata(text)


def _looks_like_vowdata(text: str) -> bool:
    return any(_is_token_row(line) for line in text.splitlines())


def _is_token_row(line: str) -> bool:
    fields = line.split()
    return bool(fields) and _TOKEN.match(fields[0]) is not None


def _parse_csv(
    file: Path, text: str, vowels: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"vowel", "F1", "F2"} - set(reader.fieldnames or [])
    if missing:
        raise DataError(
            f"{file}: header lacks column(s) {sorted(missing)}; expected 'vowel,F1,F2'."
        )

    rows_f, rows_y, known = [], [], set()
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
    return np.array(rows_f, dtype=float).reshape(-1, 2), np.array(rows_y, np.int64)


def _resolve_codes(file: Path, vowels: tuple[str, ...]) -> dict[str, int]:
    """Map each requested vowel's two-letter code to its label index."""
    codes: dict[str, int] = {}
    for index, name in enumerate(vowels):
        code = SHORT_NAMES.get(name, _CODE_ALIASES.get(name, name))
        if code not in VOWEL_CODES:
            available = sorted(SHORT_NAMES) + sorted(VOWEL_CODES)
            raise DataError(
                f"Vowel {name!r} is not in {file}; available: {available} "
                "(one-letter names a e i o u, or Hillenbrand's two-letter codes)."
            )
        if code in codes:
            raise DataError(
                f"`vowels`={vowels!r} names the code {code!r} twice; list each "
                "vowel once."
            )
        codes[code] = index

    return codes


def _parse_token(
    file: Path, line_no: int, fields: list[str]
) -> tuple[str, float, float]:
    """Vowel code, F1 and F2 of one ``vowdata.dat`` row; raise if malformed."""
    where = f"{file}, line {line_no}"
    token = fields[0]
    if not _TOKEN.match(token) or token[0].lower() not in _GROUPS:
        raise DataError(
            f"{where}: {token!r} is not a filename like 'm01ae' (group m/w/b/g, "
            "two-digit talker, two-letter vowel code); fix or delete the row."
        )

    code = token[3:].lower()
    code = _CODE_ALIASES.get(code, code)
    if code not in VOWEL_CODES:
        raise DataError(
            f"{where}: vowel code {token[3:]!r} in {token!r} is unknown; expected "
            f"one of {sorted(VOWEL_CODES)}."
        )

    if len(fields) <= _F2_COLUMN:
        raise DataError(
            f"{where}: {len(fields)} column(s), need at least {_F2_COLUMN + 1} "
            "(filename, duration, f0, F1, F2); the row is truncated."
        )
    try:
        f1, f2 = float(fields[_F1_COLUMN]), float(fields[_F2_COLUMN])
    except ValueError:
        raise DataError(
            f"{where}: F1, F2 = {fields[_F1_COLUMN]!r}, {fields[_F2_COLUMN]!r} are "
            "not numbers."
        ) from None
    if f1 < 0 or f2 < 0 or not np.isfinite([f1, f2]).all():
        raise DataError(
            f"{where}: F1, F2 = {f1}, {f2} Hz; formants must be finite and >= 0 "
            "(0 marks a missing value)."
        )
    return code, f1, f2


def _parse_vowdata(
    file: Path, text: str, vowels: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    codes = _resolve_codes(file, vowels)

    rows_f, rows_y, started = [], [], False
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        # Free text precedes the first token row; after it every line is a row.
        if not started and not _is_token_row(line):
            continue
        started = True
        code, f1, f2 = _parse_token(file, line_no, fields)
        if code in codes and f1 > 0 and f2 > 0:
            rows_f.append((f1, f2))
            rows_y.append(codes[code])

    return np.array(rows_f, dtype=float).reshape(-1, 2), np.array(rows_y, np.int64)


@dataclass(frozen=True)
class VowelSplit:
    """Train and test parts of a classification task.

    For the vowels (:func:`vowel_split`) the features are min-max scaled to
    [-1, 1] with training statistics; other tasks (e.g. :func:`kurahw.fm.fm_task`)
    document their own scaling.

    Attributes
    ----------
    x_train : ndarray, shape (n_train, features)
    y_train : ndarray of int, shape (n_train,)
    x_test : ndarray, shape (n_test, features)
    y_test : ndarray of int, shape (n_test,)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def vowel_split(
    features: np.ndarray, labels: np.ndarray, seed: int, train_fraction: float = 0.8
) -> VowelSplit:
    """The paper's per-seed split and scaling.

    A permutation from ``numpy.random.default_rng(seed)`` puts its first
    ``int(train_fraction * n)`` samples in the training part (not stratified);
    each feature is then mapped to [-1, 1] by the training part's min and max.
    Test values may fall outside [-1, 1].

    Parameters
    ----------
    features : ndarray, shape (n, features)
    labels : ndarray of int, shape (n,)
    seed : int
    train_fraction : float

    Returns
    -------
    VowelSplit

    Raises
    ------
    DataError
        If the arrays disagree in length or either part would be empty.
    """
    features, labels = np.asarray(features), np.asarray(labels)
    n = len(labels)
    if len(features) != n:
        raise DataError(
            f"`features` has {len(features)} rows but `labels` has {n}; pass one "
            "label per sample."
        )

    cut = int(train_fraction * n)
    if cut <= 0 or cut >= n:
        raise DataError(
            f"A split of {n} samples with train_fraction={train_fraction} leaves an "
            "empty part; use more samples or a fraction strictly between them."
        )

    order = np.random.default_rng(seed).permutation(n)
    tr, te = order[:cut], order[cut:]
    lo, hi = features[tr].min(axis=0), features[tr].max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)

    def scale(x):
        return 2.0 * (x - lo) / span - 1.0

    return VowelSplit(scale(features[tr]), labels[tr], scale(features[te]), labels[te])
