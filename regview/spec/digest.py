"""Content digests (`algorithm:encoded`), parsed strictly and computed while streaming."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from regview.spec.errors import InvalidDigest

_ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}
# Grammar from the image-spec: algorithm components joined by + . _ -, then encoded chars.
_GRAMMAR = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEX = re.compile(r"[0-9a-f]+")
#: digests already parsed, text → Digest (immutable, so shared): a listing parses the same
#: config and layer digests in manifest after manifest. Emptied when full, never unbounded.
_PARSED: dict[str, Digest] = {}
_PARSED_MAX = 8192


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    algorithm: str
    encoded: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"

    @property
    def short(self) -> str:
        """The first 12 hex characters, as `docker images` shows them."""
        return self.encoded[:12]

    @classmethod
    def parse(cls, text: str) -> Digest:
        known = _PARSED.get(text)
        if known is not None:
            return known
        parsed = cls._parse(text)  # raises for anything invalid: only valid digests are kept
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[text] = parsed
        return parsed

    @classmethod
    def _parse(cls, text: str) -> Digest:
        if not _GRAMMAR.match(text):
            raise InvalidDigest(
                f"digest {text!r} is not of the form 'sha256:<64 lowercase hex characters>'"
            )
        algorithm, encoded = text.split(":", 1)
        length = _ALGORITHMS.get(algorithm)
        if length is None:
            raise InvalidDigest(
                f"digest {text!r} uses algorithm {algorithm!r}; supported: sha256, sha512"
            )
        if len(encoded) != length or not _HEX.fullmatch(encoded):
            raise InvalidDigest(
                f"digest {text!r}: {algorithm} needs exactly {length} lowercase hex characters"
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def hasher(self) -> Hasher:
        return Hasher(self.algorithm)


def is_digest(text: str) -> bool:
    try:
        Digest.parse(text)
    except InvalidDigest:
        return False
    return True


class Hasher:
    """Incremental digest for streamed blobs; `verify` compares to an expected digest."""

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in _ALGORITHMS:
            raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._h = hashlib.new(algorithm)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._h.update(chunk)
        self.size += len(chunk)

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._h.hexdigest())

    def verify(self, expected: Digest) -> bool:
        return self.digest() == expected
