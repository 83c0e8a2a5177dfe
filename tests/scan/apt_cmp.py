#!/usr/bin/python3
"""Reads "A<tab>B" lines and prints the sign of apt_pkg.version_compare(A, B), one per line: the
reference tests/unit/test_scan_dpkg.c holds cmsd's Debian comparator to (python3-apt)."""
import sys

import apt_pkg

apt_pkg.init_system()
out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    c = apt_pkg.version_compare(a, b)
    out.append("-1" if c < 0 else "1" if c > 0 else "0")
sys.stdout.write("\n".join(out) + ("\n" if out else ""))
