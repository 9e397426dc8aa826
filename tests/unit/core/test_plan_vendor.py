"""The planner with a registry's management API (`Capabilities.vendor_api`): the vendor untags,
a credential the API says may not delete is refused up front in the API's words, and tags the
registry's own rules protect (Harbor immutability) are refused and kept."""

from __future__ import annotations

from dataclasses import replace

from delete_fakes import FakeRegistry

from regview.core.deletion.plan import Capabilities, DeleteSupport, Method, Selection, make_plan


def _reg() -> FakeRegistry:
    r = FakeRegistry()
    a = r.image("base", "a")
    b = r.image("base", "b")
    r.tag("a1", a)
    r.tag("a2", a)
    r.tag("b", b)
    return r


def test_a_vendor_api_untags_whatever_v2_allows() -> None:
    r = _reg()
    for support in (DeleteSupport.ALLOWED, DeleteSupport.UNKNOWN):
        caps = Capabilities(support, can_push=False, vendor_api="Docker Hub API")
        plan = make_plan(r.facts(caps), Selection.of_tags(["a1", "b"]))
        assert plan.refusal == ""
        assert {a.method for a in plan.tag_actions} == {Method.VENDOR_API}
        (a1,) = [a for a in plan.tag_actions if a.tag == "a1"]
        assert a1.shared_with == ("a2",) and not a1.manifest_untagged


def test_a_credential_the_api_refuses_is_refused_in_its_words() -> None:
    caps = Capabilities(
        DeleteSupport.DENIED,
        vendor_api="GitHub packages API",
        detail="the token has read:packages; deleting needs delete:packages",
    )
    plan = make_plan(_reg().facts(caps), Selection.of_tags(["a1"]))
    assert plan.is_empty
    assert "GitHub packages API" in plan.refusal and "delete:packages" in plan.refusal
    assert "Nothing was deleted" in plan.refusal


def test_protected_tags_are_refused_and_kept() -> None:
    caps = Capabilities(DeleteSupport.ALLOWED, vendor_api="Harbor API")
    facts = replace(_reg().facts(caps), protected={"a2": "immutable (Harbor rule 'a*')"})
    plan = make_plan(facts, Selection.of_tags(["a1", "a2"]))
    assert [a.tag for a in plan.tag_actions] == ["a1"]
    assert [(r.tag, r.reason) for r in plan.refused] == [("a2", "immutable (Harbor rule 'a*')")]
    assert "a2" in plan.kept_tags
    (a1,) = plan.tag_actions
    assert a1.shared_with == ("a2",), "a protected sibling keeps the manifest like any kept tag"
