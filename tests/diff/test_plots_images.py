"""An image plot end to end: a real PNG written by a DVC stage into a directory output (as
get-started's feature importance), different at base and head, read through DVC's cache and
then from the remote alone; report.html shows both images side by side by their bytes,
report.md lists the image as changed with its hashes and sizes and, in a CI run, links the
run's artifacts where report.html is."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pytest
import yaml
from helpers.cli import Run
from helpers.repo_helpers import commit_files, dvc, dvc_init, git, isolated, make_repo

from mlci.numbers import format_size_pair

PNG_PATH = "eval/importance.png"
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
          "GITHUB_REPOSITORY": "octo/models", "GITHUB_RUN_ID": "4242"}
ARTIFACTS = "https://github.com/octo/models/actions/runs/4242#artifacts"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one colour (8-bit RGB), as any image library would write it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


# The evaluate stage: draws the feature importance as a PNG whose size and colour follow
# params.yaml, with the same writer as png() above (the stage runs in its own process).
EVALUATE = f'''\
import os, struct, zlib, yaml
p = yaml.safe_load(open("params.yaml"))["plot"]
def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
row = b"\\x00" + bytes(p["rgb"]) * p["width"]
header = struct.pack(">IIBBBBB", p["width"], p["height"], 8, 2, 0, 0, 0)
os.makedirs("eval", exist_ok=True)
open("eval/metrics.json", "w").write('{{"accuracy": %s}}' % p["accuracy"])
open("{PNG_PATH}", "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header)
    + chunk(b"IDAT", zlib.compress(row * p["height"])) + chunk(b"IEND", b""))
'''

DVC_YAML = {
    "stages": {"evaluate": {"cmd": f"{sys.executable} evaluate.py",
                            "deps": ["evaluate.py"], "params": ["plot"], "outs": ["eval"]}},
    "metrics": ["eval/metrics.json"],
    "plots": [PNG_PATH],
}
BASE_PLOT = {"width": 4, "height": 3, "rgb": [200, 80, 0], "accuracy": 0.8}
HEAD_PLOT = {"width": 5, "height": 3, "rgb": [9, 105, 218], "accuracy": 0.85}


def _reproduce(repo: Path, plot: dict[str, object]) -> str:
    (repo / "params.yaml").write_text(yaml.safe_dump({"plot": plot}))
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    return commit_files(repo, message=f"evaluate: {plot['rgb']}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The repository (eval/ is a DVC output, in the cache and pushed to a local directory
    remote), its base commit on main and head commit on feature."""
    root = tmp_path_factory.mktemp("image-plot")
    with isolated(root / "home"):
        repo = make_repo(root / "repo")
        dvc_init(repo, root / "remote")
        (repo / "evaluate.py").write_text(EVALUATE)
        (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
        base = _reproduce(repo, BASE_PLOT)
        git(repo, "checkout", "-q", "-b", "feature")
        head = _reproduce(repo, HEAD_PLOT)
    return repo, base, head


def _expected(plot: dict[str, object]) -> bytes:
    rgb = plot["rgb"]
    assert isinstance(rgb, list)
    return png(int(str(plot["width"])), int(str(plot["height"])), (rgb[0], rgb[1], rgb[2]))


def _report(cli: Run, repo: Path, base: str, head: str, fmt: str,
            environ: dict[str, str] | None = None) -> str:
    run = cli(environ or {}, "report", "-C", str(repo), "--base", base, "--head", head,
              "--format", fmt)
    assert run.code == 0, run.err
    return run.out


def _check_html(html: str, base_png: bytes, head_png: bytes) -> None:
    """Both images embedded by their own bytes, base then head in one row: side by side."""
    uris = [f"data:image/png;base64,{base64.b64encode(data).decode()}"
            for data in (base_png, head_png)]
    row = re.search(r"<tr><td></td><td>(.*?)</td><td>(.*?)</td></tr>", html, flags=re.S)
    assert row is not None, html[html.find("<h2>Plots"):][:2000]
    for cell, uri in zip(row.groups(), uris, strict=True):
        assert cell.startswith(f'<img src="{uri}" alt="{PNG_PATH}"'), cell[:200]


def _check_markdown(md: str, base_png: bytes, head_png: bytes) -> None:
    sizes = format_size_pair(len(base_png), len(head_png))
    base_md5, head_md5 = (hashlib.md5(data).hexdigest()[:7] for data in (base_png, head_png))
    plots = md[md.index("### Plots"):]
    assert (f"| eval/importance.png | changed | md5 {base_md5}, {sizes[0]} | "
            f"md5 {head_md5}, {sizes[1]} |") in plots


def test_the_pngs_are_real_and_the_stage_wrote_what_png_writes(
        built: tuple[Path, str, str]) -> None:
    repo, _, _ = built
    data = (repo / PNG_PATH).read_bytes()
    assert data == _expected(HEAD_PLOT)
    width, height = struct.unpack(">II", data[16:24])  # IHDR, as a decoder reads it
    assert (width, height) == (5, 3)
    assert zlib.decompress(data[41:-12 - 4]) == (b"\x00" + bytes([9, 105, 218]) * 5) * 3


def test_an_image_plot_from_dvcs_cache_is_shown_side_by_side(
        built: tuple[Path, str, str], cli: Run) -> None:
    repo, base, head = built
    base_png, head_png = _expected(BASE_PLOT), _expected(HEAD_PLOT)
    _check_html(_report(cli, repo, base, head, "html"), base_png, head_png)
    md = _report(cli, repo, base, head, "md")
    _check_markdown(md, base_png, head_png)
    # Outside CI the comment names report.html; in a GitHub run it links the artifact.
    assert "Base and head side by side: report.html.\n" in md
    in_ci = _report(cli, repo, base, head, "md", GITHUB)
    assert ("Base and head side by side: report.html, in the CI run's artifact "
            f"[mlci-report-default]({ARTIFACTS}).\n") in in_ci


def test_an_image_plot_only_in_the_remote_is_fetched_and_shown(
        built: tuple[Path, str, str], tmp_path: Path, cli: Run) -> None:
    source, base, head = built
    repo = tmp_path / "clone"
    shutil.copytree(source, repo, symlinks=True)
    shutil.rmtree(repo / ".dvc" / "cache")
    base_png, head_png = _expected(BASE_PLOT), _expected(HEAD_PLOT)
    _check_html(_report(cli, repo, base, head, "html"), base_png, head_png)
    _check_markdown(_report(cli, repo, base, head, "md"), base_png, head_png)
    # Read-only on the repository: the objects were fetched elsewhere, not into its cache.
    assert not (repo / ".dvc" / "cache").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_mlci_ci_in_a_github_run_writes_the_linked_comment_and_report_html(
        built: tuple[Path, str, str], tmp_path: Path, cli: Run) -> None:
    repo, base, head = built
    out = tmp_path / "mlci-report"
    run = cli(GITHUB, "ci", "-C", str(repo), "--base", base, "--head", head,
              "--no-publish", "--output-dir", str(out))
    assert run.code == 0, run.err
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"[mlci-report-default]({ARTIFACTS})" in md
    _check_html((out / "report.html").read_text(encoding="utf-8"), _expected(BASE_PLOT),
                _expected(HEAD_PLOT))
