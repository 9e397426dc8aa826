"""A Harbor imitation (API v2.0) over the embedded registry, written from Harbor's public API
description (`api/v2.0/swagger.yaml`) and, where the description is silent, from what its
handlers do (`src/server/v2.0/handler/artifact.go`, `src/controller/tag/controller.go`,
`src/lib/http/error.go`, `src/server/registry/manifest.go`).

    harbor = Harbor(upstream_url)
    harbor.add_project("team", public=False)
    harbor.add_user("alice", "pw", {"team": "maintainer"})
    harbor.add_robot("robot$team+ci", "secret", {"team": {"repository:pull", "tag:list", ...}})
    harbor.add_immutable_rule("team", tags="v*", repos="**")
    harbor.set_retention("team", rules=[...])
    with serve_asgi(harbor.app()) as url: ...

What it answers (everything else is 404 in Harbor's error shape):
- `/v2/…` from its own tag/artifact database (vendor_front), token realm `/service/token`
  (service `harbor-registry`); `DELETE /v2/<repo>/manifests/<tag>` is refused (400 UNSUPPORTED,
  as Harbor's `deleteManifest`), by digest it deletes the artifact and all its tags.
- `GET /api/v2.0/projects/{p}/repositories/{r}/artifacts` (`with_tag`, `with_immutable_status`,
  `page`, `page_size` ≤ 100, `X-Total-Count` and `Link` headers, newest push first; untagged
  artifacts that an index references are not listed, as Harbor's default "base" query),
  `GET …/artifacts/{reference}`, `DELETE …/artifacts/{reference}/tags/{tag}`,
  `DELETE …/artifacts/{reference}`;
- `GET /api/v2.0/projects/{p}`, `…/repositories`, `…/immutabletagrules`, `GET /api/v2.0/retentions/{id}`,
  `GET /api/v2.0/users/current/permissions?scope=/project/{id}&relative=true`,
  `GET /api/v2.0/users/current` (a robot gets 412, as Harbor), `GET /api/v2.0/systeminfo`.
- Errors are `{"errors":[{"code","message"}]}` with Harbor's codes: UNAUTHORIZED 401, FORBIDDEN
  403, NOT_FOUND 404, PRECONDITION 412 (an immutable tag), VIOLATE_FOREIGN_KEY_CONSTRAINT 412
  (an artifact an index references), UNPROCESSABLE_ENTITY 422 (page_size over 100).
Basic authentication on the API: a user or a robot account (`robot$<project>+<name>`).
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from vendor_front import (
    Grant,
    Manifest,
    Repo,
    Store,
    Throttle,
    TokenBook,
    V2Front,
    parse_scopes,
    v2_error,
)

SERVICE = "harbor-registry"
VERSION = "v2.12.2-imitation"

#: what each project role may do (src/common/rbac/project/rbac_role.go, the parts regview uses)
_READ = {
    "repository:pull",
    "repository:list",
    "repository:read",
    "artifact:list",
    "artifact:read",
    "tag:list",
}
ROLES: dict[str, set[str]] = {
    "guest": set(_READ),
    "developer": _READ
    | {
        "repository:push",
        "artifact:create",
        "tag:create",
        "immutable-tag:list",
        "tag-retention:read",
        "tag-retention:list",
    },
    "maintainer": _READ
    | {
        "repository:push",
        "repository:delete",
        "artifact:create",
        "artifact:delete",
        "tag:create",
        "tag:delete",
        "immutable-tag:list",
        "immutable-tag:create",
        "tag-retention:read",
        "tag-retention:list",
    },
}
ROLES["projectAdmin"] = ROLES["maintainer"] | {"tag-retention:update", "immutable-tag:update"}


def harbor_time(ts: float | None) -> str:
    """Harbor's date-times: millisecond UTC; never pulled is Go's zero time."""
    if ts is None:
        return "0001-01-01T00:00:00.000Z"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message}]}, status_code=status)


def doublestar(pattern: str, value: str) -> bool:
    """bmatcuk/doublestar's Match as Harbor's selectors use it: `**` any path, `*` and `?` within
    one path segment, `[…]` classes, `{a,b}` alternatives; an empty pattern matches all."""
    if not pattern:
        return True
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i)
            if end < 0:
                return False
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
            i = end + 1
            continue
        elif c == "{":
            end = pattern.find("}", i)
            if end < 0:
                return False
            alts = pattern[i + 1 : end].split(",")
            out += "(?:" + "|".join(re.escape(a).replace(r"\*", "[^/]*") for a in alts) + ")"
            i = end + 1
            continue
        elif c == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        else:
            out += re.escape(c)
        i += 1
    return re.fullmatch(out, value) is not None


@dataclass
class Project:
    id: int
    name: str
    public: bool
    retention_id: int | None = None
    immutable_rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Principal:
    name: str
    secret: str
    robot: bool
    sysadmin: bool = False
    #: project → "resource:action" strings
    perms: dict[str, set[str]] = field(default_factory=dict)


class Harbor:
    def __init__(self, upstream: str) -> None:
        self.store = Store()
        self.tokens = TokenBook()
        self.projects: dict[str, Project] = {}
        self.principals: dict[str, Principal] = {}
        self.retentions: dict[int, dict[str, Any]] = {}
        self._next = 0
        self.front = V2Front(self.store, upstream, self, self.tokens)
        #: Harbor's API answers 429 TOO_MANY_REQUEST (src/lib/errors/const.go); when, the
        #: swagger does not say (only its proxy cache is seen doing it)
        self.throttle = Throttle(
            "/api/",
            lambda: JSONResponse(
                {"errors": [{"code": "TOO_MANY_REQUEST", "message": "too many requests"}]},
                status_code=429,
                headers={"Retry-After": "1"},
            ),
        )

    # -- set-up by the test ------------------------------------------------------------------

    def _id(self) -> int:
        self._next += 1
        return self._next

    def add_project(self, name: str, *, public: bool = False) -> Project:
        project = Project(self._id(), name, public)
        self.projects[name] = project
        return project

    def add_user(
        self, name: str, password: str, roles: dict[str, str], *, sysadmin: bool = False
    ) -> None:
        perms = {project: set(ROLES[role]) for project, role in roles.items()}
        self.principals[name] = Principal(
            name, password, robot=False, sysadmin=sysadmin, perms=perms
        )

    def add_robot(self, name: str, secret: str, perms: dict[str, set[str]]) -> None:
        assert name.startswith("robot$"), "Harbor robot accounts are named robot$…"
        self.principals[name] = Principal(name, secret, robot=True, perms=perms)

    def add_immutable_rule(
        self, project: str, *, tags: str, repos: str = "**", disabled: bool = False
    ) -> int:
        rule_id = self._id()
        self.projects[project].immutable_rules.append(
            {
                "id": rule_id,
                "project_id": self.projects[project].id,
                "priority": 0,
                "disabled": disabled,
                "action": "immutable",
                "template": "immutable_template",
                "params": {},
                "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": tags}],
                "scope_selectors": {
                    "repository": [
                        {"kind": "doublestar", "decoration": "repoMatches", "pattern": repos}
                    ]
                },
            }
        )
        return rule_id

    def set_retention(
        self, project: str, rules: list[dict[str, Any]], *, cron: str = "0 0 0 * * *"
    ) -> int:
        policy_id = self._id()
        numbered = [
            {"id": i + 1, "priority": 0, "disabled": False, "action": "retain", **r}
            for i, r in enumerate(rules)
        ]
        self.retentions[policy_id] = {
            "id": policy_id,
            "algorithm": "or",
            "rules": numbered,
            "trigger": {"kind": "Schedule", "settings": {"cron": cron}, "references": {}},
            "scope": {"level": "project", "ref": self.projects[project].id},
        }
        self.projects[project].retention_id = policy_id
        return policy_id

    # -- rules ----------------------------------------------------------------------------------

    def immutable(self, repo_name: str, tag: str) -> bool:
        """Harbor's immutable matcher (src/pkg/immutable/match/rule/match.go): the first enabled
        rule whose repository selector matches the repository (without the project) and whose
        tag selector matches the tag."""
        project, _, inner = repo_name.partition("/")
        for rule in self.projects[project].immutable_rules if project in self.projects else []:
            if rule["disabled"]:
                continue
            repo_sel = rule["scope_selectors"]["repository"][0]
            repo_hit = doublestar(repo_sel["pattern"], inner)
            if repo_sel["decoration"] == "repoExcludes":
                repo_hit = not repo_hit
            tag_sel = rule["tag_selectors"][0]
            tag_hit = doublestar(tag_sel["pattern"], tag)
            if tag_sel["decoration"] == "excludes":
                tag_hit = not tag_hit
            if repo_hit and tag_hit:
                return True
        return False

    def can(self, who: Principal | None, project: str, perm: str) -> bool:
        proj = self.projects.get(project)
        if proj is None:
            return False
        if who is not None and who.sysadmin:
            return True
        if proj.public and perm in _READ:
            return True
        return who is not None and perm in who.perms.get(project, set())

    # -- VendorRules for /v2 --------------------------------------------------------------------

    def challenge(self, request: Request, name: str, actions: str) -> Response:
        realm = f"{str(request.base_url).rstrip('/')}/service/token"
        value = f'Bearer realm="{realm}",service="{SERVICE}"'
        if name:
            value += f',scope="repository:{name}:{actions}"'
        return v2_error(
            401, "UNAUTHORIZED", "unauthorized to access repository", **{"WWW-Authenticate": value}
        )

    def check_push(self, repo: Repo, tag: str) -> Response | None:
        if tag in repo.tags and self.immutable(repo.name, tag):
            return v2_error(
                412,
                "PRECONDITION",
                f"Failed to process request due to '{repo.name}:{tag}' configured as immutable.",
            )
        return None

    def delete_manifest(self, repo: Repo, reference: str) -> Response:
        if not reference.startswith("sha256:"):
            return v2_error(400, "UNSUPPORTED", f"unsupported digest {reference}")
        art = repo.manifests.get(reference)
        if art is None:
            return v2_error(404, "NOT_FOUND", f"artifact {repo.name}@{reference} not found")
        refused = self._delete_artifact(repo, art)
        if refused is not None:
            return v2_error(refused.status_code, *_first_error(refused))
        return Response(status_code=202)

    def visible(self, repo: Repo, digest: str) -> bool:
        return digest in repo.manifests  # every artifact in Harbor's database

    def may_catalog(self, grant: Grant | None, name: str) -> bool:
        if grant is None:
            return False
        who = self.principals.get(grant.principal)
        return self.can(who, name.partition("/")[0], "repository:pull")

    # -- the token service ------------------------------------------------------------------

    def _basic(self, request: Request) -> tuple[Principal | None, bool]:
        """(principal, credentials_given); a wrong secret is (None, True)."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, False
        try:
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, True
        who = self.principals.get(user)
        if who is None or who.secret != secret:
            return None, True
        return who, True

    async def token(self, request: Request) -> Response:
        who, given = self._basic(request)
        if given and who is None:
            return error(401, "UNAUTHORIZED", "authentication failed")
        wanted = parse_scopes(request.query_params.getlist("scope"))
        access: dict[str, frozenset[str]] = {}
        for name, actions in wanted.items():
            project = name.partition("/")[0]
            ok = {
                a
                for a in actions
                if a in ("pull", "push", "delete", "*")
                and self.can(who, project, f"repository:{a}")
            }
            access[name] = frozenset(ok)
        token = self.tokens.issue(Grant(who.name if who else "", access))
        return JSONResponse(
            {
                "token": token,
                "access_token": token,
                "expires_in": 1800,
                "issued_at": harbor_time(self.store.clock()),
            }
        )

    # -- the API ------------------------------------------------------------------------------

    def _api_principal(self, request: Request) -> tuple[Principal | None, Response | None]:
        who, given = self._basic(request)
        if given and who is None:
            return None, error(401, "UNAUTHORIZED", "unauthorized")
        return who, None

    def _require(self, who: Principal | None, project: str, perm: str) -> Response | None:
        if project not in self.projects:
            return error(404, "NOT_FOUND", f"project {project} not found")
        if self.can(who, project, perm):
            return None
        if who is None:
            return error(401, "UNAUTHORIZED", "unauthorized")
        return error(403, "FORBIDDEN", "forbidden")

    def _guard(self, request: Request, project: str, perm: str) -> Response | None:
        """Harbor's RequireProjectAccess: the login, then the permission in the project."""
        who, refused = self._api_principal(request)
        return refused or self._require(who, project, perm)

    def _repo_path(self, request: Request) -> tuple[str, str]:
        project = request.path_params["project"]
        # the repository name arrives encoded twice ("a%252Fb"); the router decoded it once
        inner = urllib.parse.unquote(request.path_params["repo"])
        return project, f"{project}/{inner}"

    def _artifact_json(
        self, repo: Repo, art: Manifest, *, with_tag: bool, with_immutable: bool
    ) -> dict[str, Any]:
        project = self.projects[repo.name.partition("/")[0]]
        tags = None
        if with_tag:
            rows = repo.tags_on(art.digest)
            tags = [
                {
                    "id": t.id,
                    "repository_id": project.id * 1000 + 1,
                    "artifact_id": art.id,
                    "name": t.name,
                    "push_time": harbor_time(t.pushed),
                    "pull_time": harbor_time(t.pulled),
                    "immutable": with_immutable and self.immutable(repo.name, t.name),
                }
                for t in rows
            ] or None
        references = [
            {
                "parent_id": art.id,
                "child_id": repo.manifests[d].id if d in repo.manifests else 0,
                "child_digest": d,
                "platform": platform,
                "annotations": None,
                "urls": None,
            }
            for d, platform in art.children
        ] or None
        extra: dict[str, Any] = {}
        if art.config:
            extra = {
                "architecture": art.config.get("architecture", ""),
                "os": art.config.get("os", ""),
                "created": art.config.get("created", ""),
                "author": art.config.get("author", ""),
                "config": art.config.get("config", {}),
            }
        return {
            "id": art.id,
            "type": "IMAGE",
            "media_type": art.media_type if art.is_index else art.config_media_type,
            "manifest_media_type": art.media_type,
            "project_id": project.id,
            "repository_id": project.id * 1000 + 1,
            "repository_name": repo.name,
            "digest": art.digest,
            "size": art.size,
            "icon": "",
            "push_time": harbor_time(art.pushed),
            "pull_time": harbor_time(art.pulled),
            "extra_attrs": extra,
            "annotations": None,
            "references": references,
            "tags": tags,
            "addition_links": {},
            "labels": None,
            "accessories": None,
        }

    async def list_artifacts(self, request: Request) -> Response:
        project, name = self._repo_path(request)
        refused = self._guard(request, project, "artifact:list")
        if refused:
            return refused
        q = request.query_params
        try:
            page = int(q.get("page", "1"))
            size = int(q.get("page_size", "10"))
        except ValueError:
            return error(422, "UNPROCESSABLE_ENTITY", "page and page_size must be integers")
        if size > 100:
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                "page_size in query should be less than or equal to 100",
            )
        if page < 1 or size < 1:
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                "page and page_size should be greater than or equal to 1",
            )
        with_tag = q.get("with_tag", "true") != "false"
        with_immutable = q.get("with_immutable_status", "false") == "true"
        with self.store.lock:
            repo = self.store.repo(name)
            if repo is None:
                return error(404, "NOT_FOUND", f"repository {name} not found")
            listed = [
                a
                for a in repo.manifests.values()
                if repo.tags_on(a.digest) or not repo.parents_of(a.digest)
            ]
            listed.sort(key=lambda a: (a.pushed, a.id), reverse=True)
            total = len(listed)
            chunk = listed[(page - 1) * size : page * size]
            body = [
                self._artifact_json(repo, a, with_tag=with_tag, with_immutable=with_immutable)
                for a in chunk
            ]
        links = []
        # Harbor builds the links from the request URL as sent (the name still encoded)
        base = request.scope.get("raw_path", b"").decode() or request.url.path
        others = [(k, v) for k, v in q.multi_items() if k not in ("page", "page_size")]

        def at(n: int) -> str:
            query = urllib.parse.unquote(
                urllib.parse.urlencode([*others, ("page", str(n)), ("page_size", str(size))])
            )
            return f"{base}?{query}"

        if page > 1 and (page - 1) * size < total:
            links.append(f'<{at(page - 1)}>; rel="prev"')
        if size * page < total:
            links.append(f'<{at(page + 1)}>; rel="next"')
        headers = {"X-Total-Count": str(total)}
        if links:
            headers["Link"] = " , ".join(links)
        return JSONResponse(body, headers=headers)

    def _find(self, repo: Repo, reference: str) -> Manifest | None:
        if reference.startswith("sha256:"):
            return repo.manifests.get(reference)
        row = repo.tags.get(reference)
        return repo.manifests.get(row.digest) if row else None

    async def get_artifact(self, request: Request) -> Response:
        project, name = self._repo_path(request)
        refused = self._guard(request, project, "artifact:read")
        if refused:
            return refused
        reference = request.path_params["reference"]
        with self.store.lock:
            repo = self.store.repo(name)
            art = self._find(repo, reference) if repo else None
            if repo is None or art is None:
                return error(404, "NOT_FOUND", f"artifact {name}:{reference} not found")
            q = request.query_params
            return JSONResponse(
                self._artifact_json(
                    repo,
                    art,
                    with_tag=q.get("with_tag", "true") != "false",
                    with_immutable=q.get("with_immutable_status", "false") == "true",
                )
            )

    async def delete_tag(self, request: Request) -> Response:
        project, name = self._repo_path(request)
        refused = self._guard(request, project, "tag:delete")
        if refused:
            return refused
        reference, tag = request.path_params["reference"], request.path_params["tag"]
        with self.store.lock:
            repo = self.store.repo(name)
            art = self._find(repo, reference) if repo else None
            if repo is None or art is None:
                return error(404, "NOT_FOUND", f"artifact {name}:{reference} not found")
            row = repo.tags.get(tag)
            if row is None or row.digest != art.digest:
                return error(404, "NOT_FOUND", f"tag {tag} attached to artifact {art.id} not found")
            if self.immutable(name, tag):
                return error(
                    412, "PRECONDITION", f"the tag {tag} configured as immutable, cannot be deleted"
                )
            del repo.tags[tag]
        return Response(status_code=200)

    def _delete_artifact(self, repo: Repo, art: Manifest) -> JSONResponse | None:
        """Harbor's deleteDeeply for a root artifact, all or nothing (one transaction)."""
        if repo.parents_of(art.digest):
            return error(
                412,
                "VIOLATE_FOREIGN_KEY_CONSTRAINT",
                "the deleting artifact is referenced by others",
            )
        for row in repo.tags_on(art.digest):
            if self.immutable(repo.name, row.name):
                return error(
                    412,
                    "PRECONDITION",
                    f"the tag {row.name} configured as immutable, cannot be deleted",
                )
        for row in repo.tags_on(art.digest):
            del repo.tags[row.name]
        del repo.manifests[art.digest]
        for child, _ in art.children:
            if child in repo.manifests and not repo.tags_on(child) and not repo.parents_of(child):
                del repo.manifests[child]
        return None

    async def delete_artifact(self, request: Request) -> Response:
        project, name = self._repo_path(request)
        refused = self._guard(request, project, "artifact:delete")
        if refused:
            return refused
        reference = request.path_params["reference"]
        with self.store.lock:
            repo = self.store.repo(name)
            art = self._find(repo, reference) if repo else None
            if repo is None or art is None:
                return error(404, "NOT_FOUND", f"artifact {name}:{reference} not found")
            return self._delete_artifact(repo, art) or Response(status_code=200)

    async def get_project(self, request: Request) -> Response:
        who, refused = self._api_principal(request)
        if refused:
            return refused
        name = request.path_params["project"]
        # Harbor: RequireProjectAccess(project, read) — any member or robot of the project
        # (a robot's implicit project read is what Harbor's UI relies on; not in the swagger)
        if name in self.projects and who is not None and who.perms.get(name):
            refused = None
        else:
            refused = self._require(who, name, "repository:list")
        if refused:
            return refused
        p = self.projects[name]
        metadata = {"public": "true" if p.public else "false"}
        if p.retention_id is not None:
            metadata["retention_id"] = str(p.retention_id)
        return JSONResponse(
            {
                "project_id": p.id,
                "name": p.name,
                "metadata": metadata,
                "repo_count": sum(1 for r in self.store.repos if r.startswith(name + "/")),
            }
        )

    async def list_repositories(self, request: Request) -> Response:
        name = request.path_params["project"]
        refused = self._guard(request, name, "repository:list")
        if refused:
            return refused
        with self.store.lock:
            repos = [r for n, r in sorted(self.store.repos.items()) if n.startswith(name + "/")]
            body = [
                {
                    "id": i + 1,
                    "project_id": self.projects[name].id,
                    "name": r.name,
                    "artifact_count": len(r.manifests),
                    "pull_count": 0,
                }
                for i, r in enumerate(repos)
            ]
        return JSONResponse(body, headers={"X-Total-Count": str(len(body))})

    async def immutable_rules(self, request: Request) -> Response:
        name = request.path_params["project"]
        refused = self._guard(request, name, "immutable-tag:list")
        if refused:
            return refused
        rules = self.projects[name].immutable_rules
        return JSONResponse(rules, headers={"X-Total-Count": str(len(rules))})

    async def retention(self, request: Request) -> Response:
        who, refused = self._api_principal(request)
        if refused:
            return refused
        policy = self.retentions.get(int(request.path_params["id"]))
        if policy is None:
            return error(404, "NOT_FOUND", "retention policy not found")
        project = next(p.name for p in self.projects.values() if p.id == policy["scope"]["ref"])
        refused = self._require(who, project, "tag-retention:read")
        return refused or JSONResponse(policy)

    async def permissions(self, request: Request) -> Response:
        who, refused = self._api_principal(request)
        if refused:
            return refused
        if who is None:
            return error(401, "UNAUTHORIZED", "UnAuthorize")
        scope = request.query_params.get("scope", "")
        match = re.fullmatch(r"/project/(\d+)", scope)
        project = next((p for p in self.projects.values() if match and p.id == int(match[1])), None)
        if project is None:
            return JSONResponse([])
        granted = (
            sorted(who.perms.get(project.name, set()))
            if not who.sysadmin
            else sorted(ROLES["projectAdmin"])
        )
        relative = request.query_params.get("relative", "false") == "true"
        out = []
        for perm in granted:
            resource, _, action = perm.partition(":")
            out.append(
                {"resource": resource if relative else f"{scope}/{resource}", "action": action}
            )
        return JSONResponse(out)

    async def current_user(self, request: Request) -> Response:
        who, refused = self._api_principal(request)
        if refused:
            return refused
        if who is None:
            return error(401, "UNAUTHORIZED", "UnAuthorize")
        if who.robot:
            return error(
                412, "PRECONDITION", "get current user not available for security context: robot"
            )
        return JSONResponse({"user_id": 1, "username": who.name, "sysadmin_flag": who.sysadmin})

    async def systeminfo(self, request: Request) -> Response:
        return JSONResponse(
            {
                "harbor_version": VERSION,
                "auth_mode": "db_auth",
                "with_notary": False,
                "registry_url": request.url.netloc,
            }
        )

    async def not_found(self, request: Request) -> Response:
        return error(404, "NOT_FOUND", f"{request.url.path} not found")

    def app(self) -> Any:
        base = "/api/v2.0"
        art = base + "/projects/{project}/repositories/{repo}/artifacts"
        routes = [
            Route("/service/token", self.token, methods=["GET"]),
            Route(base + "/systeminfo", self.systeminfo, methods=["GET"]),
            Route(base + "/users/current", self.current_user, methods=["GET"]),
            Route(base + "/users/current/permissions", self.permissions, methods=["GET"]),
            Route(base + "/retentions/{id:int}", self.retention, methods=["GET"]),
            Route(base + "/projects/{project}", self.get_project, methods=["GET"]),
            Route(
                base + "/projects/{project}/repositories", self.list_repositories, methods=["GET"]
            ),
            Route(
                base + "/projects/{project}/immutabletagrules",
                self.immutable_rules,
                methods=["GET"],
            ),
            Route(art, self.list_artifacts, methods=["GET"]),
            Route(art + "/{reference}", self.get_artifact, methods=["GET"]),
            Route(art + "/{reference}", self.delete_artifact, methods=["DELETE"]),
            Route(art + "/{reference}/tags/{tag}", self.delete_tag, methods=["DELETE"]),
            *self.front.routes(),
            Route(base + "/{rest:path}", self.not_found, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
        return self.throttle.wrap(Starlette(routes=routes, lifespan=self.front.lifespan))


def _first_error(response: JSONResponse) -> tuple[str, str]:
    import json

    body = json.loads(bytes(response.body))
    return body["errors"][0]["code"], body["errors"][0]["message"]
