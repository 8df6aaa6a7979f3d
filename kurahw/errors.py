"""Exceptions: one root, each leaf also a builtin that callers already catch."""

__all__ = ["DataError", "KurahwError", "NetworkError", "NotConvergedError"]


class KurahwError(Exception):
    """Root of every error kurahw raises on purpose."""


class NetworkError(KurahwError, ValueError):
    """A network description is invalid (shape, value, symmetry, roles, graph)."""


class DataError(KurahwError, ValueError):
    """A data file is missing or malformed."""


class NotConvergedError(KurahwError, RuntimeError):
    """A solve the caller required to succeed found no stable equilibrium."""
