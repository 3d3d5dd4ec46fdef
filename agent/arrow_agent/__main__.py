"""``python3 -m arrow_agent``: see arrow_agent.cli."""

from arrow_agent.cli import main

raise SystemExit(main())
