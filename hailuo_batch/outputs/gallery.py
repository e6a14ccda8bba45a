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
from typing import Any
from urllib.parse import quote

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
    document: Mapping[str, Any],
    jobs: Sequence[Mapping[str, Any]],
    posters: Mapping[str, str],
    now: float,
) -> str:
    """The page for `jobs` (lockfile job records) of `document` (the lockfile).

    `posters` maps a job key to its poster image, relative to the folder; `now` is
    shown as the time the page was made.
    """
    manifest = document.get("manifest") or {}
    version = str((document.get("tool") or {}).get("version", ""))
    name = str(manifest.get("name") or "hailuo-batch")
    failed = [job for job in jobs if job.get("state") == "failed"]
    cards = "\n".join(_card(job, posters.get(str(job.get("key")))) for job in jobs)
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
<p class="sub">{_e(_subtitle(manifest, version, now))}</p>
<section class="stats">{_stats(document, jobs)}</section>
</header>
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
</main>
<footer>Made by hailuo-batch {_e(version)} from <code>manifest.lock.json</code>;
rebuild it with <code>hailuo-batch report FOLDER</code>.</footer>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _subtitle(manifest: Mapping[str, Any], version: str, now: float) -> str:
    sha = str(manifest.get("sha256") or "")[:12]
    parts = [f"manifest {PurePath(str(manifest.get('path') or '')).name}".strip()]
    if sha:
        parts.append(f"sha256 {sha}…")
    parts += [f"hailuo-batch {version}", f"updated {_clock(now)}"]
    return " · ".join(parts)


def _stats(document: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]]) -> str:
    done = [job for job in jobs if job.get("state") == "done"]
    failed = sum(job.get("state") == "failed" for job in jobs)
    warned = sum(bool(job.get("warnings")) for job in done)
    starts = [t["submitted"] for job in jobs if "submitted" in (t := job.get("timings") or {})]
    ends = [t["downloaded"] for job in done if "downloaded" in (t := job.get("timings") or {})]
    wall = max(ends) - min(starts) if starts and ends else None
    rate = f"{len(done) / wall * 60:.1f}/min" if wall else "–"
    footage = sum(float((job.get("media") or {}).get("duration") or 0) for job in done)
    size = sum(int(job.get("bytes") or 0) for job in done)
    tiles = [
        ("ok", f"{len(done)} / {len(jobs)}", "videos done"),
        ("bad" if failed else "", str(failed), "failed"),
        ("", str(len(jobs) - len(done) - failed), "in progress"),
        ("warn" if warned else "", str(warned), "with warnings"),
        ("", f"${float(document.get('spend_usd') or 0):.2f}", "spend (folder)"),
        ("", _span(wall) if wall is not None else "–", "wall time"),
        ("", rate, "throughput"),
        ("", _span(footage), "footage"),
        ("", _size(size), "on disk"),
    ]
    return "".join(
        f'<div class="stat {cls}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
        for cls, value, label in tiles
    )


def _state_options(jobs: Sequence[Mapping[str, Any]]) -> str:
    states = [str(job.get("state")) for job in jobs]
    counts = {
        "all": len(jobs),
        "done": states.count("done"),
        "failed": states.count("failed"),
        "active": sum(state not in FINAL for state in states),
        "warnings": sum(bool(job.get("warnings")) for job in jobs),
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


def _failures(failed: Sequence[Mapping[str, Any]]) -> str:
    if not failed:
        return ""
    rows = "\n".join(
        f'<tr data-state="failed" data-warn="0" data-text="{_e(_text(job))}">'
        f"<td><code>{_e(job.get('id'))}</code></td>"
        f'<td class="kind">{_e((job.get("error") or {}).get("kind", "?"))}</td>'
        f"<td>{_e((job.get('error') or {}).get('message', ''))}</td>"
        f"<td>{_source(job)}</td></tr>"
        for job in failed
    )
    return (
        f'<section class="failures" id="failures"><h2>Failures ({len(failed)})</h2>'
        "<table><thead><tr><th>job</th><th>reason</th><th>message</th>"
        f"<th>manifest line</th></tr></thead><tbody>\n{rows}\n</tbody></table></section>"
    )


def _card(job: Mapping[str, Any], poster: str | None) -> str:
    state = str(job.get("state") or "pending")
    warnings = list(job.get("warnings") or [])
    request = job.get("request") or {}
    if state == "done" and job.get("path"):
        poster_attr = f' poster="{_url(poster)}"' if poster else ""
        picture = (
            f'<video controls preload="metadata"{poster_attr} src="{_url(job["path"])}"></video>'
        )
    else:
        picture = f'<div class="novideo">{_e(state)}</div>'
    error = job.get("error") if state == "failed" else None
    lines = [
        f'<div class="head"><h3>{_e(job.get("id"))}</h3>'
        f'<span class="badge {_e(state)}">{_e(state)}</span></div>',
        f'<p class="prompt">{_e(request.get("prompt", ""))}</p>',
        f'<p class="meta">{_e(_parameters(job))}</p>',
        f'<p class="meta">{_e(_provider(job))}</p>',
    ]
    timing = _timings(job.get("timings") or {})
    if timing:
        lines.append(f'<p class="meta">{_e(timing)}</p>')
    lines.append(f'<p class="meta">from {_source(job)}</p>')
    lines += [f'<p class="warn">⚠ {_e(warning)}</p>' for warning in warnings]
    if error:
        kind, message = _e(error.get("kind", "?")), _e(error.get("message", ""))
        lines.append(f'<p class="error"><b>{kind}</b>: {message}</p>')
    body = "\n".join(lines)
    return (
        f'<article class="card {_e(state)}" data-state="{_e(state)}" '
        f'data-warn="{int(bool(warnings))}" data-text="{_e(_text(job))}">\n'
        f'{picture}\n<div class="body">\n{body}\n</div>\n</article>'
    )


def _text(job: Mapping[str, Any]) -> str:
    """What the search box looks in: id and prompt, lower-cased."""
    prompt = (job.get("request") or {}).get("prompt", "")
    return f"{job.get('id', '')} {prompt}".lower()


def _parameters(job: Mapping[str, Any]) -> str:
    request, facts = job.get("request") or {}, job.get("media") or {}
    parts = [
        str(request.get("model", "?")),
        f"{request.get('duration', '?')} s",
        str(request.get("resolution", "?")),
    ]
    if facts:
        parts.append(f"{facts.get('width')}×{facts.get('height')}")
        parts.append(f"{float(facts.get('fps') or 0):g} fps · {facts.get('frames')} frames")
        parts.append(f"{facts.get('duration')} s delivered")
    if job.get("bytes"):
        parts.append(_size(int(job["bytes"])))
    for label, field in (("first frame", "image"), ("last frame", "end_image")):
        image = request.get(field)
        if image:
            parts.append(f"{label} {PurePath(str(image.get('source'))).name}")
    if job.get("sample"):
        parts.append(f"sample {int(job['sample']) + 1}")
    return " · ".join(parts)


def _provider(job: Mapping[str, Any]) -> str:
    attempts = int(job.get("attempts") or 0)
    parts = [str(job.get("provider") or "not sent")]
    if job.get("task_id"):
        parts.append(f"task {job['task_id']}")
    parts.append(f"{attempts} attempt{'s' if attempts != 1 else ''}")
    parts.append(f"${float(job.get('cost_usd') or 0):.2f}")
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


def _source(job: Mapping[str, Any]) -> str:
    source = job.get("source") or {}
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
