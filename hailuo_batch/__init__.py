"""hailuo-batch: a declarative batch runner for MiniMax Hailuo video models."""

# The one place the version lives (pyproject reads it): importlib.metadata would cost
# 35 ms of every start-up, a third of the budget for `--help`.
__version__ = "0.1.0"
