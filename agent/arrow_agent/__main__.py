"""``python3 -m arrow_agent``: see arrow_agent.cli.

The image's own run listens for LLDP from here on, before the CLI and everything it imports
load (seconds under emulation): see arrow_agent.lldp_early.
"""

import os

from arrow_agent import lldp_early

early_lldp = lldp_early.start_for_image_run(os.environ)

from arrow_agent.cli import main  # noqa: E402 - after the listener has started

raise SystemExit(main(early_lldp=early_lldp))
