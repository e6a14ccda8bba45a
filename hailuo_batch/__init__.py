"""hailuo-batch: a declarative batch runner for MiniMax Hailuo video models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hailuo-batch")
except PackageNotFoundError:  # a checkout used without installing
    __version__ = "0.0.0+unknown"
