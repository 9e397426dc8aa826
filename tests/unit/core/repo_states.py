"""Generated repository states for property tests: images sharing layers, indexes over them,
signatures (referrers), tags on any of them — several tags may share one digest; and
`gc_freed`, what garbage collection frees computed from the raw manifests (the oracle)."""

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


def gc_freed(r: FakeRegistry, picked: set[str]) -> int:
    """From the raw manifests: what untagging `picked` lets garbage collection remove. Kept tags
    keep their manifests, index children and referrers (signatures stay with their subject);
    what goes is the picked tags' manifests and children that nothing kept reaches."""
    referrers: dict[str, list[str]] = {}
    for d in r.manifests:
        if subject := r.subject(d):
            referrers.setdefault(subject, []).append(d)

    def closure(roots: set[str], with_referrers: bool) -> set[str]:
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            d = stack.pop()
            if d not in seen:
                seen.add(d)
                stack.extend(r.children(d))
                stack.extend(referrers.get(d, ()) if with_referrers else ())
        return seen

    kept = closure({d for t, d in r.tags.items() if t not in picked}, with_referrers=True)
    gone = closure({d for t, d in r.tags.items() if t in picked}, with_referrers=False) - kept
    kept_blobs = {b for d in kept for b, _ in r.own_blobs(d)}
    return sum(dict(b for d in gone for b in r.own_blobs(d) if b[0] not in kept_blobs).values())
