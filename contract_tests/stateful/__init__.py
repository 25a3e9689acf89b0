"""The stateful model test: a Hypothesis state machine of label writes, run on any target."""
