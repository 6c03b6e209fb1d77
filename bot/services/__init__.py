"""Domain services: the rules of the bot, free of Telegram handlers and texts.

A service gets storage, the clock, the scheduler, the configuration and a *notifier* (a
``typing.Protocol`` defined next to it, implemented by the handler capability that renders
the messages and installed at build time). It returns outcomes as dataclasses.
"""
