from __future__ import annotations

import pytest

from tests.analytics.paths.helpers import shop_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """One workspace per module; tests replace its rows (see helpers.replace_rows)."""
    workspace = shop_workspace(tmp_path_factory.mktemp("paths") / "ws")
    yield workspace
    workspace.close()
