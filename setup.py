"""Builds anntools' compiled modules: the record loop, against the htslib headers that pysam
ships, and the default bundle's lookups.

Everything else about the package is in pyproject.toml.
"""

import pysam
from Cython.Build import cythonize
from setuptools import Extension, setup

record_loop = Extension(
    "anntools._recordloop",
    ["anntools/_recordloop.pyx"],
    include_dirs=pysam.get_include(),
    extra_compile_args=["-O2"],
)

# The default bundle's per-record lookups (numpy arrays as typed memoryviews; no headers).
bundle_sites = Extension(
    "anntools._bundlesites", ["anntools/_bundlesites.pyx"], extra_compile_args=["-O2"]
)

setup(ext_modules=cythonize([record_loop, bundle_sites], language_level=3))
