"""Transcript-level consequences of VCF alleles, following ``bcftools csq -l`` (local mode).

    from anntools.csq import TranscriptAnnotator
    ann = TranscriptAnnotator.from_files("genes.gff3", "ref.fa")
    ann.annotate("chr1", 103, "G", "A")   # 1-based POS, one ALT allele

Modules: ``gff3`` (gene models), ``fasta`` (reference access), ``codons``
(genetic codes), ``splice`` and ``coding`` (the consequence logic),
``collector`` (merging and printing like bcftools), ``engine`` (lookup),
``haplotype`` (bcftools csq's default, haplotype-aware calls) and ``stream``
(those calls over a stream of chunks, holding only what a transcript reaches).
"""

from anntools.csq.engine import TranscriptAnnotator, normalize_chrom

__all__ = ["TranscriptAnnotator", "normalize_chrom"]
