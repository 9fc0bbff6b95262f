"""Real DVC repository layouts, as public projects lay them out, each at two commits.

Every builder makes a git repository with a local directory remote, commits a base on
``main`` and a head on ``feature`` (changing metrics, params, files inside directory outputs,
adding and deleting outputs), pushes both revisions' objects to the remote and returns a
``Layout``. The layouts mirror DVC's get-started project, DVCLive's output folder,
``foreach``/``matrix`` stages, a monorepo with a ``dvc.yaml`` per project, ``.dvc`` files in
subfolders with ``wdir``, ``cache: false``/``persist``/``push: false`` outputs, a DVC 2 lock
file and lock entries that ``dvc.yaml`` no longer declares.

DVC runs in-process (``dvc.repo.Repo``: ``add``, ``reproduce``, ``push``): the same code as
its command line without a new interpreter per call, which keeps building all of them fast.
Files DVC does not write (``dvc.yaml``, the import's ``repo:`` block, the DVC 2 lock file)
are written by hand, the way their users write them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpers.repo_helpers import commit_files, git, make_repo, write_files

# The stage commands run this interpreter, whatever ``python`` is on PATH.
PYTHON = sys.executable


@dataclass(frozen=True)
class Layout:
    name: str
    repo: Path
    remote: Path
    base: str  # the commit on main
    head: str  # the commit on feature
    description: str


def _dvc_config(remote: Path) -> str:
    return ("[core]\n    remote = local\n    autostage = true\n"
            f"['remote \"local\"']\n    url = {remote}\n")


def _start(root: Path) -> tuple[Path, Path]:
    """A git repository with DVC initialised and a local directory remote beside it."""
    from dvc.repo import Repo

    repo = make_repo(root / "repo")
    remote = root / "remote"
    remote.mkdir()
    with _quiet_dvc():
        Repo.init(str(repo)).close()
    (repo / ".dvc" / "config").write_text(_dvc_config(remote))
    return repo, remote


@contextmanager
def _quiet_dvc() -> Iterator[None]:
    """DVC's log handlers may hold a stream that an earlier test captured and has closed
    since: its progress messages are not wanted here, and errors arrive as exceptions."""
    dvc_logger = logging.getLogger("dvc")
    level = dvc_logger.level
    dvc_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        dvc_logger.setLevel(level)


@contextmanager
def open_dvc_repo(repo: Path) -> Iterator[Any]:
    """DVC's ``Repo`` with the working directory inside it: DVC resolves stage paths and
    runs commands relative to the current directory, as its command line does."""
    from dvc.repo import Repo

    before = Path.cwd()
    os.chdir(repo)
    try:
        with _quiet_dvc(), Repo(str(repo)) as dvc_repo:
            yield dvc_repo
    finally:
        os.chdir(before)


def _add(repo: Path, *paths: str) -> None:
    with open_dvc_repo(repo) as dvc_repo:
        dvc_repo.add(list(paths))


def _repro(repo: Path, *dvc_yamls: str) -> None:
    """``dvc repro`` of these pipeline files (not of every stage: an import's ``.dvc``
    file would be reproduced too, which means reaching its source repository)."""
    with open_dvc_repo(repo) as dvc_repo:
        for dvc_yaml in dvc_yamls or ("dvc.yaml",):
            dvc_repo.reproduce(dvc_yaml)


def _push(repo: Path) -> None:
    with open_dvc_repo(repo) as dvc_repo:
        dvc_repo.push()


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _feature(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")


# -- DVC's get-started project -----------------------------------------------------------

# One script for the four stages, as the get-started project's src/*.py: every output is a
# pure function of the params and the inputs, so two builds give the same hashes.
GET_STARTED_PIPELINE = '''\
import json, os, sys, yaml
params = yaml.safe_load(open("params.yaml"))
stage = sys.argv[1]
if stage == "prepare":
    p = params["prepare"]
    text = open("data/data.xml").read()
    os.makedirs("data/prepared", exist_ok=True)
    cut = int(len(text) * (1 - p["split"]))
    open("data/prepared/train.tsv", "w").write(f"{p['seed']}\\n" + text[:cut])
    open("data/prepared/test.tsv", "w").write(f"{p['seed']}\\n" + text[cut:])
elif stage == "featurize":
    p = params["featurize"]
    os.makedirs("data/features", exist_ok=True)
    for part in ("train", "test"):
        rows = open(f"data/prepared/{part}.tsv").read()
        open(f"data/features/{part}.pkl", "w").write(f"{p}{len(rows)}")
elif stage == "train":
    p = params["train"]
    open("model.pkl", "w").write(f"model {p} {len(open('data/features/train.pkl').read())}")
elif stage == "evaluate":
    n_est = params["train"]["n_est"]
    auc = round(0.5 + n_est / 250, 4)
    os.makedirs("eval/plots/sklearn/roc", exist_ok=True)
    json.dump({"avg_prec": {"train": round(auc - 0.01, 4), "test": round(auc - 0.05, 4)},
               "roc_auc": {"train": auc, "test": round(auc - 0.04, 4)}},
              open("eval/metrics.json", "w"))
    json.dump({"roc": [{"fpr": 0.0, "tpr": 0.0, "threshold": 1.0},
                       {"fpr": 0.5, "tpr": auc, "threshold": 0.5},
                       {"fpr": 1.0, "tpr": 1.0, "threshold": 0.0}]},
              open("eval/plots/sklearn/roc/test.json", "w"))
    open("eval/importance.png", "wb").write(bytes([137, 80, 78, 71, n_est % 256]))
    if n_est > 60:  # the head's evaluation adds a precision-recall curve
        os.makedirs("eval/plots/sklearn/prc", exist_ok=True)
        json.dump({"prc": [{"precision": auc, "recall": 0.5}]},
                  open("eval/plots/sklearn/prc/test.json", "w"))
'''


def _get_started_dvc_yaml() -> dict[str, Any]:
    run = f"{PYTHON} src/pipeline.py"
    return {
        "stages": {
            "prepare": {"cmd": f"{run} prepare", "deps": ["data/data.xml", "src/pipeline.py"],
                        "params": ["prepare.seed", "prepare.split"],
                        "outs": ["data/prepared"]},
            "featurize": {"cmd": f"{run} featurize", "deps": ["data/prepared"],
                          "params": ["featurize.max_features", "featurize.ngrams"],
                          "outs": ["data/features"]},
            "train": {"cmd": f"{run} train", "deps": ["data/features"],
                      "params": ["train.seed", "train.n_est", "train.min_split"],
                      "outs": ["model.pkl"]},
            "evaluate": {"cmd": f"{run} evaluate", "deps": ["model.pkl", "data/features"],
                         "outs": ["eval"]},
        },
        "metrics": ["eval/metrics.json"],
        "plots": [{"ROC": {"template": "simple", "x": "fpr",
                           "y": {"eval/plots/sklearn/roc/test.json": "tpr"}}},
                  "eval/importance.png"],
        "params": ["params.yaml"],
    }


def _get_started_params(split: float, n_est: int, title: str) -> dict[str, Any]:
    return {"prepare": {"split": split, "seed": 20170428},
            "featurize": {"max_features": 100, "ngrams": 1},
            "train": {"seed": 20170428, "n_est": n_est, "min_split": 0.01},
            # No stage names this key: DVC still shows it (params: [params.yaml]).
            "report": {"title": title}}


def _imported(repo: Path, path: str, content: str, rev_lock: str) -> None:
    """What ``dvc import REGISTRY get-started/data.xml`` leaves: the data (added to the
    cache by ``dvc add``) and a ``.dvc`` file with the source's ``repo:`` block and locked
    revision, frozen as DVC freezes imports. The get-started project imports from GitHub;
    here the url is a local path that does not exist, so that nothing that tries to open
    the source (DVC or mlci) can reach the network: it fails at once instead."""
    dvc_file = repo / f"{path}.dvc"
    dvc_file.unlink(missing_ok=True)  # dvc add refuses to overwrite an import's .dvc file
    write_files(repo, {path: content})
    _add(repo, path)
    recorded = yaml.safe_load(dvc_file.read_text())
    outs = recorded["outs"]
    outs[0]["path"] = Path(path).name
    dvc_file.write_text(_yaml({
        "frozen": True,
        "deps": [{"path": "get-started/data.xml",
                  "repo": {"url": str(repo.parent / "dataset-registry"),
                           "rev_lock": rev_lock}}],
        "outs": outs,
    }))


def build_get_started(root: Path) -> Layout:
    repo, remote = _start(root)
    write_files(repo, {
        "src/pipeline.py": GET_STARTED_PIPELINE,
        "dvc.yaml": _yaml(_get_started_dvc_yaml()),
        "params.yaml": _yaml(_get_started_params(0.2, 50, "base")),
        "data/data.xml": "".join(f"<row Id='{i}' Body='post {i}'/>\n" for i in range(40)),
    })
    _add(repo, "data/data.xml")
    _imported(repo, "data/registry.xml", "<registry v='1'/>\n", "a" * 40)
    _repro(repo)
    _push(repo)
    base = commit_files(repo, message="get-started: base")
    _feature(repo)
    write_files(repo, {
        "params.yaml": _yaml(_get_started_params(0.3, 100, "head")),
        "data/data.xml": "".join(f"<row Id='{i}' Body='post {i}'/>\n" for i in range(50)),
    })
    _add(repo, "data/data.xml")
    _imported(repo, "data/registry.xml", "<registry v='2'/>\n", "b" * 40)
    _repro(repo)
    _push(repo)
    head = commit_files(repo, message="get-started: head")
    return Layout("get_started", repo, remote, base, head,
                   "DVC get-started: outs: [eval] holding metrics and plots, top-level "
                   "metrics/plots/params: [params.yaml], an import's repo: block")


# -- DVCLive's output folder -------------------------------------------------------------

def _dvclive_files(step_losses: list[float], lr: float, metrics: Mapping[str, Any]
                   ) -> dict[str, str]:
    rows = "".join(f"{step}\t{loss}\n" for step, loss in enumerate(step_losses))
    return {
        "dvclive/metrics.json": _json(metrics),
        "dvclive/params.yaml": _yaml({"lr": lr, "epochs": len(step_losses)}),
        "dvclive/plots/metrics/train/loss.tsv": "step\tloss\n" + rows,
    }


def _json(data: Any) -> str:
    import json

    return json.dumps(data, indent=4) + "\n"


DVCLIVE_SECTIONS: dict[str, Any] = {
    "metrics": ["dvclive/metrics.json"],
    "params": ["dvclive/params.yaml"],
    "plots": [{"dvclive/plots/metrics": {"x": "step"}}],
}


def build_dvclive_git(root: Path) -> Layout:
    """DVCLive without a pipeline: the folder it writes, and its dvc.yaml, kept in git."""
    repo, remote = _start(root)
    write_files(repo, {"dvc.yaml": _yaml(DVCLIVE_SECTIONS),
                       **_dvclive_files([0.9, 0.7], 0.01,
                                        {"train": {"loss": 0.7, "acc": 0.61}, "step": 1})})
    base = commit_files(repo, message="dvclive in git: base")
    _feature(repo)
    write_files(repo, _dvclive_files([0.9, 0.6, 0.4], 0.02,
                                     {"train": {"loss": 0.4, "f1": 0.66}, "step": 2}))
    head = commit_files(repo, message="dvclive in git: head")
    return Layout("dvclive_git", repo, remote, base, head,
                   "DVCLive's folder and dvc.yaml sections kept in git, no stage")


DVCLIVE_TRAIN = '''\
import json, os, sys, yaml
p = yaml.safe_load(open("params.yaml"))
losses = [round(1 / (1 + p["lr"] * 100 * step), 4) for step in range(p["epochs"])]
os.makedirs("dvclive/plots/metrics/train", exist_ok=True)
open("dvclive/plots/metrics/train/loss.tsv", "w").write(
    "step\\tloss\\n" + "".join(f"{s}\\t{v}\\n" for s, v in enumerate(losses)))
json.dump({"train": {"loss": losses[-1]}, "step": p["epochs"] - 1},
          open("dvclive/metrics.json", "w"), indent=4)
open("dvclive/params.yaml", "w").write(yaml.safe_dump(p))
open("model.pt", "w").write(f"weights {p}")
'''


def build_dvclive_uncached(root: Path) -> Layout:
    """DVCLive under a pipeline stage whose ``dvclive`` folder is a ``cache: false`` output."""
    repo, remote = _start(root)
    dvc_yaml = {"stages": {"train": {"cmd": f"{PYTHON} train.py",
                                     "deps": ["train.py"], "params": ["lr", "epochs"],
                                     "outs": [{"dvclive": {"cache": False}}, "model.pt"]}},
                **DVCLIVE_SECTIONS}
    write_files(repo, {"train.py": DVCLIVE_TRAIN, "dvc.yaml": _yaml(dvc_yaml),
                       "params.yaml": _yaml({"lr": 0.01, "epochs": 2})})
    _repro(repo)
    _push(repo)
    base = commit_files(repo, message="dvclive uncached: base")
    _feature(repo)
    write_files(repo, {"params.yaml": _yaml({"lr": 0.03, "epochs": 3})})
    _repro(repo)
    _push(repo)
    head = commit_files(repo, message="dvclive uncached: head")
    return Layout("dvclive_uncached", repo, remote, base, head,
                   "DVCLive's folder as a cache: false stage output, model.pt cached")


# -- foreach and matrix stages -----------------------------------------------------------

GEN = '''\
import json, os, sys
name, size = sys.argv[1], sys.argv[2]
os.makedirs(name, exist_ok=True)
open(f"{name}/model.bin", "w").write(f"{name}:{size}")
json.dump({"score": int(size) / 100, "name": name}, open(f"{name}/metrics.json", "w"))
'''

SWEEP = '''\
import json, os, sys
lr, opt = sys.argv[1], sys.argv[2]
os.makedirs("sweep", exist_ok=True)
open(f"sweep/{opt}-{lr}.bin", "w").write(f"{opt}{lr}")
json.dump({"loss": round(1 - float(lr), 3)}, open(f"sweep/{opt}-{lr}.json", "w"))
'''


def _foreach_dvc_yaml(models: dict[str, Any], rates: list[float]) -> dict[str, Any]:
    return {
        "vars": [{"opts": ["sgd", "adam"]}],
        "stages": {
            "train": {
                "foreach": models,
                "do": {"wdir": "runs",
                       "cmd": f"{PYTHON} ../gen.py ${{key}} ${{item.size}}",
                       "deps": ["../gen.py"],
                       # With wdir, params files resolve inside it: runs/params.yaml.
                       "params": ["${key}.lr"],
                       "outs": ["${key}/model.bin"],
                       "metrics": ["${key}/metrics.json"]},
            },
            "sweep": {
                "matrix": {"lr": rates, "opt": "${opts}"},
                "cmd": f"{PYTHON} sweep.py ${{item.lr}} ${{item.opt}}",
                "deps": ["sweep.py"],
                "outs": ["sweep/${item.opt}-${item.lr}.bin"],
                "metrics": [{"sweep/${item.opt}-${item.lr}.json": {"cache": False}}],
            },
        },
    }


def build_foreach_matrix(root: Path) -> Layout:
    repo, remote = _start(root)
    write_files(repo, {
        "gen.py": GEN, "sweep.py": SWEEP,
        "dvc.yaml": _yaml(_foreach_dvc_yaml({"small": {"size": 10}, "large": {"size": 20}},
                                            [0.1, 0.2])),
        "runs/params.yaml": _yaml({"small": {"lr": 0.1}, "large": {"lr": 0.2},
                                   "medium": {"lr": 0.3}}),
    })
    _repro(repo)
    _push(repo)
    base = commit_files(repo, message="foreach/matrix: base")
    _feature(repo)
    # large changes size, small is dropped (its dvc.lock entries stay), medium is new;
    # the matrix gains a learning rate.
    write_files(repo, {
        "dvc.yaml": _yaml(_foreach_dvc_yaml({"large": {"size": 30}, "medium": {"size": 5}},
                                            [0.1, 0.2, 0.5])),
        "runs/params.yaml": _yaml({"small": {"lr": 0.1}, "large": {"lr": 0.25},
                                   "medium": {"lr": 0.3}}),
    })
    _repro(repo)
    _push(repo)
    head = commit_files(repo, message="foreach/matrix: head")
    return Layout("foreach_matrix", repo, remote, base, head,
                   "foreach with do: wdir and ${key}/${item} paths, matrix over vars, a "
                   "foreach item removed while dvc.lock keeps it")


# -- a monorepo: one dvc.yaml per project ------------------------------------------------

PROJECT_TRAIN = '''\
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))
os.makedirs("eval", exist_ok=True)
open("model.bin", "w").write(f"model {p}")
json.dump({"acc": round(0.5 + p["lr"], 3)}, open("eval/metrics.json", "w"))
open("eval/confusion.csv", "w").write(f"actual,predicted\\n{p['lr']},{p['lr']}\\n")
'''


def _project(lr: float, extra_out: bool) -> dict[str, Any]:
    outs: list[Any] = ["model.bin", "eval"]
    cmd = f"{PYTHON} train.py"
    if extra_out:  # the head adds an output to one project
        outs.append("report.txt")
        cmd += " && echo report > report.txt"
    return {"stages": {"train": {"cmd": cmd, "deps": ["train.py"], "params": ["lr"],
                                 "outs": outs}},
            "metrics": ["eval/metrics.json"]}


PROJECTS = ("projects/a/dvc.yaml", "projects/b/dvc.yaml")


def build_monorepo(root: Path) -> Layout:
    repo, remote = _start(root)
    for name in ("a", "b"):
        write_files(repo, {f"projects/{name}/train.py": PROJECT_TRAIN,
                           f"projects/{name}/dvc.yaml": _yaml(_project(0.1, False)),
                           f"projects/{name}/params.yaml": _yaml({"lr": 0.1, "batch": 32})})
    _repro(repo, *PROJECTS)
    _push(repo)
    base = commit_files(repo, message="monorepo: base")
    _feature(repo)
    write_files(repo, {"projects/a/params.yaml": _yaml({"lr": 0.2, "batch": 64}),
                       "projects/b/dvc.yaml": _yaml(_project(0.1, True))})
    _repro(repo, *PROJECTS)
    _push(repo)
    head = commit_files(repo, message="monorepo: head")
    return Layout("monorepo", repo, remote, base, head,
                   "projects/a and projects/b each with dvc.yaml and params.yaml, no root "
                   "dvc.yaml, metrics inside a directory output")


# -- .dvc files in subfolders, with wdir -------------------------------------------------

def _move_dvc_file(repo: Path, source: str, target: str, wdir: str) -> None:
    """Move a ``.dvc`` file made by ``dvc add`` to another folder and point it back at its
    data with ``wdir`` (paths stay relative to the wdir), as hand-organised projects do."""
    recorded = yaml.safe_load((repo / source).read_text())
    (repo / source).unlink()
    (repo / target).parent.mkdir(parents=True, exist_ok=True)
    (repo / target).write_text(_yaml({"wdir": wdir, **recorded}))


def _subdir_files(version: int) -> dict[str, str | None]:
    files: dict[str, str | None] = {
        "data/raw/a.csv": "x,y\n1,2\n",
        "data/raw/b.csv": f"x,y\n{version},{version}\n",
        "get-started/data.xml": f"<data v='{version}'/>\n",
        "model/clf-model": f"weights {version}\n",
    }
    if version == 1:
        files["data/raw/old.csv"] = "old\n"
    else:
        files["data/raw/old.csv"] = None
        files["data/raw/new/c.csv"] = "c\n"
    return files


def _add_subdir_outputs(repo: Path) -> None:
    _add(repo, "data/raw", "get-started/data.xml", "model/clf-model")
    if (repo / "model/clf-model.dvc").exists():  # later, dvc add updates models/clf.dvc
        _move_dvc_file(repo, "model/clf-model.dvc", "models/clf.dvc", "../model")


def build_subdir_dvcfiles(root: Path) -> Layout:
    repo, remote = _start(root)
    write_files(repo, _subdir_files(1))
    _add_subdir_outputs(repo)
    _push(repo)
    base = commit_files(repo, message="subfolder .dvc files: base")
    _feature(repo)
    write_files(repo, _subdir_files(2))
    _add_subdir_outputs(repo)
    _push(repo)
    head = commit_files(repo, message="subfolder .dvc files: head")
    return Layout("subdir_dvcfiles", repo, remote, base, head,
                   "data/raw.dvc (outs: [{path: raw}]) and get-started/data.xml.dvc in "
                   "subfolders, models/clf.dvc with wdir: ../model")


# -- cache: false, persist, push: false --------------------------------------------------

PLOTS = '''\
import json, os, sys
v = int(sys.argv[1])
os.makedirs("plots", exist_ok=True)
json.dump([{"epoch": e, "acc": round(0.1 * e * v, 3)} for e in range(3)],
          open("plots/acc.json", "w"))
if v > 1:
    open("plots/extra.csv", "w").write("a\\n1\\n")
open("metrics.json", "w").write(json.dumps({"acc": round(0.3 * v, 3)}))
open("checkpoint.bin", "a").write(f"step {v}\\n")
open("scratch.bin", "w").write(f"scratch {v}\\n")
'''


def _cache_false_dvc_yaml(version: int) -> dict[str, Any]:
    return {"stages": {"train": {
        "cmd": f"{PYTHON} plots.py {version}", "deps": ["plots.py"],
        "outs": [{"plots": {"cache": False}},
                 {"checkpoint.bin": {"persist": True}},
                 {"scratch.bin": {"push": False}}],
        "metrics": [{"metrics.json": {"cache": False}}]}},
        "plots": [{"plots/acc.json": {"x": "epoch", "y": "acc"}}]}


def build_cache_false(root: Path) -> Layout:
    repo, remote = _start(root)
    write_files(repo, {"plots.py": PLOTS, "dvc.yaml": _yaml(_cache_false_dvc_yaml(1))})
    _repro(repo)
    _push(repo)
    base = commit_files(repo, message="cache false: base")
    _feature(repo)
    write_files(repo, {"dvc.yaml": _yaml(_cache_false_dvc_yaml(2))})
    _repro(repo)
    _push(repo)
    head = commit_files(repo, message="cache false: head")
    return Layout("cache_false", repo, remote, base, head,
                   "a cache: false plots folder and metrics file kept in git, a persist: "
                   "true output, a push: false output absent from the remote")


# -- a DVC 2 lock file -------------------------------------------------------------------

def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - DVC's content address, not security


def _legacy_object(repo: Path, remote: Path, data: bytes, suffix: str = "") -> str:
    """Store ``data`` where DVC 2 kept objects (``XX/YYY...``, no ``files/md5``; a
    manifest's name ends in ``.dir``), in the cache and on the remote: DVC 3 reads an
    output recorded without ``hash: md5`` from there."""
    name = _md5(data) + suffix
    for place in (repo / ".dvc" / "cache", remote):
        target = place / name[:2] / name[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return name


def _dvc2_commit(repo: Path, remote: Path, version: int) -> dict[str, Any]:
    """Files and a DVC 2 dvc.lock for ``version``: outputs recorded with ``md5:`` directly."""
    import json

    model = f"model v{version}\n".encode()
    metrics = json.dumps({"acc": 0.7 + version / 10, "loss": 0.4 - version / 10}).encode()
    members = {"features/train.csv": f"f,{version}\n".encode(), "features/shared.csv": b"s\n"}
    entries = [{"md5": _legacy_object(repo, remote, data), "relpath": Path(name).name}
               for name, data in sorted(members.items())]
    manifest = json.dumps(sorted(entries, key=lambda e: e["relpath"])).encode()
    dir_md5 = _legacy_object(repo, remote, manifest, ".dir")
    lock = {"schema": "2.0", "stages": {"train": {
        "cmd": "python train.py",
        "params": {"params.yaml": {"lr": 0.1 * version}},
        "outs": [
            {"path": "model.bin", "md5": _legacy_object(repo, remote, model),
             "size": len(model)},
            {"path": "metrics.json", "md5": _legacy_object(repo, remote, metrics),
             "size": len(metrics)},
            {"path": "features", "md5": dir_md5,
             "size": sum(len(d) for d in members.values()), "nfiles": len(members)},
        ]}}}
    return {"dvc.lock": _yaml(lock), "params.yaml": _yaml({"lr": 0.1 * version}),
            "dvc.yaml": _yaml({"stages": {"train": {
                "cmd": "python train.py", "params": ["lr"],
                "outs": ["model.bin", "features"], "metrics": ["metrics.json"]}}}),
            ".gitignore": "/model.bin\n/metrics.json\n/features\n"}


def build_dvc2_lock(root: Path) -> Layout:
    repo, remote = _start(root)
    base = commit_files(repo, _dvc2_commit(repo, remote, 1), message="dvc 2 lock: base")
    _feature(repo)
    head = commit_files(repo, _dvc2_commit(repo, remote, 2), message="dvc 2 lock: head")
    return Layout("dvc2_lock", repo, remote, base, head,
                   "a dvc.lock written by DVC 2 (md5: without hash: md5, objects at the "
                   "cache root), a file, a metrics file and a directory output")


# -- dvc.lock entries dvc.yaml no longer declares, and params: [other.yaml] ---------------

def _stale_dvc_yaml(with_extract: bool) -> dict[str, Any]:
    stages: dict[str, Any] = {"train": {
        "cmd": f"{PYTHON} -c \"import yaml; p = yaml.safe_load(open('params.yaml')); "
               "open('model.bin', 'w').write(str(p))\"",
        "params": ["lr"], "outs": ["model.bin"]}}
    if with_extract:
        stages["extract"] = {"cmd": "echo extracted > extracted.txt",
                             "outs": ["extracted.txt"]}
    return {"stages": stages, "params": ["other.yaml"]}


def _with_ghost_stage(repo: Path) -> None:
    """A lock entry no stage declares, as left by a stage deleted from dvc.yaml by hand."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    lock["stages"]["ghost"] = {"cmd": "echo ghost", "outs": [
        {"path": "ghost.bin", "hash": "md5", "md5": "0" * 32, "size": 6}]}
    (repo / "dvc.lock").write_text(_yaml(lock))


