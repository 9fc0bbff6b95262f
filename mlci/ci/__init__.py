"""Continuous integration: the CI context (GitHub, GitLab, local) and the run of all phases."""
