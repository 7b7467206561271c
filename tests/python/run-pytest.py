#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the binding's pytest suite; exit 77 (skip) when pytest is missing.

usage: run-pytest.py [pytest arguments...]"""
import sys

try:
    import pytest
except ImportError:
    print("SKIP: pytest is not installed (Debian: python3-pytest)")
    sys.exit(77)

sys.exit(pytest.main(["-p", "no:cacheprovider"] + sys.argv[1:]))
