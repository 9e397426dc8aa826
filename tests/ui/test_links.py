"""regview:// links: round trip, encoding, tolerance for unknown parameters, clear refusals."""

from __future__ import annotations

import pytest

from regview.ui.links import LinkError, ViewLink, parse_link


def test_round_trip_with_every_field() -> None:
    link = ViewLink(
        registry="127.0.0.1:5000",
        repository="group/project/app",
        tag="v1.2",
        filter="rc & beta #1",
        regex=True,
        older_than_days=30,
        newer_than_days=1.5,
        platform="linux/arm64/v8",
        sort="created",
        descending=True,
        view="tags",
    )
    url = link.to_url()
    assert url.startswith("regview://open?registry=127.0.0.1:5000&repository=group/project/app")
    assert "sort=created-desc" in url and "%26" in url and "%23" in url
    assert parse_link(url) == link
    assert parse_link(url).sort_column == 1


def test_minimal_link_and_unknown_parts_are_tolerated() -> None:
    link = parse_link("regview://open?registry=registry.gitlab.com&sort=nonsense&future=1&view=x")
    assert link == ViewLink(registry="registry.gitlab.com")


@pytest.mark.parametrize(
    "url",
    [
        "https://open?registry=x",
        "regview://close?registry=x",
        "regview://open?repository=a",
        "regview://open?registry=x&older=soon",
        "regview://open?registry=x&newer=-3",
    ],
)
def test_bad_links_are_refused_in_words(url: str) -> None:
    with pytest.raises(LinkError):
        parse_link(url)
