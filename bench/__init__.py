"""`make bench`: wisdom against the agents double it fronts, on PostgreSQL, under its own gunicorn config."""
