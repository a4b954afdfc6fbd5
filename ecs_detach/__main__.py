"""``python -m ecs_detach``: the same as the ``ecs-detach`` command."""

from ecs_detach.cli import main

raise SystemExit(main())
