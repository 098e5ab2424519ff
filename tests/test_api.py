"""The top-level API: what the README uses is exported, and the version comes from the package's
metadata (pyproject.toml), not from a constant in the source."""

from __future__ import annotations

from importlib import metadata

import synthlink


def test_every_exported_name_resolves() -> None:
    for name in synthlink.__all__:
        assert getattr(synthlink, name) is not None, name


def test_study_is_top_level() -> None:
    from synthlink import Study, StudyResult
    from synthlink.study import Study as S
    from synthlink.study import StudyResult as R

    assert Study is S and StudyResult is R


def test_version_is_the_installed_metadata() -> None:
    assert synthlink.__version__ == metadata.version("synthlink")
    # nothing in the source sets it: the metadata is the one place (pyproject.toml)
    from pathlib import Path

    init = (Path(synthlink.__file__).parent / "__init__.py").read_text()
    assert "__version__ = \"" not in init and "__version__ = '" not in init
