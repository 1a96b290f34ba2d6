"""Third-party warnings under ``filterwarnings = error`` that are not ours.

Ibis 12 on DuckDB 1.5 calls the deprecated ``fetch_arrow_table()`` (list_tables) and
its pandas conversion reads the deprecated ``future.infer_string`` option (pandas 3).
"""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/analytics/attribution" in str(item.fspath):
            item.add_marker(
                pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
            )
            item.add_marker(pytest.mark.filterwarnings("ignore:The 'future.infer_string'"))
