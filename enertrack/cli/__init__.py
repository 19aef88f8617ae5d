"""The `enertrack` command: one module per command group, one error convention (`common.fail`)."""
