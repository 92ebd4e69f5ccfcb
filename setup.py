"""Builds anntools' compiled record loop against the htslib headers that pysam ships.

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

setup(ext_modules=cythonize([record_loop], language_level=3))
