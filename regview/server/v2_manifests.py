"""Manifests under /v2/<name>/manifests/<reference>: get (as stored), put (size-capped), delete
by tag or digest."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from regview.server.errors import RegistryError
from regview.server.v2_common import Ctx, in_thread, oci_headers, parse_digest, unsupported
from regview.spec.errors import ErrorCode
from regview.spec.reference import is_valid_tag

MANIFEST_METHODS = "GET, HEAD, PUT, DELETE, OPTIONS"


def _check_reference(reference: str) -> None:
    if ":" in reference:
        parse_digest(reference)
    elif not is_valid_tag(reference):
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
        _check_reference(reference)
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
        _check_reference(reference)
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
    from regview.spec.manifest import MAX_MANIFEST_BYTES

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_MANIFEST_BYTES:
        raise RegistryError(
            ErrorCode.SIZE_INVALID,
            f"manifest is {declared} bytes; at most {MAX_MANIFEST_BYTES} are accepted",
            status=413,
        )
    parts: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_MANIFEST_BYTES:
            raise RegistryError(
                ErrorCode.SIZE_INVALID,
                f"manifest is over {MAX_MANIFEST_BYTES} bytes, the most accepted",
                status=413,
            )
        parts.append(chunk)
    return b"".join(parts)
