"""`regview inspect IMAGE[:TAG|@DIGEST]`: manifest, config, layers, platforms, referrers."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from regview.cli import common as C
from regview.cli.help import with_examples
from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json
from regview.spec.manifest import ImageIndex, ImageManifest, parse_config
from regview.spec.reference import Reference
from regview.util.units import human_size

EXAMPLES = """\
  regview inspect registry.example.com/team/app:v1
  regview inspect registry.example.com/team/app@sha256:<digest> --json
  regview inspect docker.io/library/alpine:3.20
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "inspect",
        help="show an image's manifest, config, layers, platforms and referrers",
        description="Show one manifest (by tag, default latest, or by digest): its config, "
        "layers, platforms and referrers (signatures, SBOMs, attestations).",
        **with_examples(EXAMPLES),
    )
    p.add_argument("image", metavar="IMAGE[:TAG|@DIGEST]")
    p.add_argument(
        "--no-referrers", action="store_true", help="skip the referrers lookup (one request)"
    )
    C.add_network_options(p)
    C.add_json_option(p)
    p.set_defaults(func=lambda args: C.run(lambda: _inspect(args)))


def _layer_json(d: Any) -> dict[str, Any]:
    return {"digest": str(d.digest), "media_type": d.media_type, "size": d.size}


async def _config(client: RegistryClient, repo: str, m: ImageManifest) -> Any:
    """The config as JSON, or None for artifacts whose config is not an image config."""
    if m.config.size > 8 << 20:
        return None
    data = await client.get_blob_bytes(repo, str(m.config.digest))
    try:
        return parse_json(data, what="image config")
    except SpecError:
        return None


async def describe(client: RegistryClient, ref: Reference, *, referrers: bool) -> dict[str, Any]:
    repo = ref.repository
    resp = await client.get_manifest(repo, ref.reference)
    out: dict[str, Any] = {
        "reference": str(ref),
        "registry": ref.registry,
        "repository": repo,
        "tag": ref.tag if ref.digest is None else None,
        "digest": resp.digest,
        "media_type": resp.media_type,
        "kind": "unknown",
        "size": None,
        "created": None,
        "artifact_type": None,
        "subject": None,
        "manifest": json.loads(resp.data) if resp.manifest is not None else None,
        "config": None,
        "layers": [],
        "platforms": [],
        "referrers": [],
        "problem": resp.problem or None,
    }
    m = resp.manifest
    if isinstance(m, ImageManifest):
        out["kind"] = "artifact" if m.is_artifact else "image"
        out["size"] = m.size
        out["layers"] = [_layer_json(d) for d in m.layers]
        out["artifact_type"] = m.kind_artifact_type or None
        out["subject"] = str(m.subject.digest) if m.subject else None
        config = await _config(client, repo, m)
        out["config"] = config
        if isinstance(config, dict):
            try:
                parsed = parse_config(json.dumps(config).encode())
            except ValueError:
                parsed = None
            if parsed is not None:
                out["created"] = C.rfc3339(parsed.created)
                if parsed.platform is not None:
                    p = parsed.platform
                    out["platforms"] = [
                        {
                            "os": p.os,
                            "architecture": p.architecture,
                            "variant": p.variant,
                            "digest": resp.digest,
                            "size": m.size,
                        }
                    ]
    elif isinstance(m, ImageIndex):
        out["kind"] = "index"
        out["artifact_type"] = m.artifact_type or None
        out["subject"] = str(m.subject.digest) if m.subject else None
        children = m.platform_children
        sizes = await asyncio.gather(*(_child_size(client, repo, str(d.digest)) for d in children))
        blobs: dict[str, int] = {}
        for d, (size, child_blobs) in zip(children, sizes, strict=True):
            blobs.update(child_blobs)
            plat = d.platform
            out["platforms"].append(
                {
                    "os": plat.os if plat else "",
                    "architecture": plat.architecture if plat else "",
                    "variant": plat.variant if plat else "",
                    "digest": str(d.digest),
                    "size": size,
                    "media_type": d.media_type,
                }
            )
        out["size"] = sum(blobs.values()) if all(s is not None for s, _ in sizes) else None
        out["attestations"] = [str(d.digest) for d in m.manifests if d.is_attestation]
    if referrers and resp.manifest is not None:
        found = await client.referrers(repo, resp.digest)
        out["referrers"] = [
            {
                "digest": r.digest,
                "artifact_type": r.artifact_type,
                "media_type": r.media_type,
                "size": r.size,
                "annotations": r.annotations,
            }
            for r in found
        ]
    return out


async def _child_size(
    client: RegistryClient, repo: str, digest: str
) -> tuple[int | None, dict[str, int]]:
    try:
        child = await client.get_manifest(repo, digest)
    except E.NotFound:
        return None, {}
    if not isinstance(child.manifest, ImageManifest):
        return None, {}
    blobs = {str(d.digest): d.size for d in child.manifest.blobs}
    return child.manifest.size, blobs


async def _inspect(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.image)
    conn = await asyncio.to_thread(C.connect, args, ref.address, ref.repository)
    async with conn.client(concurrency=4) as client:
        info = await describe(client, ref, referrers=not args.no_referrers)
    if args.json:
        C.print_json(info)
    else:
        _print_text(info)
    if info["kind"] == "unknown" and info["problem"]:
        # what could be read is shown above; the manifest itself could not be: an error
        C.error(f"{ref}: the manifest cannot be read: {info['problem']}")
        return C.EXIT_ERROR
    return C.EXIT_OK


def _print_text(info: dict[str, Any]) -> None:
    print(f"{info['reference']}")
    print(f"  digest      {info['digest']}")
    print(f"  media type  {info['media_type']}")
    print(
        f"  kind        {info['kind']}"
        + (f" ({info['artifact_type']})" if info["artifact_type"] else "")
    )
    print(f"  size        {human_size(info['size'], unknown='-')}")
    if info["created"]:
        print(f"  created     {info['created']}")
    if info["subject"]:
        print(f"  subject     {info['subject']}")
    if info["problem"]:
        print(f"  problem     {info['problem']}")
    config = info["config"]
    if isinstance(config, dict) and isinstance(config.get("config"), dict):
        inner = config["config"]
        for key, label in (("Entrypoint", "entrypoint"), ("Cmd", "cmd"), ("WorkingDir", "workdir")):
            if inner.get(key):
                print(f"  {label:<11} {inner[key]}")
        for name, value in sorted((inner.get("Labels") or {}).items()):
            print(f"  label       {name}={value}")
    if info["platforms"]:
        print("platforms:")
        for p in info["platforms"]:
            label = "/".join(x for x in (p["os"], p["architecture"], p["variant"]) if x)
            print(f"  {label:<16} {p['digest']}  {human_size(p['size'], unknown='-')}")
    if info["layers"]:
        print("layers:")
        for layer in info["layers"]:
            print(
                f"  {layer['digest']}  {human_size(layer['size'], unknown='-'):>10}  {layer['media_type']}"
            )
    if info["referrers"]:
        print("referrers:")
        for r in info["referrers"]:
            print(f"  {r['digest']}  {r['artifact_type'] or r['media_type']}")
