"""Pure domain: the magnitude table, Reading, energy rules, calendar periods, node status (no I/O)."""
