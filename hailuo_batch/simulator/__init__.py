"""The provider simulator's entry points (re-exports only; the modules below do the I/O).

One local aiohttp app serves Novita, HighwayAPI, GMI Cloud, AI/ML API, MiniMax, fal and
Replicate under `/<provider>` with their real paths and JSON shapes, makes real MP4s and
can inject faults; see `app.make_app` and `server.running_in_process`.
"""

from hailuo_batch.simulator.app import make_app
from hailuo_batch.simulator.config import DEFAULT_FAULTS, FAULT_KINDS, PROVIDER_NAMES, SimConfig
from hailuo_batch.simulator.persistence import TaskFileError
from hailuo_batch.simulator.server import (
    ListenError,
    mount_points,
    run_forever,
    running_in_process,
    serve,
)

__all__ = [
    "DEFAULT_FAULTS",
    "FAULT_KINDS",
    "PROVIDER_NAMES",
    "ListenError",
    "SimConfig",
    "TaskFileError",
    "make_app",
    "mount_points",
    "run_forever",
    "running_in_process",
    "serve",
]
