"""The Jupyter server extension: the registry over an authenticated REST API."""
