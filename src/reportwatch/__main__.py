"""`python -m reportwatch`: the same command as `reportwatch`."""

from reportwatch.cli import main

main(prog_name="reportwatch")
