"""An untagged artifact in the Harbor imitation's seeded repository, and what only it holds,
computed from the images as pushed (not by regview)."""

from __future__ import annotations

from oci_pusher import Image, make_image, push
from vendor_seed import LAYOUT, _image, token_client
from vendor_sites import HARBOR_REPO as REPO
from vendor_sites import MAINTAINER, Site


def rebuild_dev_2(site: Site) -> Image:
    """dev-2 pushed again on a new image: Harbor keeps its old image (D) as an untagged
    artifact. The new image shares the base layer every seeded image has."""
    new = make_image(REPO, "dev-2", [b"rebuilt app layer" * 400, b"shared base layer" * 300])
    with token_client(site.url, MAINTAINER, REPO) as http:
        push(http, new)
    return new


def held_only_by_old_dev_2(new: Image) -> int:
    """The bytes of D's blobs that no tagged image has (computed from the images pushed)."""
    tagged = [_image(REPO, letter) for letter in set(LAYOUT.values()) - {"D", "I"}]
    tagged += [_image(REPO, "I", arch) for arch in ("amd64", "arm64")]  # the index's children
    held = {d for image in [*tagged, new] for d in image.blobs}
    return sum(len(data) for d, data in _image(REPO, "D").blobs.items() if d not in held)
