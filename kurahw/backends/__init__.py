"""Physical networks behind one interface: the ideal simulator, the device
emulator, and later real boards.

Use :func:`open_backend` to get one by name.
"""

from __future__ import annotations

from kurahw.backends.base import (
    Backend,
    BackendInfo,
    Measurement,
    NudgeState,
    UnsupportedOperation,
)
from kurahw.backends.emulator import DeviceModel, EmulatorBackend
from kurahw.backends.ideal import IdealBackend
from kurahw.network import Network, NetworkBatch

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendInfo",
    "DeviceModel",
    "EmulatorBackend",
    "IdealBackend",
    "Measurement",
    "NudgeState",
    "UnsupportedOperation",
    "open_backend",
]

#: Backend names that :func:`open_backend` understands.
BACKENDS = ("ideal", "emulator")


def open_backend(spec: str, networks: Network | NetworkBatch, **options) -> Backend:
    """The backend named ``spec``, starting from the parameters of ``networks``.

    Parameters
    ----------
    spec : str
        ``"ideal"``, or ``"emulator"`` (the ``typical-bench`` board; pass
        ``model=`` for another preset or a :class:`DeviceModel`).
    networks : Network or NetworkBatch
        One network, or a batch to drive in lockstep.
    **options
        Passed to the backend's constructor.
    """
    if spec == "ideal":
        return IdealBackend(networks, **options)
    if spec == "emulator":
        return EmulatorBackend(networks, **options)
    raise ValueError(
        f"`backend` is {spec!r}; available backends: {', '.join(BACKENDS)}."
    )
