"""The GAS service: settings, AWS access, repositories, messages and the queue handlers."""
