"""The embedded registry: spec + Starlette/uvicorn + SQLite. Never imports core, settings or ui.

Modules
    storage    BlobStore: content-addressed files, uploads renamed in after the digest checks out
    metadata   Metadata: SQLite (WAL, `user_version` migrations, refuses newer schemas)
    registry   Registry: every operation (push/pull/delete/uploads/referrers) + the query API below
    app        create_app(): the OCI Distribution 1.1 HTTP API
    auth       Authorizer protocol, Access, Principal; AllowAll and HtpasswdAuthorizer (bcrypt)
    gc         collect(): mark and sweep with a review delay; reports bytes freed
    demo       seed(): a believable demo registry
    runner     LocalRegistry: uvicorn in a background thread (the GUI, the tests, `regview serve`)
    errors     RegistryError (→ OCI error body), AuthenticationRequired, AccessDenied, StoreError

Extension points (for the GitLab-instance modules `gitlab_*.py`)
    Authorization — `auth.Authorizer`:
        async def authorize(self, request, access: Sequence[Access]) -> Principal
    called by every /v2 route with what it needs, e.g. `[Access("repository", "a/b", ("pull",))]`,
    `("repository", name, ("pull", "push"))` for pushes (+ pull on `from` for a mount),
    `("repository", name, ("delete",))`, `("registry", "catalog", ("*",))`, `[]` for `GET /v2/`.
    Raise `errors.AuthenticationRequired(challenge)` → 401 UNAUTHORIZED with that
    `WWW-Authenticate`, or `errors.AccessDenied(message)` → 403 DENIED.

    Extra routes — `app.create_app(config, *, registry=None, authorizer=None, extra_routes=())`:
    `extra_routes` (Starlette routes: `/jwt/auth`, `/api/v4/...`) are matched before `/v2`.
    `request.app.state.registry` is the `Registry`.

    `--auth token` — `runner.LocalRegistry(auth="token")` and `regview serve --auth token` import
    `regview.server.gitlab.app` and call
        token_setup(registry: Registry, config: ServerConfig) -> tuple[Authorizer, Sequence[BaseRoute]]
    (the token realm is the configured public URL's, else the address each connection arrived
    at, since the port is known only once bound; never the request's Host header). Until that module exists, `--auth token` fails with a clear message.

    Query/mutation API on `registry.Registry` (synchronous, thread-safe; from async code call
    them with `anyio.to_thread.run_sync`, they are quick indexed SQLite queries):
        list_repositories() -> list[RepositoryRecord(name, created, tag_count)]
        list_tags(name) -> list[TagRecord(name, digest, media_type, config_digest, size,
                                          created, pushed)]
        delete_tag(name, tag) -> bool                  only the tag; GC judges the manifest
        delete_manifest(name, digest) -> bool          the manifest and all its tags
        delete_repository(name) -> int                 all tags/manifests of that path
        subscribe(listener: Callable[[RegistryEvent], None]) -> unsubscribe
            RegistryEvent(action: "push"|"delete_tag"|"delete_manifest"|"delete_repository",
                          repository, digest, tag); called after the change, from the thread
                          that made it — keep listeners quick.
"""
