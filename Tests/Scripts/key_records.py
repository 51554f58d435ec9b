"""The public keys the DKIM and ARC scripts take on their command line (NAME=TXT, NAME being
selector._domainkey.domain), served to dkimpy as its DNS answers."""


def records(specs):
    """NAME=TXT arguments as a dictionary from normalised name to TXT bytes."""
    table = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        table[normalised(name)] = value.encode()
    return table


def normalised(name):
    """A DNS name as dkimpy may ask for it (bytes or text, any case, with or without the dot)."""
    if isinstance(name, bytes):
        name = name.decode()
    return name.rstrip(".").lower() + "."
