import sys

from kling_prompt.cli import main

sys.exit(main())
