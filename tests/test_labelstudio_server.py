"""The Label Studio round trip against a real Label Studio server (slow).

`diplostance ingest --format labelstudio` writes tasks; a Label Studio started here (its own virtual
environment under $DIPLOSTANCE_CACHE, else ~/.cache/diplostance, local SQLite in a temporary data
directory, a free port on 127.0.0.1, legacy token authentication) gets a project from
labelstudio/config.xml, imports the tasks, receives annotations through its API and exports them as
JSON; `diplostance import-labelstudio` reads that export back.

Label Studio is installed into the tool environment on the first run (a few minutes, ~1 GB) and
reused afterwards. Where it cannot be installed (no network, no package index) the test is skipped
with the reason, unless DIPLOSTANCE_REQUIRE_LABEL_STUDIO=1, which makes that a failure (for CI).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from data.labels import LABELS
from tests.conftest import REPO, run_cli

LABEL_STUDIO_VERSION = "1.23.2"
USER, PASSWORD = "diplostance@example.com", "diplostance-test-password"
TOKEN = "diplostance-test-token-0123456789"  # legacy API token (`Authorization: Token ...`)
STARTUP_TIMEOUT_S = 300  # migrations on a fresh SQLite database take a minute on a busy 2-core machine


def _cache_dir() -> Path:
    return Path(os.environ.get("DIPLOSTANCE_CACHE") or Path.home() / ".cache" / "diplostance")


def _unavailable(reason: str):
    if os.environ.get("DIPLOSTANCE_REQUIRE_LABEL_STUDIO") == "1":
        pytest.fail(f"{reason} (DIPLOSTANCE_REQUIRE_LABEL_STUDIO=1)")
    pytest.skip(reason)


def _tail(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _installed(venv: Path) -> bool:
    python = venv / "bin" / "python"
    if not (python.is_file() and (venv / "bin" / "label-studio").is_file()):
        return False
    r = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
                       capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == LABEL_STUDIO_VERSION


def label_studio_venv() -> Path:
    """The tool environment holding Label Studio: reused when it is there, built when it is not."""
    import fcntl

    cache = _cache_dir()
    venv = cache / "label-studio-venv"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        lock = open(cache / "label-studio-venv.lock", "w")
    except OSError as exc:
        _unavailable(f"cannot create the Label Studio tool environment under {cache}: {exc}")
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs never build it at once
        if _installed(venv):
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # a partial install from an interrupted run
        steps = {"python -m venv": [sys.executable, "-m", "venv", str(venv)],
                 "pip install": [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                 "--disable-pip-version-check", f"label-studio=={LABEL_STUDIO_VERSION}"]}
        for step, cmd in steps.items():
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            except subprocess.TimeoutExpired:
                shutil.rmtree(venv, ignore_errors=True)
                _unavailable(f"installing label-studio=={LABEL_STUDIO_VERSION} into {venv} took over 30 minutes")
            if r.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                _unavailable(f"cannot install label-studio=={LABEL_STUDIO_VERSION} into {venv} "
                             f"({step} exited {r.returncode}):\n{_tail(r.stderr or r.stdout)}")
        if not _installed(venv):
            _unavailable(f"label-studio=={LABEL_STUDIO_VERSION} was installed into {venv} but does not import")
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(data_dir: Path) -> dict:
    # nothing from the caller's environment configures this server (Label Studio reads HOST, PORT,
    # USERNAME, DATABASE_NAME, ... with and without a LABEL_STUDIO_ or HEARTEX_ prefix)
    drop = {"HOST", "PORT", "USERNAME", "PASSWORD", "DATABASE_NAME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("LABEL_STUDIO_", "HEARTEX_", "DJANGO_", "POSTGRE", "MYSQL_"))}
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "DJANGO_DB": "sqlite",
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # `--user-token` is a legacy token: keep it valid
        "LATEST_VERSION_CHECK": "false",  # no request to pypi.org at start
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
    })
    return env


class LabelStudio:
    def __init__(self, url: str, log: Path):
        self.url, self.log = url, log

    def call(self, method: str, path: str, body=None, expect=(200, 201)):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        assert status in expect, f"{method} {path}: HTTP {status}: {payload[:2000]!r}\n{_tail(self.log.read_text(), 30)}"
        return payload


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A Label Studio server on 127.0.0.1 with a fresh SQLite database; always stopped afterwards."""
    venv = label_studio_venv()
    tmp = tmp_path_factory.mktemp("label-studio")
    port, log = _free_port(), tmp / "server.log"
    cmd = [str(venv / "bin" / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1",
           "--port", str(port), "--data-dir", str(tmp / "data"), "--username", USER, "--password", PASSWORD,
           "--user-token", TOKEN, "--enable-legacy-api-token"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=_server_env(tmp / "data"), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = LabelStudio(f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Label Studio exited with {proc.returncode} while starting:\n{_tail(log.read_text(), 40)}")
            try:
                with urllib.request.urlopen(server.url + "/health", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Label Studio did not answer {server.url}/health within {STARTUP_TIMEOUT_S} s:\n"
                            f"{_tail(log.read_text(), 40)}")
            time.sleep(1)
        version = json.loads(server.call("GET", "/api/version"))
        assert version["release"] == LABEL_STUDIO_VERSION, version
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and anything it started
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _choices(labels):
    return [{"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": list(labels)}}]


# what the person "annotates" on the first ingested sentences, in order: label sets (deterministic,
# one written out of LABELS order, one empty = none), then a skipped task and a task annotated twice
LABEL_SETS = [["commitment"], ["support_declaration"], ["project_pledge"], ["project_pledge", "commitment"],
              list(LABELS), [], ["commitment", "support_declaration"], [], ["support_declaration", "project_pledge"],
              ["commitment"]]


@pytest.mark.slow
def test_labelstudio_round_trip_through_a_real_server(label_studio, tmp_path):
    # 1. the seed articles -> Label Studio tasks with the shipped model's suggestions
    seeds = sorted((REPO / "data" / "raw").glob("*.txt"))
    assert seeds
    tasks_file = tmp_path / "tasks.json"
    r = run_cli("ingest", *seeds, "--model", REPO / "models" / "default", "--output", tasks_file,
                "--format", "labelstudio", "--select", "all", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    tasks = json.loads(tasks_file.read_text())
    ingested_ids = [t["data"]["id"] for t in tasks]
    assert len(tasks) > len(LABEL_SETS) + 2 and len(set(ingested_ids)) == len(tasks)

    # 2. a project from the shipped labelling config; the tasks (with their predictions) imported
    config = (REPO / "labelstudio" / "config.xml").read_text()
    project = json.loads(label_studio.call("POST", "/api/projects",
                                           {"title": "diplostance round trip", "label_config": config}))
    imported = json.loads(label_studio.call("POST", f"/api/projects/{project['id']}/import", tasks))
    assert imported["task_count"] == len(tasks) and imported["prediction_count"] == len(tasks), imported
    listed = json.loads(label_studio.call("GET", f"/api/tasks?project={project['id']}&page_size={len(tasks) + 10}"))
    listed = listed["tasks"] if isinstance(listed, dict) else listed
    server_id = {t["data"]["id"]: t["id"] for t in listed}
    assert sorted(server_id) == sorted(ingested_ids)

    # 3. annotations through the API
    def annotate(sentence_id, labels, cancelled=False):
        label_studio.call("POST", f"/api/tasks/{server_id[sentence_id]}/annotations",
                          {"result": _choices(labels), "was_cancelled": cancelled, "ground_truth": False})

    expected = {}
    for sentence_id, labels in zip(ingested_ids, LABEL_SETS):
        annotate(sentence_id, labels)
        expected[sentence_id] = [name for name in LABELS if name in labels]
    skipped, twice = ingested_ids[len(LABEL_SETS)], ingested_ids[len(LABEL_SETS) + 1]
    annotate(skipped, [], cancelled=True)  # "skip" in the labelling UI: no label set for it
    annotate(twice, ["support_declaration"])
    time.sleep(0.05)
    annotate(twice, ["commitment", "project_pledge"])  # the later annotation is the one taken
    expected[twice] = ["commitment", "project_pledge"]

    # 4. the JSON export, every task included (unannotated ones are counted, not read)
    export = tmp_path / "export.json"
    export.write_bytes(label_studio.call(
        "GET", f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true"))
    exported = json.loads(export.read_text())
    assert len(exported) == len(tasks)

    # 5. read back by the CLI
    out = tmp_path / "labelled.jsonl"
    r = run_cli("import-labelstudio", export, "--output", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    n_unannotated = len(tasks) - len(expected)  # the skipped task included
    assert (f"{len(expected)} labelled tasks -> {out} ({n_unannotated} without annotation skipped, "
            f"1 cancelled annotations ignored)") in r.stdout, r.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(expected)
    assert {row["id"]: row["labels"] for row in rows} == expected
    text = {t["data"]["id"]: t["data"]["text"] for t in tasks}
    doc = {t["data"]["id"]: t["data"]["doc_id"] for t in tasks}
    user = json.loads(label_studio.call("GET", "/api/current-user/whoami"))
    for row in rows:
        assert row["text"] == text[row["id"]] and row["doc_id"] == doc[row["id"]]
        assert row["source"] == "labelstudio" and row["annotator"] == user["id"]
