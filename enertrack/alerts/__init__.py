"""Alerts: rules judged on readings, episodes, and the channels that tell the user.

rules.py and evaluate.py are pure (table-driven tests); engine.py, store.py and the
channels do the I/O around them.
"""
