import os

import numpy as np
import pytest

from kurahw import DataError
from kurahw.data import find_vowel_file, load_vowels, vowel_split


def _have_vowels() -> bool:
    try:
        find_vowel_file()
    except DataError:
        return False
    return True


# CI always has the data beside the checkout; elsewhere, say what is missing.
needs_vowels = pytest.mark.skipif(
    not _have_vowels() and not os.environ.get("CI"),
    reason="vowel data not found: set KURAHW_DATA to hillenbrand_vowels.csv",
)


@needs_vowels
def test_shared_vowel_file_has_the_expected_counts():
    x, y = load_vowels(vowels=("a", "i"))
    assert x.shape == (275, 2) and np.bincount(y).tolist() == [136, 139]
    assert x[y == 0, 0].mean() == pytest.approx(887, abs=1)  # F1 of /a/


def test_path_search_order(tmp_path, monkeypatch):
    csv = tmp_path / "hillenbrand_vowels.csv"
    csv.write_text("vowel,F1,F2\na,800,1200\ni,400,2700\n")
    monkeypatch.setenv("KURAHW_DATA", str(tmp_path))
    assert find_vowel_file() == csv
    assert find_vowel_file(csv) == csv


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="KURAHW_DATA") as info:
        load_vowels(tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("vowel,F1\na,800\n", "lacks column"),
        ("vowel,F1,F2\na,800,abc\ni,1,2\n", "line 2"),
        ("vowel,F1,F2\na,800,1200\n", r"\['i'\] do not occur"),
    ],
)
def test_malformed_files(tmp_path, text, pattern):
    path = tmp_path / "v.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=pattern):
        load_vowels(path)


@needs_vowels
def test_split_is_the_papers():
    x, y = load_vowels()
    split = vowel_split(x, y, seed=3)
    order = np.random.default_rng(3).permutation(275)
    assert np.array_equal(split.y_train, y[order[:220]])
    assert split.x_train.min() == -1 and split.x_train.max() == 1
    with pytest.raises(DataError, match="empty"):
        vowel_split(x[:1], y[:1], seed=0)
