"""A stateful emulator of the Alibaba Cloud ECS API."""
