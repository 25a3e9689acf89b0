"""chatlabels contract-test kit: checks, strategies and a runner that judge any target (the
mock or the live API) against the contract in ``chatlabels.contract``."""
