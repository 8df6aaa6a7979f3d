import os

import numpy as np
import pytest
from hypothesis import settings

from kurahw.data import find_vowel_file
from kurahw.errors import DataError
from kurahw.network import erdos_renyi_network, layered_network

# CI replays the same examples on every run, so a red build always means a
# change in the code; local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def layered():
    """The paper's 2+5+2 network, seed 0, with one sample's inputs written in."""
    return layered_network(seed=0).with_inputs([0.4, -0.7])


@pytest.fixture
def er15():
    return erdos_renyi_network(15, seed=42)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _have_vowels() -> bool:
    try:
        find_vowel_file()
    except DataError:
        return False
    return True


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "vowels: needs the Hillenbrand vowel data (see kurahw.data)"
    )


def pytest_collection_modifyitems(config, items):
    # CI always has the data beside the checkout, so there a missing file is a
    # failure; elsewhere the tests that need it skip and say what is missing.
    if _have_vowels() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(
        reason="vowel data not found: set KURAHW_DATA to hillenbrand_vowels.csv"
    )
    for item in items:
        if "vowels" in item.keywords:
            item.add_marker(skip)
