"""`python -m klantreis` runs the command line."""

from klantreis.cli import run

run()
