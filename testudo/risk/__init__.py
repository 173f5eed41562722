"""Risk: the per-user configuration (``config``) and the pure Decision Loop (``decision``)."""
