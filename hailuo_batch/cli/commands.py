"""The `hailuo-batch` command line: parse, call one library function, print, exit.

Nothing a test would want to call lives here. Heavy modules (aiohttp, the engine, the
simulator) are imported inside the commands that need them, so `--help` and
`validate` start fast. Exit codes: 0 ok, 1 some jobs failed, 2 bad input or usage
(nothing sent), 3 stopped early with state saved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hailuo_batch import __version__
from hailuo_batch.errors import HailuoBatchError, ManifestError, Problem

if TYPE_CHECKING:
    from hailuo_batch.engine.summary import RunSummary
    from hailuo_batch.store.status import FolderStatus

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STOPPED = 0, 1, 2, 3


class _Group(click.Group):
    """Turns errors into exit codes in one place: one clear line each, the traceback only
    with --debug. Our own errors carry their code; anything else is an internal error,
    reported as a stop (3): the journal is consistent whatever failed."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except ManifestError as exc:
            _print_problems(exc.problems)
            ctx.exit(exc.exit_code)
        except HailuoBatchError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # the one place: a bug must not show as a traceback
            if debug:
                raise
            click.echo(
                f"error: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug to see where, and report it)",
                err=True,
            )
            ctx.exit(EXIT_STOPPED)


def _print_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        click.echo(str(problem), err=True)
    if errors:
        files = len({p.file for p in errors})
        click.echo(f"{len(errors)} problem(s) in {files} file(s); nothing was sent.", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hailuo-batch")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Run batches of MiniMax Hailuo video jobs from a YAML manifest.

    \b
    Example:
      hailuo-batch validate pipelines/quickstart.yaml
      hailuo-batch run pipelines/quickstart.yaml --simulate
    """
    ctx.obj = {"debug": debug}


def _manifest_argument(multiple: bool = False) -> Callable[[F], F]:
    return click.argument(
        "manifests" if multiple else "manifest",
        nargs=-1 if multiple else 1,
        required=True,
        type=click.Path(path_type=Path, dir_okay=False),
    )


@cli.command()
@_manifest_argument(multiple=True)
def validate(manifests: tuple[Path, ...]) -> None:
    """Check manifests against the schema and every provider rule; nothing is sent.

    Exits 0 when all are valid, 2 otherwise, naming file, line and job for each
    problem. A missing API key is only a warning here, so CI can validate without
    secrets.

    \b
    Example:
      hailuo-batch validate pipelines/*.yaml
    """
    from hailuo_batch import api

    problems: list[Problem] = []
    for path in manifests:
        try:
            plan = api.load_plan(path)
        except ManifestError as exc:
            problems += exc.problems
            continue
        _print_problems(list(plan.problems))
        click.echo(f"{path}: ok, {len(plan.jobs)} job(s)", err=True)
    if problems:
        raise ManifestError(problems)


@cli.command("plan")
@_manifest_argument()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: the manifest's `output:`).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of a table.")
@click.option("--limit", default=50, show_default=True, help="Rows of the job table to show.")
def plan_command(manifest: Path, out: Path | None, as_json: bool, limit: int) -> None:
    """Show the expanded jobs, what is already done, and the estimated cost and time.

    \b
    Example:
      hailuo-batch plan pipelines/nightly.yaml --out out/nightly --json
    """
    from hailuo_batch import api

    view = api.plan(manifest, out)
    _print_problems(view.warnings)
    est = view.estimate
    if as_json:
        click.echo(orjson_dumps(view.to_json()))
        return
    rows = [
        (
            j.id,
            j.providers[0],
            j.request.model,
            f"{j.request.duration}s",
            j.request.resolution,
            "yes" if j.request.image else "-",
            view.price_text(j),
            view.state_of(j),
        )
        for j in view.plan.jobs[:limit]
    ]
    header = ("id", "provider", "model", "duration", "resolution", "image", "est. USD", "state")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    if len(view.plan.jobs) > limit:
        click.echo(f"... and {len(view.plan.jobs) - limit} more (--limit N shows more)")
    cost = "unknown" if est.estimated_cost_usd is None else f"${est.estimated_cost_usd:.2f}"
    parts = [f"{est.done} done"]
    if est.in_flight:
        parts.append(f"{est.in_flight} in flight (followed, not submitted again)")
    if est.simulated:
        parts.append(f"{est.simulated} only simulated (to make for real)")
    parts.append(f"{est.to_submit} to submit")
    click.echo(
        f"\n{est.jobs} job(s): {', '.join(parts)}; "
        f"estimated cost {cost}, about {est.estimated_seconds / 60:.0f} min"
    )
    for line in view.price_sources():
        click.echo(f"price of {line}")
    if est.unpriced:
        click.echo(
            "no known price for: "
            + ", ".join(est.unpriced)
            + " (set them under `prices:` in the manifest)"
        )


@cli.command()
@_manifest_argument()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: the manifest's `output:`).",
)
@click.option(
    "--simulate",
    is_flag=True,
    help="Run against the built-in simulator, in-process: no keys, no network.",
)
@click.option(
    "--base-url",
    "base_urls",
    multiple=True,
    metavar="PROVIDER=URL",
    help="Replace a provider's origin, e.g. novita=http://127.0.0.1:8765/novita.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    help="Tasks in flight per provider (overrides `limits.concurrency`).",
)
@click.option("--retry-failed", is_flag=True, help="Try failed jobs again.")
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="Hard cap on spend in this output folder (overrides `limits.budget_usd`).",
)
@click.option("--quiet", is_flag=True, help="No progress; only the final summary line.")
@click.option("--json", "as_json", is_flag=True, help="Print the final summary as JSON.")
@click.option(
    "--gen-seconds",
    type=float,
    default=3.0,
    show_default=True,
    help="With --simulate: how long each simulated task generates.",
)
def run(
    manifest: Path,
    out: Path | None,
    simulate: bool,
    base_urls: tuple[str, ...],
    concurrency: int | None,
    retry_failed: bool,
    budget: float | None,
    quiet: bool,
    as_json: bool,
    gen_seconds: float,
) -> None:
    """Run a manifest, or resume it: finished videos are never made or paid for twice.

    Keys come from the environment (NOVITA_API_KEY, HIGHWAY_API_KEY, GMI_API_KEY,
    AIMLAPI_API_KEY, MINIMAX_API_KEY, FAL_KEY). Exit codes: 0 all done, 1 some jobs failed,
    2 bad input (nothing sent), 3 stopped early (auth, balance, Ctrl-C, folder in use)
    with state saved: run again to resume.

    \b
    Example:
      hailuo-batch run pipelines/quickstart.yaml --simulate
      NOVITA_API_KEY=... hailuo-batch run pipelines/nightly-content.yaml --quiet
    """
    import asyncio

    from hailuo_batch import api
    from hailuo_batch.cli.progress import Progress

    summary = asyncio.run(
        api.arun(
            manifest,
            out,
            simulate=simulate,
            base_urls=dict(_pair(b, "--base-url") for b in base_urls),
            concurrency=concurrency,
            retry_failed=retry_failed,
            budget_usd=budget,
            sim_options={"gen_seconds": gen_seconds} if simulate else {},
            handle_signals=True,
            display=lambda view: Progress(view, quiet=quiet),
        )
    )
    if summary.crash and click.get_current_context().find_root().params.get("debug"):
        click.echo(summary.crash, err=True)
    if as_json:
        click.echo(orjson_dumps(summary.to_json()))
    else:
        click.echo(_summary_line(summary, quiet), err=True)
    raise SystemExit(summary.exit_code)


def _summary_line(summary: RunSummary, quiet: bool) -> str:
    states = ", ".join(f"{n} {s}" for s, n in sorted(summary.by_state.items()))
    line = f"{summary.total} job(s): {states}; spend {summary.spend}"
    if summary.simulated:
        line += f"; {summary.simulated} simulated (not real videos, nothing paid)"
    if summary.possible_duplicates:
        line += f"; {summary.possible_duplicates} possible duplicate submit(s)"
    for down in summary.out_of_service:
        line += f"\n  out of service: {down.reason} ({down.moved} job(s) moved on)"
    line += _failure_lines(summary.failures)
    if quiet:
        line += "".join(f"\n  note: {text}" for text in summary.notices)
    if summary.stopped:
        line += f"\nstopped early: {summary.stopped}. Run the same command again to resume."
    return line


def _failure_lines(failures: Sequence[Any]) -> str:
    """One line per failure, but one line for all that share a budget stop."""
    budget = [f for f in failures if f.kind == "budget"]
    lines = [f"\n  failed {f.id}: {f.kind}: {f.message}" for f in failures if f.kind != "budget"]
    text = "".join(lines[:20])
    if len(lines) > 20:
        text += f"\n  ... and {len(lines) - 20} more failures (see `hailuo-batch status`)"
    if budget:
        text += (
            f"\n  {len(budget)} job(s) not submitted: they would exceed the budget "
            "(a later run with a larger --budget picks them up)"
        )
    return text


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(folder: Path, as_json: bool) -> None:
    """Summarise an output folder: jobs per state, failures with reasons, spend. Offline.

    \b
    Example:
      hailuo-batch status out/quickstart --json
    """
    from hailuo_batch import api

    found = api.OutputFolder(folder).status()
    if as_json:
        click.echo(orjson_dumps(found.to_json()))
        return
    click.echo(_status_text(found))


def _status_text(found: FolderStatus) -> str:
    states = ", ".join(f"{n} {s}" for s, n in found.by_state.items()) or "no jobs"
    lines = [f"{found.folder}: {found.jobs} job(s): {states}; spend {found.spend}"]
    if found.simulated:
        lines.append(
            f"  SIMULATED: {found.simulated} job(s) were made by the built-in simulator, not "
            "by a provider; a run without --simulate makes them for real"
        )
    for down in found.out_of_service:
        lines.append(
            f"  out of service in the last run: {down.reason} ({down.moved} job(s) moved on)"
        )
    lines += [f"  failed {f.id}: {f.kind}: {f.message}" for f in found.failures]
    for job_id, warnings in found.warnings.items():
        lines += [f"  warning {job_id}: {warning}" for warning in warnings]
    if found.possible_duplicates:
        lines.append(f"  {found.possible_duplicates} possible duplicate submit(s)")
    if found.superseded:
        lines.append(
            f"  {len(found.superseded)} superseded paid video(s) kept (their job's request "
            "changed since):"
        )
        lines += [f"    {r.id}: {r.path}" for r in found.superseded]
    return "\n".join(lines)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--format",
    "formats",
    type=click.Choice(["html", "jsonl", "csv", "parquet"]),
    multiple=True,
    help="What to write: html (report.html), jsonl (results.jsonl and "
    "videos/metadata.jsonl), csv (results.csv), parquet (results.parquet, needs pyarrow). "
    "Repeatable; default html and jsonl.",
)
def report(folder: Path, formats: tuple[str, ...]) -> None:
    """(Re)write an output folder's gallery and data-set index from its lockfile. Offline.

    report.html is a self-contained page (videos, posters, prompts, failures, search);
    results.jsonl has one line per finished video with its request, provider, timings,
    cost, sha256 and probed media facts; videos/metadata.jsonl holds the same lines for
    Hugging Face `datasets` (load_dataset("videofolder", data_dir="OUT/videos"));
    results.csv is the same for spreadsheets, results.parquet for data frames.

    \b
    Example:
      hailuo-batch report out/quickstart
      hailuo-batch report out/quickstart --format csv --format parquet
    """
    from hailuo_batch import api
    from hailuo_batch.outputs.report import DEFAULT_FORMATS

    output = api.OutputFolder(folder)
    for path in output.write_report(formats or DEFAULT_FORMATS):
        click.echo(f"wrote {path}", err=True)
    split_words = output.split_word_videos()
    if split_words:
        click.echo(
            f"note: `datasets` takes {', '.join(split_words[:3])}"
            f"{' and others' if len(split_words) > 3 else ''} for a split (a name with train, "
            'val, dev, test or eval): load the folder with data_files="*" as well as '
            "data_dir (README: Load as a data set)",
            err=True,
        )


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def verify(folder: Path, as_json: bool) -> None:
    """Re-check every finished video against the lockfile; exit 1 on any problem. Offline.

    Each file must be there with its recorded size and sha256, open as a video, and
    match its request: duration within 0.5 s, the resolution's frame size, frames > 0.

    \b
    Example:
      hailuo-batch verify out/quickstart
    """
    from hailuo_batch import api

    result = api.OutputFolder(folder).verify()
    if as_json:
        click.echo(
            orjson_dumps(
                {
                    "folder": str(folder),
                    "checked": result.checked,
                    "not_done": result.not_done,
                    "ok": result.ok,
                    "findings": [
                        {"id": f.job, "path": f.path, "problem": f.problem} for f in result.findings
                    ],
                }
            )
        )
    else:
        for finding in result.findings:
            click.echo(str(finding))
        line = f"{folder}: {result.checked} video(s) checked, {len(result.findings)} problem(s)"
        if result.not_done:
            line += f"; {result.not_done} job(s) not done (see `hailuo-batch status`)"
        click.echo(line, err=True)
    raise SystemExit(EXIT_OK if result.ok else EXIT_FAILED)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, help="Port to listen on.")
@click.option(
    "--gen-seconds",
    default=3.0,
    show_default=True,
    help="How long one task generates once started.",
)
@click.option(
    "--jitter",
    default=0.1,
    show_default=True,
    help="Each task takes --gen-seconds times 1 +- this (uniform).",
)
@click.option(
    "--max-concurrent",
    default=4,
    show_default=True,
    help="Tasks generating at once per provider; the rest wait queued.",
)
@click.option(
    "--submit-latency",
    default="0,0",
    show_default=True,
    metavar="LO,HI",
    help="Seconds each submit takes to answer, drawn uniformly (real APIs: 0.5,2).",
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    help="Fraction of requests that get a fault (429, 5xx, slow, drop, bad JSON).",
)
@click.option(
    "--faults",
    default=None,
    help="Fault kinds to draw from, comma-separated: rate-limit, server-error, "
    "slow, drop, bad-json, lost-reply.",
)
@click.option(
    "--outage",
    multiple=True,
    metavar="PROVIDER=balance|auth|down",
    help="Make a provider refuse every submit in its own error shape.",
)
@click.option(
    "--task-failure-rate",
    default=0.0,
    show_default=True,
    help="Fraction of tasks that end failed with a realistic reason.",
)
@click.option(
    "--url-ttl",
    default=3600.0,
    show_default=True,
    help="Seconds a result URL works before answering 403.",
)
@click.option("--seed", type=int, default=None, help="Make faults and timings repeatable.")
@click.option(
    "--state-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Keep every accepted task in this file (JSON lines), so a restarted simulator "
    "still knows them.",
)
def sim(
    host: str,
    port: int,
    gen_seconds: float,
    jitter: float,
    max_concurrent: int,
    submit_latency: str,
    fault_rate: float,
    faults: str | None,
    outage: tuple[str, ...],
    task_failure_rate: float,
    url_ttl: float,
    seed: int | None,
    state_file: Path | None,
) -> None:
    """Serve the provider simulator: every provider's real protocol, locally, until Ctrl-C.

    Each provider is mounted under its name, e.g. http://127.0.0.1:8765/novita.
    Results are real MP4s; `GET /_sim/stats` shows what it received. With --state-file,
    a restarted simulator still answers for the tasks it accepted before.

    \b
    Example:
      hailuo-batch sim --port 8765 --gen-seconds 2 --fault-rate 0.1 --seed 7
      hailuo-batch run pipelines/quickstart.yaml --base-url novita=http://127.0.0.1:8765/novita
    """
    from hailuo_batch.simulator import SimConfig, run_forever

    options: dict[str, Any] = {
        "gen_seconds": gen_seconds,
        "jitter": jitter,
        "max_concurrent": max_concurrent,
        "submit_latency": _seconds_range(submit_latency),
        "fault_rate": fault_rate,
        "task_failure_rate": task_failure_rate,
        "url_ttl": url_ttl,
        "seed": seed,
        "outages": dict(_pair(o, "--outage") for o in outage),
        "state_file": str(state_file) if state_file else None,
    }
    if faults:
        options["faults"] = tuple(f.strip() for f in faults.split(","))
    try:
        config = SimConfig(**options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    run_forever(config, host, port)


def orjson_dumps(value: object) -> str:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _seconds_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        return float(low), float(high or low)
    except ValueError:
        raise click.BadParameter(
            f"expected LO,HI in seconds, e.g. 0.5,2 (got {text!r})",
            param_hint="--submit-latency",
        ) from None


def _pair(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise click.BadParameter(f"expected NAME=VALUE (got {text!r})", param_hint=option)
    return name.strip(), value.strip()
