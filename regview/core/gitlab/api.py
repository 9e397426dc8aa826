"""GitLab REST API (`/api/v4`) for what the registry protocol cannot do on GitLab.

    api = GitLabAPI(api_url, credentials, *, transport=None, insecure=False)
    async with api:
        await api.version() -> dict
        await api.project(path_or_id) -> dict
        await api.find_project(image_path) -> dict        image path, 0/1/2 trailing parts dropped
        api.remembered(image_path) -> KnownImage | None    project + repository ids seen before
        await api.projects(membership=True) -> list[dict]  (paged) the token user's projects
        await api.project_repositories(project) -> list[RepositoryInfo]   (paged)
        await api.group_repositories(group) -> list[RepositoryInfo]       (paged)
        await api.repository(repo_id, size=False) -> RepositoryInfo
        await api.tags(project, repo_id) -> list[GitLabTag]               (paged; names only)
        await api.tag_details(project, repo_id, tag) -> GitLabTag
        await api.delete_tag(project, repo_id, tag)
        await api.bulk_delete(project, repo_id, name_regex_delete=..., name_regex_keep=...,
                              keep_n=..., older_than=...)     202; once an hour per repository
        await api.delete_repository(project, repo_id)       202, asynchronous
        await api.cleanup_policy(project) -> dict
        await api.set_cleanup_policy(project, **attributes) -> dict
        await api.registry_access_level(project) -> str
        await api.set_registry_access_level(project, level)   enabled | private | disabled

Project and registry-repository ids that any listing or lookup returned are remembered per API
(`remembered`), so a known image's project is used directly, not found again by trying
`/projects/group%2Fproject%2Fapp` (a 404) and its parents.

`api_url` is only ever one the user confirmed (see `probe.gitlab_api_candidate`). Deploy
tokens cannot call the REST API: they are refused here, before anything is sent. Personal,
project and group tokens go in `PRIVATE-TOKEN`, CI job tokens in `JOB-TOKEN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from regview.core import errors as E
from regview.core.client.api_send import send_with_retry
from regview.core.client.pagination import PageGuard, next_link
from regview.core.client.transport import HttpOwner, make_http_client
from regview.core.model import CredentialKind, Credentials, Endpoint, RepositoryInfo
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json
from regview.spec.manifest import parse_time
from regview.spec.reference import gitlab_project_candidates

ACCESS_LEVELS = ("enabled", "private", "disabled")


@dataclass(frozen=True, slots=True)
class GitLabTag:
    name: str
    path: str = ""
    location: str = ""
    digest: str = ""
    revision: str = ""  # config digest hex, no algorithm
    created_at: datetime | None = None
    total_size: int | None = None  # layers only (GitLab's legacy definition)


@dataclass(frozen=True, slots=True)
class KnownImage:
    """Where an image path lives on a GitLab instance, as an API answer said."""

    project_id: int
    project_path: str = ""
    repository_id: int | None = None


#: (API URL, image path) → ids, from every answer that carried them (ids never change)
_KNOWN: dict[tuple[str, str], KnownImage] = {}


def _remember(api_url: str, obj: dict[str, Any]) -> None:
    path, name = str(obj.get("path") or ""), str(obj.get("name") or "")
    pid, rid = obj.get("project_id"), obj.get("id")
    if not path or not isinstance(pid, int) or not isinstance(rid, int):
        return
    # `name` is the path below the project ("" for the project's own image)
    if not name:
        project = path
    elif path.endswith("/" + name):
        project = path[: -len(name) - 1]
    else:
        project = ""  # unusual answer: let `find_project` say
    _KNOWN[(api_url, path)] = KnownImage(pid, project, rid)


def _pid(project: str | int) -> str:
    return str(project) if isinstance(project, int) else quote(project.strip("/"), safe="")


def _repo_info(obj: dict[str, Any]) -> RepositoryInfo:
    return RepositoryInfo(
        path=str(obj.get("path", "")),
        tag_count=obj.get("tags_count") if isinstance(obj.get("tags_count"), int) else None,
        size=obj.get("size") if isinstance(obj.get("size"), int) else None,
        created=parse_time(obj.get("created_at")),
        status=str(obj.get("status") or ""),
        gitlab_id=obj.get("id") if isinstance(obj.get("id"), int) else None,
        gitlab_project_id=obj.get("project_id") if isinstance(obj.get("project_id"), int) else None,
        location=str(obj.get("location", "")),
    )


def _tag(obj: dict[str, Any]) -> GitLabTag:
    size = obj.get("total_size")
    return GitLabTag(
        name=str(obj.get("name", "")),
        path=str(obj.get("path", "")),
        location=str(obj.get("location", "")),
        digest=str(obj.get("digest") or ""),
        revision=str(obj.get("revision") or ""),
        created_at=parse_time(obj.get("created_at")),
        total_size=size if isinstance(size, int) else None,
    )


class GitLabAPI(HttpOwner):
    def __init__(
        self,
        api_url: str,
        credentials: Credentials | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        insecure: bool = False,
        ca_file: str = "",
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.host = httpx.URL(self.api_url).netloc.decode("ascii")
        headers: dict[str, str] = {"Accept": "application/json"}
        if credentials is not None and credentials.kind == CredentialKind.DEPLOY:
            raise E.DeployTokenNoAPI(
                f"{self.host}: deploy tokens cannot use the GitLab API; type the repository "
                "paths in, or use a personal, project or group access token with read_api",
                registry=self.host,
            )
        if credentials is not None and credentials.kind == CredentialKind.JOB:
            headers["JOB-TOKEN"] = credentials.secret
        elif credentials is not None and credentials.kind != CredentialKind.ANONYMOUS:
            headers["PRIVATE-TOKEN"] = credentials.secret
        self.http = make_http_client(
            Endpoint(self.api_url, insecure=insecure, ca_file=ca_file), transport=transport
        )
        self.http.headers.update(headers)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- plumbing ------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        url = path if isinstance(path, httpx.URL) else httpx.URL(f"{self.api_url}/{path}")
        response = await send_with_retry(
            self.http, method, url, host=self.host, what=what, ok=ok, params=params, body=body
        )
        if response.status_code in ok:
            return response
        raise self._error(response, what)

    def _json(self, response: httpx.Response, what: str) -> Any:
        """The answer's JSON, depth-capped; an answer that is not JSON (a login page, a proxy's
        error page) is a GitLabAPIError in words, not a JSONDecodeError."""
        try:
            return parse_json(response.content, what="answer")
        except SpecError as exc:
            hint = E.HTML_HINT if E.looks_like_html(response.content, "") else str(exc)
            raise E.GitLabAPIError(f"{self.host}: {what}: {hint}", registry=self.host) from exc

    def _object(self, response: httpx.Response, what: str) -> dict[str, Any]:
        obj = self._json(response, what)
        if not isinstance(obj, dict):
            raise E.GitLabAPIError(
                f"{self.host}: {what}: the answer is not a JSON object", registry=self.host
            )
        return obj

    def _error(self, response: httpx.Response, what: str) -> E.GitLabAPIError:
        body = response.content[: E.MAX_ERROR_BODY]
        said = ""
        obj: Any = None
        try:
            obj = parse_json(body, what="error body")
            if isinstance(obj, dict):
                said = str(obj.get("message") or obj.get("error") or "")
        except SpecError:
            if E.looks_like_html(body, response.headers.get("Content-Type", "")):
                said = E.HTML_HINT
        status = response.status_code
        said_part = f" (GitLab said: {said})" if said else ""
        hints = {
            # GitLab answers 401 for a token that is wrong, expired or revoked; a token that
            # lacks a scope gets 403 insufficient_scope (handled below), so the scope is not
            # the reason here (the Tokens dialog's Test says the same)
            401: "the token is wrong, expired or revoked",
            403: "the token's user lacks the role for this (deleting needs Developer, cleanup "
            "policies and visibility need Maintainer), or a protection rule forbids it",
            404: "not found, or not visible to this token",
        }
        hint = hints.get(status, "")
        if "insufficient_scope" in said:
            scope = obj.get("scope", "") if isinstance(obj, dict) else ""
            needed = scope or "read_api to read, api to change things"
            hint = (
                f"this token may not call it: it lacks the scope ({needed}); add the scope "
                "or use another token"
            )
        elif status == 400 and "already been made" in said:
            hint = "GitLab allows one bulk delete per repository per hour; try again later"
        message = f"{self.host}: {what} failed (HTTP {status}){said_part}"
        return E.GitLabAPIError(
            f"{message}: {hint}" if hint else message, registry=self.host, status=status
        )

    async def _pages(self, path: str, *, what: str, params: dict[str, Any]) -> list[Any]:
        url: httpx.URL | None = httpx.URL(f"{self.api_url}/{path}").copy_merge_params(
            {"per_page": 100, **params}
        )
        guard = PageGuard(self.host, what)
        out: list[Any] = []
        while url is not None:
            guard.check(url)
            response = await self._call("GET", url, what=what)
            page = self._json(response, what)
            if not isinstance(page, list):
                raise E.GitLabAPIError(f"{self.host}: {what}: expected a list", registry=self.host)
            out.extend(page)
            url = next_link(response)
            nxt = response.headers.get("x-next-page", "")
            if url is None and nxt.isdigit():
                url = response.request.url.copy_set_param("page", nxt)
        return out

    # -- endpoints -------------------------------------------------------------------------------

    async def version(self) -> dict[str, Any]:
        what = "the GitLab version check"
        obj = self._json(await self._call("GET", "version", what=what), what)
        if not isinstance(obj, dict) or "version" not in obj:
            raise E.GitLabAPIError(
                f"{self.host}: {self.api_url} does not look like a GitLab API", registry=self.host
            )
        return obj

    async def project(self, project: str | int) -> dict[str, Any]:
        what = f"project {project}"
        obj = self._json(await self._call("GET", f"projects/{_pid(project)}", what=what), what)
        return obj if isinstance(obj, dict) else {}

    async def projects(self, *, membership: bool = True) -> list[dict[str, Any]]:
        """Projects visible to the token; `membership` keeps those its user is a member of."""
        items = await self._pages(
            "projects",
            what="the list of projects",
            params={"membership": "true"} if membership else {},
        )
        return [i for i in items if isinstance(i, dict)]

    def remembered(self, image_path: str) -> KnownImage | None:
        return _KNOWN.get((self.api_url, image_path.strip("/")))

    def remember(self, image_path: str, known: KnownImage) -> None:
        _KNOWN[(self.api_url, image_path.strip("/"))] = known

    async def find_project(self, image_path: str) -> dict[str, Any]:
        """The project an image path belongs to (the path with 0, 1 or 2 parts dropped)."""
        for candidate in gitlab_project_candidates(image_path.strip("/")):
            try:
                return await self.project(candidate)
            except E.GitLabAPIError as exc:
                if exc.status != 404:
                    raise
        raise E.GitLabAPIError(
            f"{self.host}: no project visible to this token holds the image {image_path}",
            registry=self.host,
            status=404,
        )

    async def project_repositories(self, project: str | int) -> list[RepositoryInfo]:
        items = await self._pages(
            f"projects/{_pid(project)}/registry/repositories",
            what=f"the registry repositories of project {project}",
            params={"tags_count": "true"},
        )
        return self._repositories(items)

    def _repositories(self, items: list[Any]) -> list[RepositoryInfo]:
        found = [i for i in items if isinstance(i, dict)]
        for i in found:
            _remember(self.api_url, i)
        return [_repo_info(i) for i in found]

    async def group_repositories(self, group: str | int) -> list[RepositoryInfo]:
        items = await self._pages(
            f"groups/{_pid(group)}/registry/repositories",
            what=f"the registry repositories of group {group}",
            params={},
        )
        return self._repositories(items)

    async def repository(self, repo_id: int, *, size: bool = False) -> RepositoryInfo:
        params = {"tags_count": "true", **({"size": "true"} if size else {})}
        r = await self._call(
            "GET", f"registry/repositories/{repo_id}", what=f"repository {repo_id}", params=params
        )
        return _repo_info(self._object(r, f"repository {repo_id}"))

    async def tags(self, project: str | int, repo_id: int) -> list[GitLabTag]:
        items = await self._pages(
            f"projects/{_pid(project)}/registry/repositories/{repo_id}/tags",
            what=f"the tags of repository {repo_id}",
            params={},
        )
        return [_tag(i) for i in items if isinstance(i, dict)]

    async def tag_details(self, project: str | int, repo_id: int, tag: str) -> GitLabTag:
        r = await self._call(
            "GET",
            f"projects/{_pid(project)}/registry/repositories/{repo_id}/tags/{quote(tag, safe='')}",
            what=f"the details of tag {tag}",
        )
        return _tag(self._object(r, f"the details of tag {tag}"))

    async def delete_tag(self, project: str | int, repo_id: int, tag: str) -> None:
        await self._call(
            "DELETE",
            f"projects/{_pid(project)}/registry/repositories/{repo_id}/tags/{quote(tag, safe='')}",
            what=f"deleting tag {tag}",
            ok=(200, 202, 204),
        )

    async def bulk_delete(
        self,
        project: str | int,
        repo_id: int,
        *,
        name_regex_delete: str,
        name_regex_keep: str | None = None,
        keep_n: int | None = None,
        older_than: str | None = None,
    ) -> None:
        params: dict[str, Any] = {"name_regex_delete": name_regex_delete}
        if name_regex_keep is not None:
            params["name_regex_keep"] = name_regex_keep
        if keep_n is not None:
            params["keep_n"] = keep_n
        if older_than is not None:
            params["older_than"] = older_than
        await self._call(
            "DELETE",
            f"projects/{_pid(project)}/registry/repositories/{repo_id}/tags",
            what=f"the bulk delete in repository {repo_id}",
            params=params,
            ok=(200, 202, 204),
        )

    async def delete_repository(self, project: str | int, repo_id: int) -> None:
        await self._call(
            "DELETE",
            f"projects/{_pid(project)}/registry/repositories/{repo_id}",
            what=f"deleting repository {repo_id}",
            ok=(200, 202, 204),
        )

    async def cleanup_policy(self, project: str | int) -> dict[str, Any]:
        policy = (await self.project(project)).get("container_expiration_policy")
        return policy if isinstance(policy, dict) else {}

    async def set_cleanup_policy(self, project: str | int, **attributes: Any) -> dict[str, Any]:
        r = await self._call(
            "PUT",
            f"projects/{_pid(project)}",
            what="saving the cleanup policy",
            body={"container_expiration_policy_attributes": attributes},
        )
        policy = self._object(r, "saving the cleanup policy").get("container_expiration_policy")
        return policy if isinstance(policy, dict) else {}

    async def registry_access_level(self, project: str | int) -> str:
        return str((await self.project(project)).get("container_registry_access_level", ""))

    async def set_registry_access_level(self, project: str | int, level: str) -> None:
        if level not in ACCESS_LEVELS:
            raise ValueError(f"access level {level!r}: use one of {', '.join(ACCESS_LEVELS)}")
        await self._call(
            "PUT",
            f"projects/{_pid(project)}",
            what="changing the registry visibility",
            body={"container_registry_access_level": level},
        )
