"""Domain services: storage, clock and a notifier in; outcomes out; never handlers."""
