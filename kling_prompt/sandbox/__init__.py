"""A local fal-compatible server for offline tests and dry runs."""
