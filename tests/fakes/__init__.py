"""Loopback fakes of the GitHub and GitLab REST APIs, and helpers to drive syncd against them."""
