"""Placeholder, replaced by the text front end."""


def assemble(source: str, address: int = 0) -> bytes:
    raise NotImplementedError
