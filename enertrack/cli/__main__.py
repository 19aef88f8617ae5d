"""`python -m enertrack.cli`: the same command as `enertrack`."""

from enertrack.cli.main import main

main()