def build_stale_lock(root: Path) -> Layout:
    repo, remote = _start(root)
    write_files(repo, {"dvc.yaml": _yaml(_stale_dvc_yaml(True)),
                       "params.yaml": _yaml({"lr": 0.1}),
                       "other.yaml": _yaml({"threshold": 0.5, "labels": {"pos": "yes"}})})
    _repro(repo)
    _with_ghost_stage(repo)
    _push(repo)
    base = commit_files(repo, message="stale lock: base")
    _feature(repo)
    # extract leaves dvc.yaml; its dvc.lock entry stays (DVC ignores it).
    write_files(repo, {"dvc.yaml": _yaml(_stale_dvc_yaml(False)),
                       "params.yaml": _yaml({"lr": 0.2}),
                       "other.yaml": _yaml({"threshold": 0.6, "labels": {"pos": "yes"}})})
    _repro(repo)
    _push(repo)
    head = commit_files(repo, message="stale lock: head")
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert {"extract", "ghost"} <= set(lock["stages"]), "DVC kept the stale entries"
    return Layout("stale_lock", repo, remote, base, head,
                   "dvc.lock entries no stage declares (a hand-left ghost, a stage removed "
                   "from dvc.yaml) and a top-level params: [other.yaml]")


BUILDERS: dict[str, Callable[[Path], Layout]] = {
    "get_started": build_get_started,
    "dvclive_git": build_dvclive_git,
    "dvclive_uncached": build_dvclive_uncached,
    "foreach_matrix": build_foreach_matrix,
    "monorepo": build_monorepo,
    "subdir_dvcfiles": build_subdir_dvcfiles,
    "cache_false": build_cache_false,
    "dvc2_lock": build_dvc2_lock,
    "stale_lock": build_stale_lock,
}


def build_layout(name: str, root: Path) -> Layout:
    """Build the layout ``name`` under ``root/name`` (repository and remote)."""
    where = root / name
    where.mkdir(parents=True)
    return BUILDERS[name](where)


def copy_without_cache(layout: Layout, target: Path, remote_gone: bool = False) -> Layout:
    """A copy of the layout's repository under ``target`` with an empty DVC cache, reading
    from the layout's remote; with ``remote_gone``, from a remote directory that does not
    exist (``.dvc/config.local``, which git ignores, overrides the committed url, as a
    developer's machine would: DVC and mlci both read it)."""
    repo = target / "repo"
    shutil.copytree(layout.repo, repo, symlinks=True)
    shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)
    remote = layout.remote
    if remote_gone:
        remote = target / "remote-gone"
        (repo / ".dvc" / "config.local").write_text(
            f"['remote \"local\"']\n    url = {remote}\n")
    return Layout(layout.name, repo, remote, layout.base, layout.head, layout.description)


__all__ = ["Layout", "BUILDERS", "build_layout", "copy_without_cache", "open_dvc_repo"]
