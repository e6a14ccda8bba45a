"""`python -m hailuo_batch`: the same command line as `hailuo-batch`."""

from hailuo_batch.cli import cli

cli(prog_name="hailuo-batch")
