"""pytest plugin: the ``fal_sandbox`` fixture (see kling_prompt.sandbox)."""
