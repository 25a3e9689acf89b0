"""The contract checks as a pytest suite (``pytest --pyargs chatlabels.kit.suite``)."""
