"""Media types of OCI image-spec and Docker image manifest v2."""

from __future__ import annotations

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

IMAGE_MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_LIST})
SCHEMA1 = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
MANIFESTS = IMAGE_MANIFESTS | INDEXES
IMAGE_CONFIGS = frozenset({OCI_CONFIG, DOCKER_CONFIG})

#: Always send the full list: the CNCF registry 2.8 otherwise hides OCI content, downgrades
#: Docker v2 to schema1 (another digest) and swaps a list for its amd64 child.
ACCEPT_MANIFESTS = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])

# Annotations and their well-known values.
ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type"
ANNOTATION_DOCKER_REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"

#: Artifact types people see attached as referrers, with a friendly name.
KNOWN_ARTIFACT_TYPES: dict[str, str] = {
    "application/vnd.dev.cosign.artifact.sig.v1+json": "cosign signature",
    "application/vnd.dev.sigstore.bundle.v0.3+json": "sigstore bundle",
    "application/vnd.cncf.notary.signature": "notation signature",
    "application/spdx+json": "SPDX SBOM",
    "application/vnd.cyclonedx+json": "CycloneDX SBOM",
    "application/vnd.in-toto+json": "in-toto attestation",
}


def friendly_artifact_type(artifact_type: str) -> str:
    return KNOWN_ARTIFACT_TYPES.get(artifact_type, artifact_type)


def referrer_kind(artifact_type: str) -> str:
    """A referrer's kind in one word ("signature", "SBOM", "attestation") for a narrow column;
    an artifact type not recognised is returned as it is."""
    lowered = artifact_type.lower()
    if any(w in lowered for w in ("signature", "notary", ".sig.", "sigstore")):
        return "signature"
    if any(w in lowered for w in ("spdx", "cyclonedx", "sbom", "syft")):
        return "SBOM"
    if any(w in lowered for w in ("in-toto", "intoto", "attestation", "provenance", "slsa")):
        return "attestation"
    return artifact_type
