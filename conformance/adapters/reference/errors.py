class RefError(Exception):
    """A rejection with one of the protocol's error kinds."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class Unsupported(Exception):
    """Input the reference cannot handle; answered as ``unsupported``."""
