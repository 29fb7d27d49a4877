"""Claude Code capture hook: records the hook input in the local spool; prints nothing, always exits 0."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

try:
    from omniclaude.hook import main
except BaseException:
    sys.stderr.write("omniclaude: cannot import the capture hook\n")
    os._exit(0)
os._exit(main())
