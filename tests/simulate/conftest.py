from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # ibis 12 on duckdb 1.5 / pandas 3 warns inside the library (list_tables calls the
    # deprecated fetch_arrow_table(); to-pandas reads 'future.infer_string'). Only the
    # tests that touch a workspace store need this; the rest run with warnings as errors.
    for item in items:
        if item.fspath.basename == "test_cli.py":
            item.add_marker(
                pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
            )
            item.add_marker(pytest.mark.filterwarnings("ignore:The 'future.infer_string'"))
