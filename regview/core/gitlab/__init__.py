"""GitLab's REST API: projects behind registry paths, tag deletion, cleanup, identity."""
