"""Journals as a killed process left them: its intents are pending (not in flight), as after a crash."""

from __future__ import annotations

import os
import socket

from ecs_detach.journal import Owner

# This pid with another start time: a process that once had it and is gone.
KILLED = Owner(socket.gethostname(), os.getpid(), started=0.0)
