"""Deliberately weak schemes, kept to show how they fail.

Nothing here stops an outsider: plain digests of low-entropy identifiers (phone numbers,
common e-mail addresses) are reversed by enumerating candidates at billions of hashes per
second on one GPU (REFERENCE.md §3). Truncation only adds collisions. They are fenced off
in this package the way pyca/cryptography fences off ``decrepit``: importable, labelled
``weak = True``, never a default for anything but teaching.
"""
