"""The embedded GitLab instance: users, projects, tokens, JWT auth, cleanup policies."""
