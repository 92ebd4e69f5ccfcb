"""anntools: the GAS annotation engine. VCF in; annotated VCF, count log, TSV and summary out."""

import os

__version__ = "0.1.0"

# anntools does no linear algebra, but numpy loads OpenBLAS, whose thread per core spins
# for a while after start-up and takes CPU from the record loop's worker processes.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
