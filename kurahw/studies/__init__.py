"""Studies that check the physics and reproduce the paper's claims."""

from kurahw.studies.verify import asymmetry, finite_beta, identity

__all__ = ["asymmetry", "finite_beta", "identity"]
