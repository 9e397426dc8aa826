"""Harbor's untagged artifacts, one layer alone (httpx.MockTransport): signatures (Harbor's
accessories) go with an untagged artifact and stay with a tagged one."""

from __future__ import annotations

import httpx
from test_vendor_harbor_quay import _ctx

from regview.core.model import RegistryKind
from regview.core.vendors.harbor import HarborAPI

TAGGED, UNTAGGED = "sha256:" + "a" * 64, "sha256:" + "b" * 64
SIG_OF_TAGGED, SIG_OF_UNTAGGED = "sha256:" + "c" * 64, "sha256:" + "d" * 64


async def test_untagged_artifacts_take_their_signatures_and_leave_the_tagged_ones() -> None:
    page = [
        {
            "digest": TAGGED,
            "size": 1000,
            "tags": [{"name": "v1"}],
            "accessories": [{"digest": SIG_OF_TAGGED, "size": 7, "type": "signature.cosign"}],
        },
        {
            "digest": UNTAGGED,
            "size": 500,
            "tags": None,
            "accessories": [{"digest": SIG_OF_UNTAGGED, "size": 9, "type": "signature.cosign"}],
        },
        # were Harbor to list the tagged image's signature at the top too: it is kept
        {"digest": SIG_OF_TAGGED, "size": 7, "tags": None, "accessories": None},
    ]
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=page, headers={"X-Total-Count": str(len(page))})

    async with HarborAPI(_ctx(RegistryKind.HARBOR, handler)) as harbor:
        found = await harbor.untagged_artifacts("team/app")
    assert found == {UNTAGGED: 500, SIG_OF_UNTAGGED: 9}
    assert [r.method for r in sent] == ["GET"]
    assert sent[0].url.params["with_accessory"] == "true"
