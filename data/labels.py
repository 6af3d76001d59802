"""The one place that lists the stance labels (../shared/CODEBOOK.md v1.2).

Every other module imports LABELS from here; column k of any probability or label
matrix in the project is LABELS[k].
"""

LABELS: tuple[str, ...] = ("commitment", "support_declaration", "project_pledge")
LABEL_TO_INDEX: dict[str, int] = {name: i for i, name in enumerate(LABELS)}


def from_multi_hot(row) -> list[str]:
    """[1, 0, 1] -> ["commitment", "project_pledge"]."""
    return [name for name, on in zip(LABELS, row) if on]
