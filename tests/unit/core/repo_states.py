"""Generated repository states for property tests: images sharing layers, indexes over them,
signatures (referrers), tags on any of them — several tags may share one digest."""

from __future__ import annotations

from delete_fakes import FakeRegistry
from hypothesis import strategies as st


@st.composite
def states(draw: st.DrawFn) -> FakeRegistry:
    r = FakeRegistry()
    layers = [f"layer{i}" for i in range(draw(st.integers(1, 5)))]
    digests: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        chosen = draw(st.lists(st.sampled_from(layers), min_size=1, max_size=3, unique=True))
        digests.append(r.image(*chosen, f"img{i}"))
    images = list(digests)
    for i in range(draw(st.integers(0, 3))):
        kids = draw(st.lists(st.sampled_from(images), min_size=1, max_size=3, unique=True))
        digests.append(r.index(*kids, salt=str(i)))
    for i in range(draw(st.integers(0, 3))):
        subject = draw(st.sampled_from(digests))
        digests.append(r.image(f"sig{i}", subject=subject, artifact_type="sig"))
    for i in range(draw(st.integers(1, 10))):
        r.tag(f"t{i}", draw(st.sampled_from(digests)))
    return r
