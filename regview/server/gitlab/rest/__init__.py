"""GitLab's REST API (`/api/v4`) as the embedded instance serves it."""
