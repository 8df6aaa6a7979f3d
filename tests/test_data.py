import numpy as np
import pytest

from kurahw import DataError
from kurahw.data import find_vowel_file, load_vowels, vowel_split


@pytest.mark.vowels
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


@pytest.mark.vowels
def test_split_is_the_papers():
    x, y = load_vowels()
    split = vowel_split(x, y, seed=3)
    order = np.random.default_rng(3).permutation(275)
    assert np.array_equal(split.y_train, y[order[:220]])
    assert split.x_train.min() == -1 and split.x_train.max() == 1
    with pytest.raises(DataError, match="empty"):
        vowel_split(x[:1], y[:1], seed=0)


# A miniature vowdata.dat: Hillenbrand's free-text header, a numbered column
# line, then rows "filename duration f0 F1 F2 F3 F4 ..." (0 = not measured).
VOWDATA = """\
(c) 1995 James Hillenbrand

col1:  filename
col4:  F1 at "steady state"

  1    2   3    4    5    6    7    8
m01ae 323 174  663 2012 2659 3691  669
m01ah 316 159  813 1283 2687 3739  809
w02ah 265 211 1012 1603 2767 4281 1001
b03ah 300 230    0 1500 2900    0  700
m01iy 250 130  290 2300 3000    0  300
g04iy 260 240  450    0 3200    0  450
w05iy 270 220  437 2761 3372    0  440
m07oa 280 120  550 1000 2500 3500  555
b08uw 290 250  440 1200 2600    0  441
w09eh 300 210  690 2100 2900 4000  700
m10er 310 140  480 1400 1700 3300  490
"""


def _vowdata(tmp_path, text=VOWDATA, name="vowdata.dat"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_vowdata_returns_the_steady_state_formants_in_file_order(tmp_path):
    x, y = load_vowels(_vowdata(tmp_path), ("a", "i"))
    # b03ah (F1 = 0) and g04iy (F2 = 0) are dropped; columns 4 and 5 are kept.
    np.testing.assert_array_equal(
        x, [[813, 1283], [1012, 1603], [290, 2300], [437, 2761]]
    )
    assert y.tolist() == [0, 0, 1, 1]


def test_vowdata_short_names_and_two_letter_codes(tmp_path):
    path = _vowdata(tmp_path)
    x, y = load_vowels(path, ("u", "o", "e"))
    np.testing.assert_array_equal(x, [[550, 1000], [440, 1200], [690, 2100]])
    assert y.tolist() == [1, 0, 2]
    x, y = load_vowels(path, ("er", "ae", "iy"))
    assert x.tolist() == [[663, 2012], [290, 2300], [437, 2761], [480, 1400]]
    assert y.tolist() == [1, 2, 2, 0]


def test_format_is_detected_from_content_not_name(tmp_path):
    x, _ = load_vowels(_vowdata(tmp_path, name="renamed.csv"), ("o", "u"))
    assert x.shape == (2, 2)
    csv = tmp_path / "table.dat"
    csv.write_text("vowel,F1,F2\na,800,1200\ni,400,2700\n")
    x, y = load_vowels(csv)
    assert x.tolist() == [[800, 1200], [400, 2700]] and y.tolist() == [0, 1]


def test_folder_with_only_vowdata_is_found(tmp_path, monkeypatch):
    path = _vowdata(tmp_path)
    monkeypatch.setenv("KURAHW_DATA", str(tmp_path))
    assert find_vowel_file() == path


def test_missing_file_names_the_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("KURAHW_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataError, match="search order") as info:
        find_vowel_file()
    assert "gone" in str(info.value)


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        ("m11ah 300 120  700\n", r"line 17: 4 column\(s\)"),
        ("m11ah 300 120  7x0 1200\n", "line 17: F1, F2 = '7x0'"),
        ("x11ah 300 120  700 1200\n", "line 17: 'x11ah' is not a filename"),
        ("m11zz 300 120  700 1200\n", "line 17: vowel code 'zz'"),
        ("m11ah 300 120 -700 1200\n", "line 17: .* must be finite and >= 0"),
        ("no filename here\n", "line 17: 'no' is not a filename"),
    ],
)
def test_malformed_vowdata_rows_name_the_line(tmp_path, row, pattern):
    # The row replaces the last one (m10er), line 17 of the file.
    text = VOWDATA.rsplit("m10er", 1)[0] + row
    with pytest.raises(DataError, match=pattern) as info:
        load_vowels(_vowdata(tmp_path, text))
    assert "vowdata.dat" in str(info.value)


def test_unknown_vowel_lists_the_available_ones(tmp_path):
    with pytest.raises(DataError, match="'x' is not in .*available.*'uw'"):
        load_vowels(_vowdata(tmp_path), ("a", "x"))


def test_vowel_named_twice_is_rejected(tmp_path):
    with pytest.raises(DataError, match="twice"):
        load_vowels(_vowdata(tmp_path), ("a", "ah"))


def test_selection_without_samples(tmp_path):
    # "oo" is a valid code but has no row; "ih" has one, with F2 missing.
    text = VOWDATA + "m12ih 300 120  400    0 2500 0 0\n"
    with pytest.raises(DataError, match=r"\['oo'\].*no token"):
        load_vowels(_vowdata(tmp_path, text), ("a", "oo"))
    with pytest.raises(DataError, match=r"\['ih'\]"):
        load_vowels(_vowdata(tmp_path, text), ("ih", "a"))


def test_unrecognised_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some words\nand more words\n")
    with pytest.raises(DataError, match="neither a CSV"):
        load_vowels(path)
    with pytest.raises(DataError, match="`vowels`"):
        load_vowels(path, ())


def test_split_rejects_mismatched_arrays():
    with pytest.raises(DataError, match="one label per sample"):
        vowel_split(np.ones((5, 2)), np.zeros(4, int), seed=0)


def _real_vowdata():
    try:
        folder = find_vowel_file().parent
    except DataError:
        return None
    path = folder / "vowdata.dat"
    return path if path.is_file() else None


@pytest.mark.skipif(
    _real_vowdata() is None, reason="no vowdata.dat beside the vowel CSV"
)
def test_real_vowdata_rebuilds_the_csv():
    # The CSV was built from Hillenbrand's file by dropping tokens with F1 or F2
    # missing; both list the vowels in the same order (a, e, i, o, u).
    for vowel, count in {"a": 136, "e": 139, "i": 139, "o": 137, "u": 138}.items():
        x_dat, _ = load_vowels(_real_vowdata(), (vowel,))
        x_csv, _ = load_vowels(find_vowel_file(), (vowel,))
        assert len(x_dat) == count
        np.testing.assert_array_equal(x_dat, x_csv)
