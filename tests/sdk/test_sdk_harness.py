"""What a missing SDK means (``sdk_harness.require``): a failure under ``CI=true``, where ``make test``
has installed both SDKs, and a skip with the reason and the fix anywhere else."""

from __future__ import annotations

import pytest
from sdk_harness import require


def test_a_missing_sdk_fails_in_ci() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        require("node", "no `node` executable on PATH", {"CI": "true"})
    assert str(failed.value) == "node is required in CI: no `node` executable on PATH"


@pytest.mark.parametrize("ci", ["", "false"])
def test_a_missing_sdk_is_skipped_with_the_fix_outside_ci(ci: str) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        require("the `ringcentral` package", "not installed in .venv-sdk", {"CI": ci})
    assert str(skipped.value) == (
        "the `ringcentral` package not available (not installed in .venv-sdk); "
        "run `make sdk-deps` to install it"
    )
