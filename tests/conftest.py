import os

import numpy as np
import pytest
from hypothesis import settings

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
