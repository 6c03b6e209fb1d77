"""A local Telegram Bot API for tests and demos (see :class:`Sandbox`)."""

from bot.sandbox.schema import ApiSchema, Upload, find_schema
from bot.sandbox.server import Sandbox
from bot.sandbox.world import GENERAL_TOPIC, ApiError, Call, SandboxError, World

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
