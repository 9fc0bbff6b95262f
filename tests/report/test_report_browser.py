"""The golden reports as a reviewer sees them on GitHub: rendered by cmark-gfm (GitHub's own
Markdown engine, with its extensions), styled with GitHub's Markdown CSS in an 830 px comment
column, Mermaid drawn, in headless Chromium.

Needs /usr/bin/chromium (Debian's ``chromium``) and, from npm, ``mermaid`` and
``github-markdown-css`` in .ci/node (``.ci/run`` installs all three). Screenshots of every
golden report go to .ci/screenshots/, which CI keeps.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.node_modules import NODE_MODULES
from helpers.report_cases import GOLDEN

from mlci.report.render import render

ROOT = Path(__file__).resolve().parents[2]
MERMAID = NODE_MODULES / "mermaid" / "dist" / "mermaid.min.js"
GITHUB_CSS = NODE_MODULES / "github-markdown-css" / "github-markdown-light.css"
SCREENSHOTS = ROOT / ".ci" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
COLUMN = 830  # px: the comment body on a pull request's conversation tab
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason="needs Chromium (apt-get install chromium; .ci/run "
                                       "installs it)")


def github_html(markdown: str) -> str:
    """The comment body as GitHub's cmark-gfm renders it: tables, strikethrough, autolinks,
    tag filter; HTML kept (GitHub allows <details>), Mermaid blocks as <pre lang="mermaid">."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    body: str = cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG)
    # GitHub hands each such block to Mermaid; here Mermaid finds them by class.
    return re.sub(r'<pre lang="mermaid"><code>(.*?)</code></pre>',
                  r'<pre class="mermaid">\1</pre>', body, flags=re.S)


def page_of(markdown: str) -> str:
    css = GITHUB_CSS.read_text(encoding="utf-8")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{css}\n"
            f"body {{ margin: 0; background: #ffffff; }} .markdown-body {{ box-sizing: "
            f"border-box; width: {COLUMN}px; padding: 16px; }}</style></head><body>"
            f"<article class='markdown-body'>{github_html(markdown)}</article></body></html>")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    for needed in (MERMAID, GITHUB_CSS):
        assert needed.is_file(), f"{needed} is missing: run .ci/run (npm install mermaid@11 " \
                                 "github-markdown-css@5 --prefix .ci/node)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


_MERMAID_RUN = """async () => {
  mermaid.initialize({startOnLoad: false, theme: 'default'});
  const problems = [];
  for (const block of document.querySelectorAll('pre.mermaid')) {
    try { await mermaid.parse(block.textContent); }
    catch (error) { problems.push(String(error.message || error)); }
  }
  if (!problems.length) { await mermaid.run({querySelector: 'pre.mermaid'}); }
  return problems;
}"""

