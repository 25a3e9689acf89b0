"""The pytest plugin (``chatlabels_mock``) and the handle tests use to drive the mock."""
