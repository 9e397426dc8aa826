"""Manifests under /v2/<name>/manifests/<reference>: get (as stored), put (size-capped), delete
by tag or digest."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from regview.server.errors import RegistryError
from regview.server.v2.bodies import BodyTooLarge, read_capped
from regview.server.v2.common import Ctx, in_thread, oci_headers, parse_digest, unsupported
from regview.spec.errors import ErrorCode
from regview.spec.manifest import MAX_MANIFEST_BYTES
from regview.spec.reference import is_valid_tag

MANIFEST_METHODS = "GET, HEAD, PUT, DELETE, OPTIONS"


def _check_reference(reference: str, *, lookup: bool = False) -> None:
    """A digest must parse (DIGEST_INVALID). A name that is no valid tag is TAG_INVALID for a
    push, but for a look-up (GET, HEAD, DELETE) simply a manifest that is not there: 404
    MANIFEST_UNKNOWN, as distribution answers and the OCI conformance suite checks (its
    `.INVALID_MANIFEST_NAME`)."""
    if ":" in reference:
        parse_digest(reference)
    elif not is_valid_tag(reference):
        if lookup:
            raise RegistryError(
                ErrorCode.MANIFEST_UNKNOWN,
                f"no manifest {reference!r}: it is neither a valid tag nor a digest",
            )
        raise RegistryError(
            ErrorCode.TAG_INVALID,
            f"{reference!r} is neither a valid tag nor a digest",
        )


async def manifest(ctx: Ctx) -> Response:
    reference = ctx.extra
    method = ctx.method
    if method == "OPTIONS":
        return Response(b"", 200, oci_headers({"Allow": MANIFEST_METHODS}))
    if method in ("GET", "HEAD"):
        await ctx.authorize([ctx.pull()])
        _check_reference(reference, lookup=True)
        record = ctx.registry.get_manifest(ctx.name, reference)
        if record is None:
            if ctx.registry.repo_id(ctx.name) is None:
                raise RegistryError(ErrorCode.NAME_UNKNOWN, f"repository {ctx.name} is not known")
            raise RegistryError(
                ErrorCode.MANIFEST_UNKNOWN, f"manifest {reference} is not in {ctx.name}"
            )
        # Served as stored whatever Accept says: converting would change the digest, and
        # clients (skopeo copying into an OCI layout) convert themselves.
        etag = f'"{record.digest}"'
        headers = oci_headers(
            {
                "Docker-Content-Digest": record.digest,
                "ETag": etag,
                "Content-Type": record.media_type,
                "Content-Length": str(len(record.content)),
            }
        )
        inm = ctx.request.headers.get("if-none-match")
        if inm and (etag in inm or record.digest in inm or inm.strip() == "*"):
            del headers["Content-Length"]
            return Response(b"", 304, headers)
        return Response(b"" if method == "HEAD" else record.content, 200, headers)
    if method == "PUT":
        await ctx.authorize([ctx.push()])
        _check_reference(reference)
        content = await _read_limited(ctx.request)
        record = await in_thread(
            ctx.registry.put_manifest,
            ctx.name,
            reference,
            content,
            ctx.request.headers.get("content-type", ""),
        )
        headers = {
            "Location": f"/v2/{ctx.name}/manifests/{record.digest}",
            "Docker-Content-Digest": record.digest,
        }
        if record.subject:
            headers["OCI-Subject"] = record.subject
        return Response(b"", 201, oci_headers(headers))
    if method == "DELETE":
        await ctx.authorize([ctx.delete()])
        _check_reference(reference, lookup=True)
        if ":" in reference:
            found = await in_thread(ctx.registry.delete_manifest, ctx.name, reference)
        else:
            found = await in_thread(ctx.registry.delete_tag, ctx.name, reference)
        if not found:
            raise RegistryError(
                ErrorCode.MANIFEST_UNKNOWN, f"manifest {reference} is not in {ctx.name}"
            )
        return Response(b"", 202, oci_headers())
    raise unsupported(method, MANIFEST_METHODS)


async def _read_limited(request: Request) -> bytes:
    try:
        return await read_capped(request, MAX_MANIFEST_BYTES)
    except BodyTooLarge:
        raise RegistryError(
            ErrorCode.SIZE_INVALID,
            f"manifest is over {MAX_MANIFEST_BYTES} bytes, the most accepted",
            status=413,
        ) from None
