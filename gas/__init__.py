"""GAS, the Genomics Annotation Service: the service around the anntools engine.

Layers (docs/architecture.md): ``core`` (settings, topology, keys, messages, AWS clients,
repositories), ``services`` (what the web app and the CLI call), ``workers`` (one module per
queue and the poll loop), ``web`` (the Bottle app) and ``local`` (the emulator, its bootstrap
and the ``gas`` dev CLI).
"""
