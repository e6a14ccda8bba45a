"""The command line, `hailuo-batch`: parse, call one library function, print, exit."""

from hailuo_batch.cli import models as _models  # noqa: F401  (registers `models`)
from hailuo_batch.cli.commands import cli

__all__ = ["cli"]
