"""Domain services: the rules of the bot, free of Telegram handlers and texts.

A service gets storage, the clock, the scheduler, the configuration and a *notifier* (a
``typing.Protocol`` defined next to it, implemented by the handler capability that renders
the messages and installed at build time). It returns outcomes as dataclasses.

- ``appointments``: booking, moving, cancelling, the waiting list, reminders, cascades
- ``requests``: residents' requests as staff handle them (claim, close, reopen, bans, answers)
- ``topics``: the resident's forum topic in the staff group and which message is whose
- ``privacy``: a resident's export and erasure, the retention purge
- ``calendar``: calendar files for appointments
"""
