"""The JSON model file: envelope and checksum, classifier codec, binarizer codec.

Deliberately empty: importing one codec (the binarizer imports its own) must
not pull in the others. The public functions are re-exported by
:mod:`sk_riskscore` from :mod:`sk_riskscore._io._envelope`.
"""
