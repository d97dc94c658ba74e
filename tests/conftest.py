from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Test helpers shared by test folders (imported as plain modules).
sys.path.insert(0, str(Path(__file__).parent / "lint"))
# A private cache so runs never read a stale compiled rule set from the user's cache.
os.environ.setdefault("KLING_PROMPT_CACHE_DIR", tempfile.mkdtemp(prefix="kp-cache-"))
