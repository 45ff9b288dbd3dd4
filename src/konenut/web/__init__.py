"""Static web pages served by the API (no build step): enrollment for now."""
