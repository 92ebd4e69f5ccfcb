"""Mitochondrial consequences: the transcript engine with the vertebrate mitochondrial code.

The 13 protein-coding genes of the rCRS (NC_012920.1) come as an Ensembl-style
GFF3 (gene + transcript + CDS lines, transcript ID = gene name, biotype
protein_coding); the sequence is ``anntools/resources/rCRS.fa`` (``>MT``).
Several MT CDS end in an incomplete stop (T or TA, completed by
polyadenylation); the engine trims the incomplete codon like bcftools does.

Coordinates follow TranscriptAnnotator: ``annotate`` takes 1-based VCF POS.
"""

from __future__ import annotations

import os
from pathlib import Path

from anntools.csq import TranscriptAnnotator
from anntools.csq.codons import VERTEBRATE_MITOCHONDRIAL

RCRS_FASTA = Path(__file__).resolve().parent / "resources" / "rCRS.fa"


def mito_annotator(
    gff3_path: str | os.PathLike[str], fasta_path: str | os.PathLike[str] = RCRS_FASTA
) -> TranscriptAnnotator:
    """A TranscriptAnnotator using NCBI table 2 everywhere (AGA/AGG stop, ATA Met, TGA Trp)."""
    return TranscriptAnnotator.from_files(
        gff3_path, fasta_path, default_code=VERTEBRATE_MITOCHONDRIAL
    )
