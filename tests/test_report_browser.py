"""report.html in a real browser: headless Chromium, driven by Selenium, from `file://`.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them when root);
skipped, saying so, only where they are not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hailuo_batch.store.lockfile import read_lock
from tests.helpers.sim import SimThread

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
HOSTILE = "<script>window.pwned = 1</script> a koi <b>bold</b>"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason=f"Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}): "
    "apt-get install -y chromium chromium-driver (as root; .ci/run does this)",
)


def _manifest(folder: Path, prompts: dict[str, str]) -> Path:
    path = folder / "gallery.yaml"
    jobs = "".join(
        f"  - id: {job_id}\n    prompt: {prompt!r}\n" for job_id, prompt in prompts.items()
    )
    path.write_text(
        "version: 1\nname: gallery-test\nprovider: novita\noutput: out\n"
        "limits: {concurrency: 4, submit_rate: 1000/s, max_attempts: 2}\n"
        f"jobs:\n{jobs}"
    )
    return path


@pytest.fixture
def folder(tmp_path: Path, sim_server: Callable[..., SimThread]) -> Path:
    """Two videos done (one with a hostile prompt), then a job whose tasks always fail."""
    good = {"fox": "a red fox in fresh snow", "xss": HOSTILE}
    assert sim_server().run(_manifest(tmp_path, good)).exit_code == 0
    doomed = {**good, "doomed": "a job the provider keeps failing"}
    assert sim_server(task_failure_rate=1.0).run(_manifest(tmp_path, doomed)).exit_code == 1
    return tmp_path / "out"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


_VIDEO_AND_POSTER_LOAD = """
const done = arguments[arguments.length - 1];
const videos = [...document.querySelectorAll("video")];
const metadata = v => v.readyState >= 1 ? Promise.resolve(true) : new Promise(ok => {
  v.addEventListener("loadedmetadata", () => ok(true));
  v.addEventListener("error", () => ok(false));
  v.load();
});
const poster = url => new Promise(ok => {
  const img = new Image();
  img.onload = () => ok(img.naturalWidth > 0);
  img.onerror = () => ok(false);
  img.src = url;
});
Promise.all(videos.map(async v => ({
  id: v.closest("article").querySelector("h3").textContent,
  src: v.currentSrc || v.src,
  metadata: await metadata(v),
  width: v.videoWidth,
  duration: v.duration,
  poster: v.poster ? await poster(v.poster) : false,
}))).then(done);
"""


def test_the_report_works_in_a_real_browser(folder: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    lock = read_lock(folder)
    assert lock is not None
    finished = sorted(job.id for job in lock.jobs.values() if job.state == "done")
    assert finished == ["fox", "xss"]
    browser.get((folder / "report.html").as_uri())

    # every finished video plays from its file, and its poster image loads
    videos = browser.execute_async_script(_VIDEO_AND_POSTER_LOAD)
    assert sorted(v["id"] for v in videos) == finished
    for video in videos:
        assert video["src"].startswith("file://") and video["src"].endswith(".mp4"), video
        assert video["metadata"] and video["width"] > 0 and video["duration"] > 5, video
        assert video["poster"], video

    # the failure list shows the failed job, its reason and the manifest line
    rows = browser.find_elements(By.CSS_SELECTOR, "#failures tbody tr")
    assert len(rows) == 1
    assert "doomed" in rows[0].text and "provider_error" in rows[0].text
    assert "gallery.yaml:" in rows[0].text

    # a prompt with markup is shown as text; its script never ran
    prompts = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".card .prompt")]
    assert HOSTILE in prompts
    assert browser.execute_script("return window.pwned") is None
    assert not browser.find_elements(By.CSS_SELECTOR, ".prompt b")

    # the search box filters cards by prompt; the state filter by state
    def shown() -> list[str]:
        cards = browser.find_elements(By.CSS_SELECTOR, "article.card")
        return sorted(c.find_element(By.TAG_NAME, "h3").text for c in cards if c.is_displayed())

    assert shown() == ["doomed", "fox", "xss"]
    search = browser.find_element(By.ID, "q")
    search.send_keys("FOX in")
    assert shown() == ["fox"]
    assert browser.find_element(By.ID, "shown").text == "1"
    search.clear()
    search.send_keys("koi")
    assert shown() == ["xss"]
    search.clear()
    search.send_keys(" ")  # an input event with no words shows everything again
    assert shown() == ["doomed", "fox", "xss"]
    browser.find_element(By.CSS_SELECTOR, "#state option[value=failed]").click()
    assert shown() == ["doomed"]
