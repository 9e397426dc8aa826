"""Soak (issue 12, "done means"), bounded in time: 20 threads pushing and pulling over loopback
while online GC runs with a short delay and repositories and manifests are deleted. Afterwards
every acknowledged image pulls back byte-exact, and a final offline GC (`regview local gc`, which
needs the stopped server's lock) leaves exactly the blobs the remaining manifests reference.

REGVIEW_SOAK_SECONDS (default 30) sets how long the load runs.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from oci_pusher import Image, PushFailed, make_image, pull_matches, push

from regview.server.registry.registry import Registry
from regview.server.runner import LocalRegistry
from regview.spec.digest import Digest

SOAK_SECONDS = float(os.environ.get("REGVIEW_SOAK_SECONDS", "30"))
WORKERS = 20
PUSH_GRACE = 8.0
#: after a repository delete, its blobs are gone within grace + two GC passes; generous
COLLECTED_WITHIN = PUSH_GRACE + 10.0


class Ledger:
    """What the registry acknowledged, and what was deleted since (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, Image] = {}  # "repo:tag" → image
        self.removed: set[str] = set()
        self.doomed: list[tuple[float, set[str]]] = []  # (deleted at, unique blob digests)
        self.failures: list[str] = []

    def add(self, image: Image) -> None:
        with self.lock:
            self.acked[f"{image.repo}:{image.tag}"] = image

    def pick(self, rng: random.Random) -> Image | None:
        with self.lock:
            return rng.choice(list(self.acked.values())) if self.acked else None

    def take(self, rng: random.Random) -> Image | None:
        with self.lock:
            if len(self.acked) < 10:
                return None
            key = rng.choice(list(self.acked))
            self.removed.add(key)
            return self.acked.pop(key)

    def fail(self, text: str) -> None:
        with self.lock:
            self.failures.append(text)


def test_soak_push_pull_delete_online_gc(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bases = [os.urandom(4096) for _ in range(3)]  # shared by kept and doomed images
    ledger = Ledger()
    stop_at = time.monotonic() + SOAK_SECONDS
    with LocalRegistry(data, gc_delay=0.5, push_grace=PUSH_GRACE) as reg:
        registry = reg.registry
        assert registry is not None

        def worker(n: int) -> None:
            rng = random.Random(n)
            with httpx.Client(base_url=reg.url, trust_env=False, timeout=60) as http:
                i = 0
                while time.monotonic() < stop_at:
                    image = ledger.pick(rng)
                    if image is None or rng.random() < 0.5:
                        layer = os.urandom(rng.randint(1, 64) * 1024)
                        image = make_image(
                            f"soak/keep{n % 5}", f"w{n}-{i}", [rng.choice(bases), layer]
                        )
                        i += 1
                        try:
                            push(http, image, pause=rng.random() * 2.0)
                        except PushFailed as exc:
                            ledger.fail(f"push: {exc}")
                            continue
                        ledger.add(image)
                    else:
                        problem = pull_matches(http, image)
                        if problem is not None:
                            with ledger.lock:
                                gone = f"{image.repo}:{image.tag}" in ledger.removed
                            if not gone:
                                ledger.fail(f"pull: {problem}")

        def deleter() -> None:
            rng = random.Random(99)
            k = 0
            with httpx.Client(base_url=reg.url, trust_env=False, timeout=60) as http:
                while time.monotonic() < stop_at:
                    repo = f"soak/doomed{k}"
                    unique: set[str] = set()
                    for j in range(2):
                        layer = os.urandom(8192)
                        image = make_image(repo, f"d{j}", [rng.choice(bases), layer])
                        unique.add(str(Digest.of(layer)))
                        try:
                            push(http, image)
                        except PushFailed as exc:
                            ledger.fail(f"doomed push: {exc}")
                    assert registry is not None
                    registry.delete_repository(repo)
                    with ledger.lock:
                        ledger.doomed.append((time.monotonic(), unique))
                    # and a kept image deleted by digest, as a user would
                    victim = ledger.take(rng)
                    if victim is not None:
                        r = http.delete(f"/v2/{victim.repo}/manifests/{victim.digest}")
                        if r.status_code != 202:
                            ledger.fail(f"delete {victim.repo}@{victim.digest}: {r.status_code}")
                    k += 1
                    time.sleep(0.5)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
        threads.append(threading.Thread(target=deleter))
        for t in threads:
            t.start()
        for t in threads:
            t.join(SOAK_SECONDS + 120)
        assert not any(t.is_alive() for t in threads), "a soak thread hung"
        ended = time.monotonic()

        assert ledger.failures == [], ledger.failures[:5]
        assert len(ledger.acked) >= 20, len(ledger.acked)  # the load did happen
        with httpx.Client(base_url=reg.url, trust_env=False, timeout=60) as http:
            problems = [p for image in ledger.acked.values() if (p := pull_matches(http, image))]
        assert problems == []
        # online GC did its job meanwhile: doomed repositories deleted long enough ago are gone
        old = [u for at, u in ledger.doomed if at < ended - COLLECTED_WITHIN]
        assert old, "the soak was too short to see online GC collect"
        left = {d for u in old for d in u if registry.store.exists(Digest.parse(d))}
        assert left == set(), f"{len(left)} blobs of deleted repositories were not collected"

    done = subprocess.run(
        [sys.executable, "-m", "regview", "local", "gc", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    registry = Registry(data)
    try:
        conn = registry.meta.conn
        referenced = {
            r[0] for r in conn.execute("SELECT digest FROM manifest_refs WHERE kind = 'blob'")
        }
        rows = {r[0] for r in conn.execute("SELECT digest FROM blobs")}
        files = {str(d) for d, _size in registry.store.all_blobs()}
        untagged = conn.execute(
            "SELECT count(*) FROM manifests WHERE id NOT IN (SELECT manifest_id FROM tags)"
        ).fetchone()[0]
    finally:
        registry.close()
    assert files == referenced, (len(files - referenced), len(referenced - files))
    assert rows == referenced
    assert untagged == 0
    expected = {d for image in ledger.acked.values() for d in image.blobs}
    assert expected <= files

    # and after that GC, everything still pulls back
    with LocalRegistry(data) as again, httpx.Client(base_url=again.url, trust_env=False) as http:
        problems = [p for image in ledger.acked.values() if (p := pull_matches(http, image))]
    assert problems == []
