import numpy as np
import pytest

from kurahw import DataError
from kurahw.fm import CLASS_RANGES_HZ, FEATURE_LAGS, fm_features, fm_signals, fm_task


def test_shapes_and_label_values():
    batch = fm_signals(7, np.random.default_rng(0))
    assert batch.signals.shape == (7, 500)
    assert batch.labels.shape == batch.mod_freq_hz.shape == (7,)
    split = fm_task(0)
    assert split.x_train.shape == (200, 10) and split.x_test.shape == (80, 10)
    assert split.y_train.shape == (200,) and split.y_test.shape == (80,)
    assert set(np.unique(split.y_train)) == {0, 1}


def test_modulation_frequency_follows_the_class():
    batch = fm_signals(300, np.random.default_rng(1))
    for cls, (lo, hi) in enumerate(CLASS_RANGES_HZ):
        f = batch.mod_freq_hz[batch.labels == cls]
        assert f.min() >= lo and f.max() <= hi
    assert np.all((batch.carrier_hz >= 475) & (batch.carrier_hz <= 525))
    assert np.all((batch.mod_depth >= 2.1) & (batch.mod_depth <= 3.9))


def test_classes_are_roughly_balanced():
    # Each class is a fair coin flip: over 5 x 280 samples the share of class 1
    # has a standard deviation of 1.3 %, so 45-55 % is a > 3.5 sigma band.
    labels = np.concatenate(
        [np.r_[s.y_train, s.y_test] for s in map(fm_task, range(5))]
    )
    assert 0.45 < labels.mean() < 0.55


def test_same_seed_same_data_and_prefix_stability():
    a, b = fm_task(3), fm_task(3)
    assert np.array_equal(a.x_train, b.x_train)
    assert np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, fm_task(4).x_train)
    # Sample i depends only on the seed, not on how many samples are drawn.
    small = fm_task(3, n_train=10, n_test=5)
    assert np.array_equal(small.x_train, a.x_train[:10])
    assert np.array_equal(small.x_test, a.x_train[10:15])


def test_features_are_scaled_per_sample():
    x = fm_task(2).x_train
    assert np.all(np.abs(x) <= 1.0)
    assert np.allclose(np.abs(x).max(axis=1), 1.0, atol=1e-6)


def test_features_of_a_constant_signal():
    # For s = 1: autocorrelation at lag L is (n - L) / n, no zero crossings and
    # no energy spread; scaling by the largest entry (lag 1) gives (n - L)/(n - 1).
    n = 500
    row = fm_features(np.ones((1, n)))[0]
    expected = np.r_[(n - FEATURE_LAGS) / (n - 1), 0.0, 0.0]
    np.testing.assert_allclose(row, expected, rtol=1e-6)


def test_features_of_an_alternating_signal():
    # For s = +1, -1, ...: autocorrelation (-1)^L (n - L)/n, zero-crossing rate
    # 2 (n - 1) / (2 n); the largest magnitude is (n - 1)/n (lag 1 and the rate).
    n = 500
    s = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    row = fm_features(s[None, :])[0]
    lags = FEATURE_LAGS
    expected = np.r_[(-1.0) ** lags * (n - lags) / (n - 1), 1.0, 0.0]
    np.testing.assert_allclose(row, expected, rtol=1e-6)
    assert lags.tolist() == [1, 18, 36, 54, 71, 89, 107, 125]


def test_silent_signal_gives_zero_features():
    assert np.array_equal(fm_features(np.zeros((2, 300))), np.zeros((2, 10)))


def test_class_means_separate():
    # Standardised mean difference per feature; with shuffled labels it would
    # be near 0 (|d| < 0.3 for 200 samples), so this fails on a label mix-up.
    split = fm_task(0)
    x, y = split.x_train, split.y_train
    spread = np.sqrt((x[y == 0].var(axis=0) + x[y == 1].var(axis=0)) / 2)
    d = (x[y == 1].mean(axis=0) - x[y == 0].mean(axis=0)) / spread
    # Fast modulation lowers the lag-1 autocorrelation and raises crossings.
    assert d[0] < -1.0
    assert d[8] > 1.0

    # A nearest-class-mean rule learned on the training part beats chance.
    means = np.stack([x[y == c].mean(axis=0) for c in (0, 1)])
    dist = ((split.x_test[:, None, :] - means[None]) ** 2).sum(axis=2)
    assert np.mean(dist.argmin(axis=1) == split.y_test) > 0.62


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [({"n_train": 0}, "n_train"), ({"n_test": -1}, "n_test"), ({"n_test": 2.5}, "2.5")],
)
def test_task_rejects_bad_sizes(kwargs, pattern):
    with pytest.raises(DataError, match=pattern):
        fm_task(0, **kwargs)


def test_features_reject_short_signals():
    with pytest.raises(DataError, match="signals"):
        fm_features(np.ones((3, 100)))
