"""nightcare's service core: domain, persistence, API and CLI."""
