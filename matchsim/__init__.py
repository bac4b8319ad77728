"""matchsim: simulate hashed custom-audience uploads and measure what hashing protects.

The library is the product; the command line (``matchsim.cli``) only parses arguments and
renders what these calls return.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
