"""Shared Dash pieces: component ids, the shell, navbar, toasts, theme."""
