"""The HTTP API and what guards it, mounted on the app's server or run as its own service."""
