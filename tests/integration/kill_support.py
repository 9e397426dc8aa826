"""A deletion run in a subprocess, SIGKILLed after it settled a chosen number of items: what a
crash or `kill -9` leaves behind, for the resume tests.

    kill_after(url, repo, tags, after, creds=None, gitlab=False, resume="") -> settled count
        tags: the tags to delete (None: the whole repository); with `resume` (a journal id) the
        subprocess resumes that entry instead. It inherits the environment (REGVIEW_BASEDIR:
        the same journal as the test), prints one line per settled item and is killed after
        `after` of them (or when it ends first).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from regview.core.model import Credentials

ROOT = Path(__file__).resolve().parents[2]

VICTIM = """
import asyncio, json, os, sys
from dataclasses import replace
from regview.core.client.client import RegistryClient
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.deletion.executor import Executor
from regview.core.deletion.resume import resume
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import locate
from regview.core.journal.journal import Journal
from regview.core.model import CredentialKind, Credentials, Endpoint
from regview.core.deletion.plan import Selection, make_plan

URL, REPO, TAGS, GITLAB = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1"
RESUME = sys.argv[5]
CREDS = None
if os.environ.get("VICTIM_TOKEN"):
    CREDS = Credentials(os.environ["VICTIM_USER"], os.environ["VICTIM_TOKEN"],
                        CredentialKind.PERSONAL)

async def fast(d):
    await asyncio.sleep(min(d, 0.005))

async def main():
    async with RegistryClient(Endpoint(URL), CREDS, sleep=fast) as client:
        api = GitLabAPI(URL + "/api/v4", CREDS) if GITLAB else None
        ids = {}
        if api is not None:
            t = await locate(api, REPO)
            ids = {"gitlab_project_id": t.project_id, "gitlab_repository_id": t.repository_id}
        port = ClientPort(client, api)
        def said(result):
            print(result.name, flush=True)
        executor = Executor(port, Journal(), concurrency=2, on_result=said, backoff=0.001)
        if RESUME:
            await resume(executor, Journal(), RESUME)
        else:
            facts = await gather_facts(port, REPO, **ids)
            if api is not None:  # as on a GitLab without the OCI tag delete route
                facts = replace(facts, capabilities=replace(facts.capabilities, tag_delete=False))
            selection = Selection.repository() if TAGS is None else Selection.of_tags(TAGS)
            await executor.run(make_plan(facts, selection))
        print("END", flush=True)
        if api is not None:
            await api.aclose()

asyncio.run(main())
"""


def kill_after(
    url: str,
    repo: str,
    tags: list[str] | None,
    after: int,
    *,
    creds: Credentials | None = None,
    gitlab: bool = False,
    resume: str = "",
) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if creds is not None:
        env.update(VICTIM_USER=creds.username, VICTIM_TOKEN=creds.secret)
    args = [url, repo, json.dumps(tags), "1" if gitlab else "0", resume]
    proc = subprocess.Popen([sys.executable, "-c", VICTIM, *args], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    done = 0
    deadline = time.monotonic() + 60
    while done < after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line or line.startswith(b"END"):
            break
        done += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    return done
