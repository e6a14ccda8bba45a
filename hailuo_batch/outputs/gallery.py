"""The HTML gallery of an output folder, as one self-contained page. Pure: text in, text out.

`render_page` turns lockfile jobs into `report.html`: a summary, the failures with the
manifest line that produced each, and a grid of cards with the video, its prompt,
parameters, provider and timings. No external assets; videos and posters are linked
relative to the folder, so the page works from `file://` and from any static host.
Everything that comes from a manifest (ids, prompts, paths, messages) is escaped, and
a Content-Security-Policy admits only the page's own script, by hash. Times are epoch
seconds.
"""

from __future__ import annotations

import base64
import hashlib
import html
import time
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from urllib.parse import quote

from hailuo_batch.store.fold import JobRecord
from hailuo_batch.store.lockfile import LockDocument

FINAL = ("done", "failed")

_SCRIPT = """
(() => {
  const q = document.getElementById("q");
  const pick = document.getElementById("state");
  const shown = document.getElementById("shown");
  const items = document.querySelectorAll("[data-text]");
  function fits(el, want) {
    const state = el.dataset.state;
    if (want === "all") return true;
    if (want === "warnings") return el.dataset.warn === "1";
    if (want === "active") return state !== "done" && state !== "failed";
    return state === want;
  }
  function apply() {
    const text = q.value.trim().toLowerCase();
    const want = pick.value;
    let cards = 0;
    for (const el of items) {
      const show = fits(el, want) && (!text || el.dataset.text.includes(text));
      el.hidden = !show;
      if (show && el.classList.contains("card")) cards += 1;
    }
    shown.textContent = String(cards);
  }
  q.addEventListener("input", apply);
  pick.addEventListener("change", apply);
  apply();
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
_POLICY = f"script-src 'sha256-{_SCRIPT_HASH}'; object-src 'none'; base-uri 'none'"

_STYLE = """
:root{--bg:#f4f5f8;--card:#fff;--ink:#1b2230;--muted:#5f6979;--line:#e2e5eb;
--ok:#17794a;--bad:#b93226;--warn:#8a5a0c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
.top{background:#131a27;color:#eef1f6;padding:22px 28px 20px}
.top h1{margin:0;font-size:22px;font-weight:650;letter-spacing:.2px}
.sub{margin:4px 0 16px;color:#98a2b4;font-size:12.5px}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:10px}
.stat{background:#1d2638;border-radius:9px;padding:10px 13px}
.stat b{display:block;font-size:20px;font-weight:650}
.stat span{color:#98a2b4;font-size:12px}
.stat.bad b{color:#ff8a7a}.stat.warn b{color:#f5c26b}.stat.ok b{color:#7ee2a8}
.tools{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:10px;
align-items:center;padding:12px 28px;background:rgba(244,245,248,.96);
border-bottom:1px solid var(--line)}
.tools input{flex:1 1 240px;max-width:460px;padding:8px 11px;border:1px solid #cbd2dc;
border-radius:7px;font:inherit;background:#fff}
.tools select{padding:7px 9px;border:1px solid #cbd2dc;border-radius:7px;font:inherit;
background:#fff}
.tools .count{color:var(--muted)}
main{padding:20px 28px 36px}
h2{font-size:16px;margin:4px 0 12px}
.failures{margin-bottom:26px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);
border-radius:9px;overflow:hidden}
th,td{text-align:left;padding:8px 11px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;background:#fafbfc}
td.kind{color:var(--bad);font-weight:600;white-space:nowrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:11px;overflow:hidden;
display:flex;flex-direction:column;box-shadow:0 1px 2px rgba(20,30,50,.05)}
.card video,.novideo{display:block;width:100%;aspect-ratio:16/9;background:#0c1018;
object-fit:contain}
.novideo{display:flex;align-items:center;justify-content:center;color:#a9b2c1;font-size:13px}
.card.failed .novideo{color:#ff9d90}
.body{padding:12px 14px 14px;display:flex;flex-direction:column;gap:7px}
.head{display:flex;justify-content:space-between;align-items:center;gap:8px}
.head h3{margin:0;font:600 14px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;
overflow-wrap:anywhere}
.badge{font-size:11.5px;font-weight:600;padding:2px 9px;border-radius:999px;
background:#e7eaf0;color:#4a5468;white-space:nowrap}
.badge.done{background:#dff3e7;color:var(--ok)}.badge.failed{background:#fae3df;color:var(--bad)}
.badge.sim{background:#ede4fb;color:#5b2ea6;margin-left:4px}
.badge.old{background:#e7eaf0;color:#4a5468;margin-left:4px}
.banner{margin:0;padding:10px 28px;font-weight:600}
.banner.sim{background:#ede4fb;color:#3f1d7a}.banner.down{background:#fcf1dc;color:#6b4306}
.prompt{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.meta{margin:0;color:var(--muted);font-size:12.5px;overflow-wrap:anywhere}
.warn{margin:0;padding:6px 9px;border-radius:7px;background:#fcf1dc;color:var(--warn);
font-size:12.5px}
.error{margin:0;padding:6px 9px;border-radius:7px;background:#fbe7e4;color:var(--bad);
font-size:12.5px;overflow-wrap:anywhere}
.empty{color:var(--muted)}
footer{padding:0 28px 28px;color:var(--muted);font-size:12px}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
[hidden]{display:none!important}
@media (max-width:640px){.top,.tools,main,footer{padding-left:14px;padding-right:14px}}
"""


def render_page(
    lock: LockDocument,
    jobs: Sequence[JobRecord],
    posters: Mapping[str, str],
    now: float,
) -> str:
    """The page for `jobs` (the current manifest's records) of the folder's lockfile.

    `posters` maps a job key to its poster image, relative to the folder; `now` is
    shown as the time the page was made.
    """
    version = lock.tool_version
    name = lock.manifest.name or "hailuo-batch"
    failed = [job for job in jobs if job.state == "failed"]
    cards = "\n".join(_card(job, posters.get(job.key)) for job in jobs)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<title>{_e(name)} · hailuo-batch report</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
</head>
<body>
<header class="top">
<h1>{_e(name)}</h1>
<p class="sub">{_e(_subtitle(lock, now))}</p>
<section class="stats">{_stats(lock, jobs)}</section>
</header>
{_banners(lock, jobs)}
<nav class="tools">
<input id="q" type="search" placeholder="Search prompts and ids" aria-label="Search prompts">
<select id="state" aria-label="Filter by state">{_state_options(jobs)}</select>
<span class="count"><span id="shown">{len(jobs)}</span> of {len(jobs)} shown</span>
</nav>
<main>
{_failures(failed)}
<h2>Videos</h2>
<section class="grid" id="grid">
{cards or '<p class="empty">No jobs yet.</p>'}
</section>
{_superseded(lock.superseded(), posters)}
</main>
<footer>Made by hailuo-batch {_e(version)} from <code>manifest.lock.json</code>;
rebuild it with <code>hailuo-batch report FOLDER</code>.</footer>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _subtitle(lock: LockDocument, now: float) -> str:
    sha = lock.manifest.sha256[:12]
    parts = [f"manifest {PurePath(lock.manifest.path).name}".strip()]
    if sha:
        parts.append(f"sha256 {sha}…")
    parts += [f"hailuo-batch {lock.tool_version}", f"updated {_clock(now)}"]
    return " · ".join(parts)


def _banners(lock: LockDocument, jobs: Sequence[JobRecord]) -> str:
    """What must not be missed: simulated videos, providers taken out of service."""
    parts = []
    simulated = sum(job.simulated for job in jobs)
    if simulated:
        parts.append(
            f'<p class="banner sim" id="simulated">Simulated: {simulated} of {len(jobs)} '
            "video(s) here were made by hailuo-batch's built-in simulator, not by a provider. "
            "They cost nothing and show nothing real; a run without <code>--simulate</code> "
            "makes them for real.</p>"
        )
    for down in lock.out_of_service:
        parts.append(
            f'<p class="banner down" data-provider="{_e(down.provider)}">'
            f"{_e(down.provider)} was taken out of service in the last run: "
            f"{_e(down.reason)}; {down.moved} job(s) moved to the next provider.</p>"
        )
    return "\n".join(parts)


def _superseded(kept: Sequence[JobRecord], posters: Mapping[str, str]) -> str:
    """Paid videos of earlier versions of jobs (a prompt was edited): kept, and listed."""
    if not kept:
        return ""
    cards = "\n".join(_card(job, posters.get(job.key), superseded=True) for job in kept)
    return (
        f'<h2 id="superseded">Superseded paid videos ({len(kept)})</h2>'
        '<p class="meta">Earlier versions of jobs whose request changed since. They were '
        "paid for, so they are kept on disk under their own names.</p>"
        f'<section class="grid">\n{cards}\n</section>'
    )


def _stats(lock: LockDocument, jobs: Sequence[JobRecord]) -> str:
    done = [job for job in jobs if job.state == "done"]
    failed = sum(job.state == "failed" for job in jobs)
    warned = sum(bool(job.warnings) for job in done)
    starts = [job.timings["submitted"] for job in jobs if "submitted" in job.timings]
    ends = [job.timings["downloaded"] for job in done if "downloaded" in job.timings]
    wall = max(ends) - min(starts) if starts and ends else None
    rate = f"{len(done) / wall * 60:.1f}/min" if wall else "–"
    footage = sum(float((job.media or {}).get("duration") or 0) for job in done)
    size = sum(job.bytes or 0 for job in done)
    tiles = [
        ("ok", f"{len(done)} / {len(jobs)}", "videos done"),
        ("bad" if failed else "", str(failed), "failed"),
        ("", str(len(jobs) - len(done) - failed), "in progress"),
        ("warn" if warned else "", str(warned), "with warnings"),
        ("", str(lock.spend), "spend (folder)"),
        ("", _span(wall) if wall is not None else "–", "wall time"),
        ("", rate, "throughput"),
        ("", _span(footage), "footage"),
        ("", _size(size), "on disk"),
    ]
    return "".join(
        f'<div class="stat {cls}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
        for cls, value, label in tiles
    )


def _state_options(jobs: Sequence[JobRecord]) -> str:
    states = [job.state for job in jobs]
    counts = {
        "all": len(jobs),
        "done": states.count("done"),
        "failed": states.count("failed"),
        "active": sum(state not in FINAL for state in states),
        "warnings": sum(bool(job.warnings) for job in jobs),
    }
    labels = {
        "all": "All",
        "done": "Done",
        "failed": "Failed",
        "active": "In progress",
        "warnings": "With warnings",
    }
    return "".join(
        f'<option value="{value}">{labels[value]} ({count})</option>'
        for value, count in counts.items()
    )


def _failures(failed: Sequence[JobRecord]) -> str:
    if not failed:
        return ""
    rows = "\n".join(
        f'<tr data-state="failed" data-warn="0" data-text="{_e(_text(job))}">'
        f"<td><code>{_e(job.id)}</code></td>"
        f'<td class="kind">{_e(job.error.kind if job.error else "?")}</td>'
        f"<td>{_e(job.error.message if job.error else '')}</td>"
        f"<td>{_source(job)}</td></tr>"
        for job in failed
    )
    return (
        f'<section class="failures" id="failures"><h2>Failures ({len(failed)})</h2>'
        "<table><thead><tr><th>job</th><th>reason</th><th>message</th>"
        f"<th>manifest line</th></tr></thead><tbody>\n{rows}\n</tbody></table></section>"
    )


def _card(job: JobRecord, poster: str | None, *, superseded: bool = False) -> str:
    state = job.state
    request = job.request
    if state == "done" and job.path:
        poster_attr = f' poster="{_url(poster)}"' if poster else ""
        picture = f'<video controls preload="metadata"{poster_attr} src="{_url(job.path)}"></video>'
    else:
        picture = f'<div class="novideo">{_e(state)}</div>'
    badges = f'<span class="badge {_e(state)}">{_e(state)}</span>'
    if job.simulated:
        badges += '<span class="badge sim">simulated</span>'
    if superseded:
        badges += '<span class="badge old">superseded</span>'
    lines = [
        f'<div class="head"><h3>{_e(job.id)}</h3><span>{badges}</span></div>',
        f'<p class="prompt">{_e(request.get("prompt", ""))}</p>',
        f'<p class="meta">{_e(_parameters(job))}</p>',
        f'<p class="meta">{_e(_provider(job))}</p>',
    ]
    timing = _timings(job.timings)
    if timing:
        lines.append(f'<p class="meta">{_e(timing)}</p>')
    lines.append(f'<p class="meta">from {_source(job)}</p>')
    lines += [f'<p class="warn">⚠ {_e(warning)}</p>' for warning in job.warnings]
    if state == "failed" and job.error:
        kind, message = _e(job.error.kind), _e(job.error.message)
        lines.append(f'<p class="error"><b>{kind}</b>: {message}</p>')
    body = "\n".join(lines)
    searchable = "" if superseded else f' data-text="{_e(_text(job))}"'
    return (
        f'<article class="card {_e(state)}" data-state="{_e(state)}" '
        f'data-warn="{int(bool(job.warnings))}"{searchable}>\n'
        f'{picture}\n<div class="body">\n{body}\n</div>\n</article>'
    )


def _text(job: JobRecord) -> str:
    """What the search box looks in: id and prompt, lower-cased."""
    return f"{job.id} {job.request.get('prompt', '')}".lower()


def _parameters(job: JobRecord) -> str:
    request, facts = job.request, job.media or {}
    parts = [
        str(request.get("model", "?")),
        f"{request.get('duration', '?')} s",
        str(request.get("resolution", "?")),
    ]
    if facts:
        parts.append(f"{facts.get('width')}×{facts.get('height')}")
        parts.append(f"{float(facts.get('fps') or 0):g} fps · {facts.get('frames')} frames")
        parts.append(f"{facts.get('duration')} s delivered")
    if job.bytes:
        parts.append(_size(job.bytes))
    for label, field in (("first frame", "image"), ("last frame", "end_image")):
        image = request.get(field)
        if image:
            parts.append(f"{label} {PurePath(str(image.get('source'))).name}")
    if job.sample:
        parts.append(f"sample {job.sample + 1}")
    return " · ".join(parts)


def _provider(job: JobRecord) -> str:
    parts = [job.provider or "not sent"]
    if job.task_id:
        parts.append(f"task {job.task_id}")
    parts.append(f"{job.attempts} attempt{'s' if job.attempts != 1 else ''}")
    if job.simulated:
        parts.append("simulated: not paid")
    elif job.unpriced:
        parts.append("price unknown")
    else:
        parts.append(f"${job.cost_usd:.2f}")
    return " · ".join(parts)


def _timings(timings: Mapping[str, float]) -> str:
    """Waited (submitted → started), generated (→ finished), fetched (→ downloaded)."""
    submitted, started = timings.get("submitted"), timings.get("started")
    finished, downloaded = timings.get("finished"), timings.get("downloaded")
    parts = []
    if submitted is not None and started is not None:
        parts.append(f"waited {_span(started - submitted)}")
    begin = started if started is not None else submitted
    if begin is not None and finished is not None:
        parts.append(f"generated {_span(finished - begin)}")
    if finished is not None and downloaded is not None:
        parts.append(f"fetched {_span(downloaded - finished)}")
    if downloaded is not None:
        parts.append(f"at {_clock(downloaded)}")
    return " · ".join(parts)


def _source(job: JobRecord) -> str:
    source = job.source
    file = str(source.get("file") or "?")
    line = source.get("line")
    shown = f"{PurePath(file).name}:{line}" if line else PurePath(file).name
    return f'<code title="{_e(file)}">{_e(shown)}</code>'


def _url(path: str) -> str:
    return _e(quote(path, safe="/"))


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _size(count: int) -> str:
    if count < 1_000_000:
        return f"{count / 1000:.0f} kB"
    return f"{count / 1e6:.1f} MB"


def _clock(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))
