"""Write mitochondrial protein-coding genes as Ensembl-style GFF3 for a csq engine.

The layout is what bcftools csq reads: a ``gene`` line (``ID=gene:NAME``),
one ``transcript`` line (``ID=transcript:NAME;Parent=gene:NAME``), then
``exon`` and ``CDS`` lines (``Parent=transcript:NAME``). Coordinates are
1-based closed, as GFF3 requires; the seqid is ``MT`` to match the rCRS FASTA.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RCRS_LENGTH = 16569


@dataclass(frozen=True)
class CodingGene:
    """One gene's CDS pieces as 1-based closed (start, end) pairs, in any order."""

    name: str
    strand: str
    biotype: str
    cds: Sequence[tuple[int, int]]


def cds_phases(cds: Sequence[tuple[int, int]], strand: str) -> list[tuple[int, int, int]]:
    """(start, end, phase) per CDS piece, in transcription order.

    GFF3 phase is the number of bases to skip at the piece's 5' end (on its
    strand) before the next codon starts: 0 for the first piece, then
    ``(3 - bases_so_far % 3) % 3``.
    """
    ordered = sorted(cds, reverse=(strand == "-"))
    pieces = []
    coding_bases = 0
    for start, end in ordered:
        pieces.append((start, end, (3 - coding_bases % 3) % 3))
        coding_bases += end - start + 1
    return pieces


def mt_gff3(genes: Iterable[CodingGene], seqid: str = "MT") -> str:
    """The GFF3 text for ``genes``: one transcript per gene, one exon per CDS piece."""
    lines = ["##gff-version 3", f"##sequence-region {seqid} 1 {RCRS_LENGTH}"]
    for gene in sorted(genes, key=lambda g: min(g.cds)):
        lines.extend(_gene_lines(gene, seqid))
    return "\n".join(lines) + "\n"


def _gene_lines(gene: CodingGene, seqid: str) -> list[str]:
    start = min(s for s, _ in gene.cds)
    end = max(e for _, e in gene.cds)
    name, biotype = gene.name, gene.biotype

    def row(kind: str, lo: int, hi: int, phase: str, attributes: str) -> str:
        return "\t".join(
            (seqid, "anntools", kind, str(lo), str(hi), ".", gene.strand, phase, attributes)
        )

    transcript = f"transcript:{name}"
    lines = [
        row("gene", start, end, ".", f"ID=gene:{name};Name={name};biotype={biotype}"),
        row(
            "transcript",
            start,
            end,
            ".",
            f"ID={transcript};Parent=gene:{name};Name={name};biotype={biotype}",
        ),
    ]
    # No UTRs are modelled (mitochondrial mRNAs have next to none), so each
    # exon is exactly its CDS piece.
    for lo, hi, phase in sorted(cds_phases(gene.cds, gene.strand)):
        lines.append(row("exon", lo, hi, ".", f"Parent={transcript}"))
        lines.append(row("CDS", lo, hi, str(phase), f"ID=CDS:{name};Parent={transcript}"))
    return lines
