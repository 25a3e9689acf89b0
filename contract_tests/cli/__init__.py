"""The kit's commands on the ``chatlabels`` parser: check, validate, record."""
