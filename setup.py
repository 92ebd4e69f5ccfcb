"""Builds anntools' compiled modules: the record loop, against the htslib headers that pysam
ships, and the default bundle's lookups.

The loop is a driver (_recordloop) over three modules linked by their .pxd
files: _parsing (lines and htslib), _tallies (counts) and _rendering (output).
Everything else about the package is in pyproject.toml.
"""

import pysam
from Cython.Build import cythonize
from setuptools import Extension, setup

RECORD_LOOP_MODULES = ("_parsing", "_tallies", "_rendering", "_recordloop")

record_loop = [
    Extension(
        f"anntools.{name}",
        [f"anntools/{name}.pyx"],
        include_dirs=pysam.get_include(),
        extra_compile_args=["-O2"],
    )
    for name in RECORD_LOOP_MODULES
]
# The default bundle's per-record lookups (numpy arrays as typed memoryviews; no headers).
bundle_sites = Extension(
    "anntools._bundlesites", ["anntools/_bundlesites.pyx"], extra_compile_args=["-O2"]
)

setup(ext_modules=cythonize([*record_loop, bundle_sites], language_level=3))
