"""Running GAS on one machine: the AWS emulator, its bootstrap, localstripe and the ``gas`` CLI."""
