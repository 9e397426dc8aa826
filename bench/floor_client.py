"""The floor: a minimal keep-alive HTTP/1.1 client doing only a listing's needed requests.

    floor(url, repo, concurrency) -> requests      the tag list, one GET per manifest, one per
                                                   distinct config; asyncio streams, 16 at once
    python bench/floor_client.py URL REPO [CONCURRENCY]
                                                   the same as a command (prints the requests)

Standard library only, so that as a command it pays what any Python command pays — the
interpreter and asyncio — and nothing else: bench_tags times `regview tags --json` against
it as well as against the in-process floor (the issue's yardstick).
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import urlsplit

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


class MiniHTTP:
    """A minimal keep-alive HTTP/1.1 GET client over asyncio streams (Content-Length only)."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.size = size
        self.opened = 0
        self.requests = 0

    async def get(self, path: str, accept: str = "application/json") -> bytes:
        if self.pool.empty() and self.opened < self.size:
            self.opened += 1
            conn = await asyncio.open_connection(self.host, self.port)
        else:
            conn = await self.pool.get()
        reader, writer = conn
        self.requests += 1
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: {accept}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            low = line.lower()
            if low[:15] == b"content-length:":
                length = int(line[15:])
            elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await reader.readexactly(length)
        self.pool.put_nowait(conn)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}")
        return body

    def close(self) -> None:
        while not self.pool.empty():
            self.pool.get_nowait()[1].close()


async def floor(url: str, repo: str, concurrency: int) -> int:
    u = urlsplit(url)
    client = MiniHTTP(u.hostname or "127.0.0.1", u.port or 80, concurrency)
    tags = json.loads(await client.get(f"/v2/{repo}/tags/list"))["tags"]
    configs: dict[str, asyncio.Task[bytes]] = {}
    queue = list(reversed(tags))

    async def worker() -> None:
        while queue:
            tag = queue.pop()
            m = json.loads(await client.get(f"/v2/{repo}/manifests/{tag}", ACCEPT))
            d = m["config"]["digest"]
            if d not in configs:
                configs[d] = asyncio.ensure_future(client.get(f"/v2/{repo}/blobs/{d}"))
            json.loads(await configs[d])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    client.close()
    return client.requests


if __name__ == "__main__":
    target, repository = sys.argv[1], sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    print(asyncio.run(floor(target, repository, width)))
