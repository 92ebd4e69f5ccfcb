"""Business logic the web app, the CLI and the workers call: submission, cold storage."""
