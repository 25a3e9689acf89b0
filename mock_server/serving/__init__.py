"""Running the app: the waitress server (in a thread or as ``chatlabels serve``) and its CLI."""
