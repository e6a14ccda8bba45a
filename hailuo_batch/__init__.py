"""hailuo-batch: a declarative batch runner for MiniMax Hailuo video models.

The library's front door (see `hailuo_batch.api` for the details and an example)::

    import hailuo_batch as hb
    summary = hb.run("pipelines/quickstart.yaml", simulate=True)
    for result in hb.OutputFolder("out/quickstart").results(): ...

Names are imported on first use, so `import hailuo_batch` (and the CLI's `--help` and
`validate`) stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The one place the version lives (pyproject reads it): importlib.metadata would cost
# 35 ms of every start-up, a third of the budget for `--help`.
__version__ = "0.2.0"

if TYPE_CHECKING:
    from hailuo_batch.api import OutputFolder, Result, arun, load_plan, plan, run
    from hailuo_batch.core import events
    from hailuo_batch.engine.summary import RunSummary
    from hailuo_batch.errors import HailuoBatchError, ManifestError, Problem
    from hailuo_batch.manifest.plan import Plan
    from hailuo_batch.outputs.verify import Verification
    from hailuo_batch.store.status import FolderStatus

_WHERE = {
    "OutputFolder": "hailuo_batch.api",
    "Result": "hailuo_batch.api",
    "arun": "hailuo_batch.api",
    "load_plan": "hailuo_batch.api",
    "run": "hailuo_batch.api",
    "plan": "hailuo_batch.api",
    "HailuoBatchError": "hailuo_batch.errors",
    "ManifestError": "hailuo_batch.errors",
    "Problem": "hailuo_batch.errors",
    "Plan": "hailuo_batch.manifest.plan",
    "RunSummary": "hailuo_batch.engine.summary",
    "FolderStatus": "hailuo_batch.store.status",
    "Verification": "hailuo_batch.outputs.verify",
}

__all__ = [
    "FolderStatus",
    "HailuoBatchError",
    "ManifestError",
    "OutputFolder",
    "Plan",
    "Problem",
    "Result",
    "RunSummary",
    "Verification",
    "__version__",
    "arun",
    "events",
    "load_plan",
    "plan",
    "run",
]


def __getattr__(name: str) -> Any:
    if name == "events":
        return importlib.import_module("hailuo_batch.core.events")
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'hailuo_batch' has no attribute {name!r}")
