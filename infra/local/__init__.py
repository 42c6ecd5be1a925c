"""The embedded local cloud: moto in server mode, the local API, the event pump and the demo seed."""
