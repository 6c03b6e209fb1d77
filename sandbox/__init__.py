"""A local Telegram Bot API for tests and demos (see :class:`Sandbox`)."""

from sandbox.schema import ApiSchema, Upload, find_schema
from sandbox.server import Sandbox
from sandbox.world import GENERAL_TOPIC, ApiError, Call, SandboxError, World

__all__ = [
    "GENERAL_TOPIC",
    "ApiError",
    "ApiSchema",
    "Call",
    "Sandbox",
    "SandboxError",
    "Upload",
    "World",
    "find_schema",
]
