"""Layer 3: turning machine code into something Python can call.

``NativeFunction`` wraps code with a C signature through ctypes; ``status``
defines how compiled kernels report exceptions to whoever called them.
"""

from minijit.native.function import NativeFunction
from minijit.native.signature import Signature, parse_signature

__all__ = ["NativeFunction", "Signature", "parse_signature"]