_LAYOUT = """() => {
  const column = document.querySelector('article').getBoundingClientRect();
  const gates = [...document.querySelectorAll('h3')].find(h => h.textContent === 'Gates');
  let reason = null;
  for (let node = gates && gates.nextElementSibling; node && node.tagName !== 'H3';
       node = node.nextElementSibling) {
    const item = node.tagName === 'UL' && [...node.querySelectorAll('li')]
      .find(li => li.textContent.startsWith('❌'));
    if (item) { const box = item.getBoundingClientRect();
                reason = {text: item.textContent, left: box.left, right: box.right}; break; }
  }
  const tables = [...document.querySelectorAll('table')]
    .map(t => ({header: t.rows[0].textContent.trim(), scroll: t.scrollWidth,
                visible: t.clientWidth}));
  const charts = [...document.querySelectorAll('pre.mermaid svg')].map(svg => ({
    height: svg.getBoundingClientRect().height,
    strokes: [...svg.querySelectorAll('.line-plot-0 path')].map(
      p => getComputedStyle(p).stroke)}));
  return {column: {left: column.left, right: column.right}, reason, tables, charts};
}"""


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(colour: str, background: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of a CSS ``rgb(...)`` colour against ``background``."""
    rgb = tuple(int(v) for v in re.findall(r"\d+", colour)[:3])
    lighter, darker = sorted((_luminance(rgb), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def show(browser: Any, name: str) -> dict[str, Any]:
    """Render golden report ``name`` as GitHub would, screenshot it, return its layout."""
    page = browser.new_page(viewport={"width": COLUMN + 32, "height": 900})
    try:
        page.set_content(page_of(render(GOLDEN[name](), "md")))
        page.add_script_tag(path=str(MERMAID))
        problems = page.evaluate(_MERMAID_RUN)
        assert problems == [], f"{name}: Mermaid cannot parse a chart: {problems}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / ".gitignore").write_text("*\n", encoding="utf-8")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        layout: dict[str, Any] = page.evaluate(_LAYOUT)
        return layout
    finally:
        page.close()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_report_renders_on_github_without_horizontal_scroll(browser: Any,
                                                                   name: str) -> None:
    layout = show(browser, name)
    gate_tables = [t for t in layout["tables"] if t["header"].startswith("Gate")]
    for table in gate_tables:
        assert table["scroll"] <= table["visible"], f"{name}: the gates table scrolls"


@pytest.mark.parametrize("name", sorted(n for n in GOLDEN if n in ("failing_gate",
                                                                    "removed_model")))
def test_first_failing_gate_reason_is_fully_visible(browser: Any, name: str) -> None:
    layout = show(browser, name)
    reason, column = layout["reason"], layout["column"]
    assert reason is not None, f"{name}: no failing gate's reason under the Gates heading"
    assert reason["text"].startswith("❌ ")
    assert column["left"] <= reason["left"] and reason["right"] <= column["right"]


def test_trend_charts_render_short_in_a_colour_that_reads_on_light_and_dark(
        browser: Any) -> None:
    layout = show(browser, "all_pass")
    assert layout["charts"], "all_pass has a trend chart"
    for chart in layout["charts"]:
        assert chart["height"] <= 300
        assert chart["strokes"], "the chart draws its line"
        for stroke in chart["strokes"]:
            assert contrast(stroke, (255, 255, 255)) >= 3, stroke  # GitHub light
            assert contrast(stroke, (13, 17, 23)) >= 3, stroke  # GitHub dark: #0d1117


def test_report_html_keeps_words_whole_and_numbers_under_right_aligned_headers(
        browser: Any) -> None:
    page = browser.new_page(viewport={"width": 900, "height": 900})
    try:
        page.set_content(render(GOLDEN["failing_gate"](), "html"))
        cells = page.evaluate("""() => [...document.querySelectorAll('table')].map(t =>
          [...t.rows[0].cells].map((th, i) => {
            const td = t.rows[1] && t.rows[1].cells[i];
            return {header: th.textContent, header_align: getComputedStyle(th).textAlign,
                    cell_align: td ? getComputedStyle(td).textAlign : null,
                    wrap: getComputedStyle(th).overflowWrap}; }))""")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "failing_gate.html.png"), full_page=True)
    finally:
        page.close()
    gates = cells[0]
    assert [c["header"] for c in gates] == ["", "Gate", "Base → Head", "Change", "Reason"]
    for column in (*gates, *cells[1]):
        # "accurac|y": overflow-wrap: anywhere broke words that would have fitted.
        assert column["wrap"] != "anywhere"
        assert column["header_align"] == column["cell_align"], column
    assert [c["header_align"] for c in cells[1]] == ["left", "left", "right", "right",
                                                     "right", "left"]


def test_plot_charts_draw_base_and_head_in_colours_that_read_on_light_and_dark(
        browser: Any) -> None:
    show(browser, "with_plots")  # every chart parses and renders
    page = browser.new_page(viewport={"width": COLUMN + 32, "height": 900})
    try:
        page.set_content(page_of(render(GOLDEN["with_plots"](), "md")))
        page.add_script_tag(path=str(MERMAID))
        assert page.evaluate(_MERMAID_RUN) == []
        charts = page.evaluate("""() => [...document.querySelectorAll('pre.mermaid svg')]
          .map(svg => [0, 1].map(i => [...svg.querySelectorAll(`.line-plot-${i} path`)]
            .map(p => getComputedStyle(p).stroke)))""")
    finally:
        page.close()
    assert len(charts) == 2  # the ROC and the DVCLive loss
    for base, head in charts:
        assert base and head, "both series are drawn"
        assert base[0] != head[0], "base and head differ in colour"
        for stroke in (base[0], head[0]):
            assert contrast(stroke, (255, 255, 255)) >= 3, stroke  # GitHub light
            assert contrast(stroke, (13, 17, 23)) >= 3, stroke  # GitHub dark: #0d1117
