"""Stage 2, the advertiser's side: normalise a customer file the way one platform takes it,
hash (or key) each identifier with a scheme, and write the upload, its rejects and a
summary (:func:`hash_file`, the library call behind ``matchsim hash``).
"""

from matchsim.upload.write import HashSummary, hash_file, hash_value

__all__ = ["HashSummary", "hash_file", "hash_value"]
