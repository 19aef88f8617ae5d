"""Power quality in the spirit of EN 50160: pure rules (report.py) and a weekly loader over a store (week.py)."""
