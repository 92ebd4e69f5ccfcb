"""anntools: the GAS annotation engine. VCF in; annotated VCF, count log, TSV and summary out."""

__version__ = "0.1.0"
