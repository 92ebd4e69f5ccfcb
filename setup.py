"""Builds anntools' compiled modules against the htslib headers that pysam ships.

The record loop and the default bundle's lookups are .pyx modules. The
transcript engine (anntools/csq) and a full bundle's per-entry path
(anntools/full_annotation.py and the HGVS modules) are plain, mypy-checked
Python that Cython compiles as it is: the .py files stay the readable
reference and the import picks the extension module built from them. A .pxd
beside one of them ("augmenting" declarations) gives its small per-call
classes C attributes.

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
# The default bundle's per-record lookups (numpy arrays as typed memoryviews); they render
# entries for the record loop, so they read _rendering.pxd (and the htslib headers under it).
bundle_sites = Extension(
    "anntools._bundlesites",
    ["anntools/_bundlesites.pyx"],
    include_dirs=pysam.get_include(),
    extra_compile_args=["-O2"],
)

# The engine's modules on the per-record path (stream reads records, haplotype combines
# them, engine/coding/splice/collector call them, gff3 holds the interval lists, fasta
# reads the reference).
ENGINE_MODULES = (
    "codons",
    "collector",
    "fasta",
    "gff3",
    "splice",
    "snv_codon",
    "coding",
    "engine",
    "haplotype",
    "stream",
)
engine = [
    Extension(f"anntools.csq.{name}", [f"anntools/csq/{name}.py"], extra_compile_args=["-O2"])
    for name in ENGINE_MODULES
]

# A full bundle's per-entry path (anntools/full_annotation.py and the HGVS modules it calls),
# compiled as the engine is: plain, mypy-checked Python.
FULL_BUNDLE_MODULES = ("hgvs", "hgvs_shift", "hgvs_protein", "full_annotation")
full_bundle = [
    Extension(f"anntools.{name}", [f"anntools/{name}.py"], extra_compile_args=["-O2"])
    for name in FULL_BUNDLE_MODULES
]

setup(ext_modules=cythonize([*record_loop, bundle_sites, *engine, *full_bundle], language_level=3))
