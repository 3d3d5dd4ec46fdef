"""The Django project: settings, URLs, the API and the WSGI entry point.

The backend shares code with the agent (the MAC rule, the serial placeholders), which lives in
agent/ so that the inventory image can carry it alone. Put it on the path here, so that every
entry point (manage.py, gunicorn arrow.wsgi, pytest) finds it without PYTHONPATH.
"""

import sys
from pathlib import Path

_AGENT_DIR = str(Path(__file__).resolve().parent.parent / "agent")
if _AGENT_DIR not in sys.path:
    sys.path.append(_AGENT_DIR)
