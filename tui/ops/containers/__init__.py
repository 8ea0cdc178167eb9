"""Container actions (restart, stop, start) through the Docker API (``actions``), and a
pool's containers (``pools``), which a rollback can stop."""
