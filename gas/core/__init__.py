"""The service core: settings, topology, keys, messages, AWS clients and repositories."""
