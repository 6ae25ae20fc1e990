"""Date and number formats that replace Django's own for some languages (FORMAT_MODULE_PATH).

Django looks here first and falls back to its own locale formats for anything not
set, so only what must differ is written down.
"""
