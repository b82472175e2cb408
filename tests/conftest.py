"""Suite-wide setting: no test reaches the internet.

`webuse`/`sysuse`/`bcuse` fetch datasets that are not shipped from Stata Press's web folder; here that
folder is a closed local port, so those commands fail the same way (r(677)) on every machine,
online or not. tests/test_webuse.py serves real files from a local HTTP server instead.
"""
import os

os.environ["HLMSHELL_WEBUSE_PREFIX"] = "http://127.0.0.1:9/data"
os.environ["HLMSHELL_BCUSE_PREFIX"] = "http://127.0.0.1:9/bc"
