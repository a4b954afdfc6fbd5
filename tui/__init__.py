"""The Textual terminal UI of ecs-detach (`ecs-detach`, `ecs-detach --demo`)."""

from ecs_detach._startup import skip_httpx_cli

skip_httpx_cli()  # an application's choice, made before anything imports httpx
