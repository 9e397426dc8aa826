"""Property tests: over generated repository states (shared digests, indexes, referrers,
artifacts) and selections, planning then executing on an in-memory registry removes exactly the
selected tags, leaves every other tag on its old digest, and never deletes anything a kept tag
needs (its manifest, index children, referrers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from delete_fakes import FakeRegistry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_states import states

from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    PlanOptions,
    Selection,
    make_plan,
)
from regview.core.journal.journal import Journal
from regview.paths import default_paths

CAPS = st.sampled_from(
    [
        Capabilities(DeleteSupport.ALLOWED, tag_delete=True),
        Capabilities(DeleteSupport.ALLOWED),  # throw-away path
        Capabilities(DeleteSupport.UNKNOWN),
        Capabilities(DeleteSupport.ALLOWED, can_push=False),  # digest only
    ]
)


def _closure(r: FakeRegistry, roots: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        d = stack.pop()
        if d in seen or d not in r.manifests:
            continue
        seen.add(d)
        stack.extend(r.children(d))
        stack.extend(x for x in r.manifests if r.subject(x) == d)  # referrers of kept things
    return seen


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    r=states(),
    data=st.data(),
    caps=CAPS,
    delete_manifests=st.booleans(),
    delete_referrers=st.booleans(),
)
def test_plan_then_execute_removes_exactly_the_selection(
    tmp_path: Path,
    r: FakeRegistry,
    data: st.DataObject,
    caps: Capabilities,
    delete_manifests: bool,
    delete_referrers: bool,
) -> None:
    r.tag_delete = caps.tag_delete
    selected = data.draw(st.sets(st.sampled_from(sorted(r.tags))))
    before = dict(r.tags)
    kept = {t: d for t, d in before.items() if t not in selected}
    must_survive = _closure(r, set(kept.values()))
    options = PlanOptions(delete_manifests=delete_manifests, delete_referrers=delete_referrers)
    plan = make_plan(r.facts(caps), Selection.of_tags(selected), options)

    planned_digests = {a.digest for a in plan.manifest_actions}
    assert not planned_digests & must_survive
    digest_deletes = {a.digest for a in plan.tag_actions if a.method.value == "digest"}
    assert not digest_deletes & must_survive

    journal = Journal(default_paths(tmp_path / str(len(list(tmp_path.iterdir())))))
    report = asyncio.run(Executor(r, journal).run(plan))

    refused = {x.tag for x in plan.refused}
    assert {x.name for x in report.deleted if x.kind == "tag"} == selected - refused
    assert report.failed == [] and report.not_started == []
    for t, d in kept.items():
        assert r.tags.get(t) == d, f"kept tag {t} moved"
    for t in refused:
        assert r.tags.get(t) == before[t]
    assert set(r.tags) == set(kept) | refused
    assert must_survive <= set(r.manifests)
    # Nothing outside the plan: deletions name planned tags, placeholder digests or planned
    # manifests only.
    planned_refs = {a.tag for a in plan.tag_actions} | planned_digests | digest_deletes
    pushed = set()
    for op, ref in r.log:
        if op == "push":
            assert ref in planned_refs
            pushed.add(r.tags.get(ref, ref))
        else:
            assert ref in planned_refs or ref.startswith("sha256:"), (op, ref)
            if ref.startswith("sha256:"):
                assert ref in planned_refs or ref not in before.values(), (op, ref)
