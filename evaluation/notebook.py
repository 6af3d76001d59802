"""Headless execution of the error-analysis notebook (nbclient)."""

from __future__ import annotations

import os
from pathlib import Path

import notebooks
from data.errors import DiplostanceError

NOTEBOOK = Path(notebooks.__file__).resolve().parent / "error_analysis.ipynb"
TRACKING_NOTEBOOK = Path(notebooks.__file__).resolve().parent / "tracking.ipynb"


def execute_notebook(eval_dir: str | Path | None, output: str | Path, compare_dir: str | Path | None = None,
                     notebook: Path = NOTEBOOK, timeout: int = 600) -> Path:
    """Run every cell with EVAL_DIR / COMPARE_DIR set through the environment; write the
    executed copy to `output` (written only when every cell succeeded)."""
    return _execute(notebook, output, {"DIPLOSTANCE_EVAL_DIR": eval_dir, "DIPLOSTANCE_COMPARE_DIR": compare_dir}, timeout)


def execute_tracking_notebook(track_dirs: list[str | Path], output: str | Path, timeout: int = 600) -> Path:
    """The tracking notebook on `diplostance track` output directories."""
    dirs = ",".join(str(Path(d).resolve()) for d in track_dirs)
    return _execute(TRACKING_NOTEBOOK, output, {"DIPLOSTANCE_TRACK_DIRS": dirs}, timeout)


def _execute(notebook: Path, output: str | Path, params: dict, timeout: int) -> Path:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    env_backup = {k: os.environ.get(k) for k in params}
    for key, value in params.items():
        if value:
            os.environ[key] = value if key == "DIPLOSTANCE_TRACK_DIRS" else str(Path(value).resolve())
        else:
            os.environ.pop(key, None)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path.cwd())}}).execute()
    except CellExecutionError as exc:
        raise DiplostanceError(f"{notebook}: a cell failed: {str(exc).strip().splitlines()[-1]}") from None
    finally:
        for key, value in env_backup.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    return output
