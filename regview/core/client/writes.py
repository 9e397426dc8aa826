"""The client's mutations: push a manifest, upload a small blob, delete a manifest or a tag.
No probes: nothing here is sent unless a user chose the item it changes.

    await c.put_manifest(repo, ref, data, media_type) -> digest
    await c.upload_blob(repo, data) -> digest               POST + PUT, small blobs
    await c.delete_manifest(repo, ref)
"""

from __future__ import annotations

from regview.core import errors as E
from regview.core.client.http import RegistryHttp
from regview.spec.digest import Digest


class RegistryWrites:
    """Manifest PUT/DELETE and small blob uploads, over one request path."""

    def __init__(self, http: RegistryHttp) -> None:
        self._http = http

    async def put_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str:
        computed = str(Digest.of(data))
        response, _ = await self._http.send(
            "PUT",
            f"v2/{repository}/manifests/{reference}",
            what=f"pushing the manifest {repository}:{reference}",
            ok=(200, 201, 202),
            headers={"Content-Type": media_type},
            content=data,
            cap=E.MAX_ERROR_BODY,
        )
        announced = response.headers.get("Docker-Content-Digest", "")
        if announced.startswith("sha256:") and announced != computed:
            raise E.ProtocolError(
                f"{self._http.registry}: the registry stored {repository}:{reference} under "
                f"{announced}, not {computed}: it changed the bytes",
                registry=self._http.registry,
            )
        if self._http.content is not None:
            self._http.content.put(computed, data)
        return computed

    async def delete_manifest(self, repository: str, reference: str) -> None:
        await self._http.send(
            "DELETE",
            f"v2/{repository}/manifests/{reference}",
            what=f"deleting {repository}{'@' if ':' in reference else ':'}{reference}",
            ok=(200, 202, 204),
            cap=E.MAX_ERROR_BODY,
        )

    async def upload_blob(self, repository: str, data: bytes) -> str:
        """Upload a blob in one piece (POST, then PUT with `digest=` appended to the Location,
        which may be relative, carry a query, or point at another host). Returns its digest.
        For small blobs: configs, manifests of artifacts, things restored from the trash."""
        digest = str(Digest.of(data))
        what = f"uploading a blob to {repository}"
        response, _ = await self._http.send(
            "POST",
            f"v2/{repository}/blobs/uploads/",
            what=what,
            ok=(201, 202),
            cap=E.MAX_ERROR_BODY,
        )
        if response.status_code == 201:
            return digest
        location = response.headers.get("Location", "")
        if not location:
            raise E.ProtocolError(
                f"{self._http.registry}: {what}: the registry gave no upload location",
                registry=self._http.registry,
            )
        target = response.request.url.join(location).copy_add_param("digest", digest)
        await self._http.send(
            "PUT",
            target,
            what=what,
            ok=(201, 204),
            headers={"Content-Type": "application/octet-stream"},
            content=data,
            cap=E.MAX_ERROR_BODY,
        )
        return digest
