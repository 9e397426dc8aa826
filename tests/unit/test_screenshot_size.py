"""`--screenshot-size WxH`: a size in words or a clear error, never a traceback."""

from __future__ import annotations

import pytest

from regview.ui.screenshot import DEFAULT_SIZE, window_size


def test_sizes() -> None:
    assert window_size(None) == DEFAULT_SIZE == (1400, 860)
    assert window_size("1024x700") == (1024, 700)
    assert window_size("1600X1000") == (1600, 1000)


@pytest.mark.parametrize("text", ["1024", "axb", "10x10", "1024x700x3", "99999x700"])
def test_bad_sizes_say_what_is_wrong(text: str) -> None:
    with pytest.raises(SystemExit, match="is not a size like 1024x700"):
        window_size(text)
