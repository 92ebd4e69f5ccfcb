# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The default bundle's per-record lookups, compiled.

``GrchSites(bundle)`` gives the entries and the common rsID of a record placed
on GRCh38, as anntools.pipeline.GeneLevelSites would from Bundle.gene_hits,
Bundle.mane_transcripts and Bundle.rsid one Python call at a time. Here each
lookup is a binary search over the bundle's sorted arrays (typed memoryviews
of the memory-mapped .npy files), and entries are shared where they can be:

- a position inside genes only (exon, intron, UTR...) gets its set's entries,
  whose templates (all fields but the allele and distance) are kept per set;
- a position up- or downstream of genes, or between them, gets entries made
  from templates kept per (gene, region), with its distance;
- a position a MANE Select transcript reaches gets the transcript's entry
  here when the change lies deep in an intron (most do), is a one-base
  substitution at an intron's splice sites or region, or is a one-base
  substitution in an exon away from splice sites and codons (HGVS positions
  from the transcript's exonic bases before each exon and its coding ends), or
  lies up- or downstream of it, else from anntools.mane.mane_entry. Transcripts
  are read from the bundle's arrays; their Python form (Bundle.transcript) is
  made only for mane_entry.

For the record loop (``__call__``, ``rendered_entries``), entries that differ
from record to record only by a distance or an HGVS c. come rendered
(_rendering.RenderedEntry): their other fields are rendered once per gene
region, intron or exon. The module cimports _rendering, which calls htslib: import
anntools.recordloop (which loads htslib) first.

The Bundle methods stay the general API (chrM, BCSQ-compatible mode, intervals
that cross several segments) and are the reference these lookups are tested
against (tests/unit/test_bundlesites.py).
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t

import numpy as np

from anntools._rendering cimport RenderedEntry

from dataclasses import replace

from anntools.annotation import ENTRY_FIELDS, Entry, entry_from_hit, entry_of_gene
from anntools.bundle import format as fmt
from anntools.bundle.format import FLANK_BP
from anntools.hgvs import reverse_complement
from anntools.mane import (
    MANE_BIOTYPE, SPLICE_EXONIC_BP, SPLICE_INTRONIC_BP, SPLICE_SITE_BP, mane_entry,
)
from anntools.model import REGIONS

cdef int LAST_INSIDE = fmt.INTRON  # region codes up to this one mean "inside the gene"
cdef int INTERGENIC = fmt.INTERGENIC
cdef int CODE_BITS = fmt.CODE_BITS
cdef int CODE_MASK = fmt.CODE_MASK
cdef Py_ssize_t CACHE_LIMIT = 1 << 16  # kept entries; cleared when reached (indel ALTs vary)
cdef long long SPLICE_REACH = SPLICE_INTRONIC_BP
cdef long long SPLICE_SITE = SPLICE_SITE_BP
cdef long long SPLICE_EXONIC = SPLICE_EXONIC_BP
cdef long long FLANK = FLANK_BP
cdef int DISTANCE = ENTRY_FIELDS.index("Distance")
cdef int HGVSC = ENTRY_FIELDS.index("HGVSc")
cdef frozenset DISTANCE_REGIONS = frozenset(("upstream", "downstream", "intergenic"))
# Per region code (up to CODE_MASK): whether its entries give a distance (DISTANCE_REGIONS).
cdef bint HAS_DISTANCE[16]
assert CODE_MASK < 16
for _code, _region in enumerate(REGIONS):
    HAS_DISTANCE[_code] = _region in DISTANCE_REGIONS
# TSV columns -> INFO item, as annotation.entry_info_tail writes it when no field holds a tab.
cdef bytes INFO_TEXT = bytes.maketrans(b"\t ;=,", b"|_:::")


def _inside_sets(offsets, entries):
    """Per set of the bundle, 1 when every gene of it has a region code of "inside the
    gene" (exon, intron, UTR...), else 0: such a set gives the same hits at every base."""
    outside = np.concatenate(([0], np.cumsum((entries & CODE_MASK) > LAST_INSIDE)))
    return (outside[offsets[1:]] == outside[offsets[:-1]]).astype(np.uint8)


cdef inline Py_ssize_t _bisect_right(
    const int64_t[:] values, Py_ssize_t low, Py_ssize_t high, int64_t x
) noexcept nogil:
    """The first index in [low, high) whose value is > x (high if none)."""
    cdef Py_ssize_t middle
    while low < high:
        middle = (low + high) >> 1
        if x < values[middle]:
            high = middle
        else:
            low = middle + 1
    return low


cdef inline Py_ssize_t _bisect_left(
    const int64_t[:] values, Py_ssize_t low, Py_ssize_t high, int64_t x
) noexcept nogil:
    """The first index in [low, high) whose value is >= x (high if none)."""
    cdef Py_ssize_t middle
    while low < high:
        middle = (low + high) >> 1
        if values[middle] < x:
            low = middle + 1
        else:
            high = middle
    return low


cdef class _Chrom:
    """One GRCh38 chromosome's rows in the bundle's segment, SNP and transcript arrays."""

    cdef str name
    cdef Py_ssize_t seg_first, seg_last  # [first, last) rows of seg_start/seg_set
    cdef Py_ssize_t snp_first, snp_last
    # Bases where the set of MANE transcripts changes, and the bundle rows reaching each
    # stretch from one bound to the next (reader._TranscriptIndex's table).
    cdef const int64_t[:] tx_bounds
    cdef list tx_stretch_rows
    cdef bint has_transcripts


cdef class _Tx:
    """A MANE transcript as the compiled path reads it, straight from the bundle's arrays."""

    cdef Py_ssize_t row  # in the bundle's transcript arrays
    cdef object mane  # its anntools.bundle.reader.ManeTranscript, made when mane_entry needs it
    cdef str id, strand, gene, refseq, prefix
    cdef long long start, end
    cdef Py_ssize_t first, last  # [first, last) rows of its exons in exon_start/exon_end
    cdef bint plus, coding
    cdef long long coding_start, coding_end  # genomic, when coding
    cdef long long coding_first, coding_last  # transcript positions of the coding ends
    cdef long long bases  # exonic bases
    cdef list before  # exonic bases before each exon, in genomic order
    # exon index -> what mane.intron_of says of the intron after it, as a tuple
    cdef dict introns
    cdef dict templates  # exon index -> _Template of changes deep in the intron after it


cdef class _Template:
    """What the entries of one gene region, or of one MANE intron, share: all their fields
    but one (a distance, an HGVS c.), rendered once; ``entry`` holds the shared fields."""

    cdef object entry  # an annotation.Entry; its allele and varying field are placeholders
    cdef object counted  # the Entry the record loop counts it as (shared: see GrchSites._counted)
    cdef int field  # the varying one: DISTANCE or HGVSC
    cdef bint renders  # no field holds a tab (else INFO cannot be made from the TSV text)
    cdef bytes tsv_before, tsv_after, info_before, info_after

    def __init__(self, entry, int field, counted):
        fields = entry.fields()
        self.entry, self.field, self.counted = entry, field, counted
        self.renders = not any("\t" in text for text in fields)
        self.tsv_before = "".join(text + "\t" for text in fields[1:field]).encode("utf-8")
        self.tsv_after = "".join("\t" + text for text in fields[field + 1 :]).encode("utf-8")
        self.info_before = b"|" + self.tsv_before.translate(INFO_TEXT)
        self.info_after = self.tsv_after.translate(INFO_TEXT)

    cdef object made(self, str allele, object value, bint rendered):
        """The entry of ``allele`` with ``value`` in the varying field (None: empty): a
        RenderedEntry for the record loop when ``rendered``, else an annotation.Entry."""
        cdef RenderedEntry found
        cdef bytes text
        if not rendered or not self.renders:
            if self.field == DISTANCE:
                return replace(self.entry, allele=allele, distance=value)
            return replace(self.entry, allele=allele, hgvsc=value)
        found = RenderedEntry.__new__(RenderedEntry)
        found.allele = allele.encode("utf-8")
        if value is None:
            found.tsv_tail = self.tsv_before + self.tsv_after
            found.info_tail = self.info_before + self.info_after
        else:
            text = str(value).encode("utf-8")
            found.tsv_tail = self.tsv_before + text + self.tsv_after
            found.info_tail = self.info_before + text.translate(INFO_TEXT) + self.info_after
        found.counted = self.counted
        return found


cdef class _Site:
    """What anntools.annotation.Site holds, for the record loop (lighter to make)."""

    cdef public list entries
    cdef public object rsid
    cdef public tuple grch38
    cdef public bint unmapped

    def __init__(self):
        self.entries = []
        self.rsid = None
        self.grch38 = None
        self.unmapped = False


cdef class GrchSites:
    """Entries and rsIDs of records on GRCh38 from a loaded Bundle (see the module doc)."""

    cdef object bundle
    cdef bint mane
    cdef object grch38_name, fallback
    cdef dict names  # input chromosome -> its GRCh38 name, or None: not answered here
    cdef const int64_t[:] seg_start
    cdef const int32_t[:] seg_set
    cdef const int32_t[:] set_offset
    cdef const int32_t[:] set_entry
    cdef const int32_t[:] gene_start
    cdef const int32_t[:] gene_end
    cdef const int64_t[:] snp_pos
    cdef const uint8_t[:] snp_ref
    cdef const uint8_t[:] snp_alt
    cdef const uint32_t[:] snp_rs
    cdef dict chroms  # GRCh38 name -> _Chrom, or None when the bundle lacks it
    cdef const uint8_t[:] inside  # per set: 1 when all its genes contain its segments
    cdef dict fixed_templates  # set id -> [_Template] of a set inside genes (no distances)
    cdef dict gene_templates  # (gene << CODE_BITS) | region code -> _Template
    cdef dict counted  # (consequence, gene, region) -> Entry (see _counted)
    cdef list gene_names, gene_biotypes, gene_strands
    cdef dict hits  # (gene, code, distance) -> GeneHit
    cdef const int64_t[:] exon_start, exon_end
    cdef const int64_t[:] tx_exon_offset
    cdef const int64_t[:] tx_coding_start, tx_coding_end
    cdef object tx_id, tx_refseq, tx_gene, tx_strand
    cdef dict transcripts  # bundle row -> _Tx

    def __init__(self, bundle, bint mane=True, grch38_name=None, fallback=None):
        """``grch38_name(chrom)`` says which input chromosomes are on GRCh38 as they are (their
        GRCh38 name, else None); records on the others go to ``fallback`` (see __call__)."""
        arrays = bundle.arrays
        self.bundle = bundle
        self.mane = mane
        self.grch38_name = grch38_name or (lambda chrom: None)
        self.fallback = fallback
        self.names = {}
        self.seg_start = arrays["seg_start"]
        self.seg_set = arrays["seg_set"]
        self.set_offset = arrays["set_offset"]
        self.set_entry = arrays["set_entry"]
        self.gene_start = arrays["genes_start"]
        self.gene_end = arrays["genes_end"]
        self.snp_pos = arrays["snp_pos"]
        self.snp_ref = arrays["snp_ref"]
        self.snp_alt = arrays["snp_alt"]
        self.snp_rs = arrays["snp_rs"]
        self.chroms = {}
        self.inside = _inside_sets(arrays["set_offset"], arrays["set_entry"])
        self.fixed_templates = {}
        self.gene_templates = {}
        self.counted = {}
        self.gene_names = bundle.gene_names
        self.gene_biotypes = bundle.gene_biotypes
        self.gene_strands = bundle.gene_strands
        self.hits = {}
        self.exon_start = arrays["exon_start"]
        self.exon_end = arrays["exon_end"]
        self.tx_exon_offset = arrays["tx_exon_offset"]
        self.tx_coding_start = arrays["tx_coding_start"]
        self.tx_coding_end = arrays["tx_coding_end"]
        self.tx_id, self.tx_refseq = arrays["tx_id"], arrays["tx_refseq"]
        self.tx_gene, self.tx_strand = arrays["tx_gene"], arrays["tx_strand"]
        self.transcripts = {}

    def __call__(
        self, str chrom, long long pos, str ref, list alts, bint look_up_rsid, line_no=0
    ):
        """The record loop's site source (see anntools.pipeline.GeneLevelSites): records on
        GRCh38 chromosomes are answered here, the others by ``fallback``. ``line_no`` (the
        record loop's) is not needed here."""
        cdef _Site site
        try:
            name = self.names[chrom]
        except KeyError:
            name = self.names[chrom] = self.grch38_name(chrom)
        if name is None:
            return self.fallback(chrom, pos, ref, alts, look_up_rsid)
        site = _Site.__new__(_Site)  # its fields set here: no Python __init__ call per record
        site.grch38 = (name, pos)
        site.entries = self._entries(name, pos, ref, alts, alts, self.mane, True)
        site.rsid = self._rsid(name, pos, ref, alts) if alts and look_up_rsid else None
        return site

    def entries(self, str chrom, long long pos, str ref, list alts, list lifted_alts, bint mane):
        """The entries of a record at GRCh38 ``chrom``:``pos`` (1-based) with ``ref`` and
        ``lifted_alts``, named by the record's own ``alts``; MANE transcripts unless not
        ``mane``. As GeneLevelSites (VEP spelling) gives them."""
        return self._entries(chrom, pos, ref, alts, lifted_alts, mane, False)

    def rendered_entries(
        self, str chrom, long long pos, str ref, list alts, list lifted_alts, bint mane
    ):
        """``entries``, as the record loop takes them: annotation.Entry objects, and
        RenderedEntry objects (anntools._rendering) for those that differ from record to
        record only by a distance or an HGVS c. (most), which cost far less to make."""
        return self._entries(chrom, pos, ref, alts, lifted_alts, mane, True)

    cdef list _entries(
        self, str chrom, long long pos, str ref, list alts, list lifted_alts, bint mane,
        bint rendered,
    ):
        cdef _Chrom where = self._chrom(chrom)
        cdef long long end = pos + len(ref) - 1
        cdef list found = []
        cdef tuple rows = ()
        cdef int set_id
        if where is None:
            return found
        if mane and where.has_transcripts:
            rows = self._transcript_rows(where, pos, end)
        if rows:
            return self._mane(where, chrom, pos, end, ref, alts, lifted_alts, rows, rendered)
        set_id = self._single_set(where, pos, end)
        if set_id >= 0 and self._inside(set_id):
            for alt in alts:
                found.extend(self._fixed(set_id, alt, pos, end, rendered))
        else:
            for alt in alts:
                found.extend(self._gene_entries(where, chrom, pos, end, alt, None, rendered))
        return found

    def gene_hits(self, str chrom, long long pos, long long end):
        """Bundle.gene_hits(chrom, pos, end) of a GRCh38 chromosome name, with shared hits."""
        cdef _Chrom where = self._chrom(chrom)
        cdef int set_id
        if where is None:
            return []
        set_id = self._single_set(where, pos, end)
        if set_id < 0:
            return self.bundle.gene_hits(chrom, pos, end)
        return self._hits(set_id, pos, end)

    def rsid(self, str chrom, long long pos, str ref, list alts):
        """The rsID of the first ALT with an exact match in the common set (Bundle.rsid)."""
        return self._rsid(chrom, pos, ref, alts)

    cdef object _rsid(self, str chrom, long long pos, str ref, list alts):
        cdef _Chrom where = self._chrom(chrom)
        cdef Py_ssize_t row
        cdef int ref_code, alt_code
        if where is None or len(ref) != 1 or where.snp_first == where.snp_last:
            return None
        row = _bisect_left(self.snp_pos, where.snp_first, where.snp_last, pos)
        if row == where.snp_last or self.snp_pos[row] != pos:  # most records
            return None
        ref_code = ord(ref.upper())
        for alt in alts:
            if len(alt) != 1:
                continue
            alt_code = ord(alt.upper())
            row = _bisect_left(self.snp_pos, where.snp_first, where.snp_last, pos)
            while row < where.snp_last and self.snp_pos[row] == pos:
                if self.snp_ref[row] == ref_code and self.snp_alt[row] == alt_code:
                    return f"rs{self.snp_rs[row]}"
                row += 1
        return None

    # ---------------------------------------------------------------- lookups

    cdef _Chrom _chrom(self, str name):
        cdef _Chrom where
        try:
            return self.chroms[name]
        except KeyError:
            pass
        manifest = self.bundle.manifest
        bundle_name = self.bundle.bundle_chrom(name)
        segments = manifest["segments"]["chroms"].get(bundle_name)
        if segments is None:
            where = None
        else:
            where = _Chrom()
            where.name = name
            where.seg_first, where.seg_last = segments
            where.snp_first, where.snp_last = manifest["snps"]["chroms"].get(bundle_name, (0, 0))
            table = self.bundle.transcript_stretches(bundle_name)
            where.has_transcripts = table is not None
            if table is not None:
                bounds, where.tx_stretch_rows = table
                where.tx_bounds = bounds
        self.chroms[name] = where
        return where

    cdef tuple _transcript_rows(self, _Chrom where, long long pos, long long end):
        cdef Py_ssize_t count = where.tx_bounds.shape[0]
        cdef Py_ssize_t stretch = _bisect_right(where.tx_bounds, 0, count, pos) - 1
        if end != pos and stretch != _bisect_right(where.tx_bounds, 0, count, end) - 1:
            return tuple(self.bundle.mane_transcript_rows(where.name, pos, end))
        return where.tx_stretch_rows[stretch] if stretch >= 0 else ()

    cdef int _single_set(self, _Chrom where, long long pos, long long end):
        """The set of the one segment holding [pos, end], or -1 when it crosses segments."""
        cdef Py_ssize_t first = _bisect_right(self.seg_start, where.seg_first, where.seg_last, pos) - 1
        if end != pos and _bisect_right(self.seg_start, where.seg_first, where.seg_last, end) - 1 != first:
            return -1
        return self.seg_set[first if first >= where.seg_first else where.seg_first]

    cdef inline bint _inside(self, int set_id):
        return self.inside[set_id]

    cdef long long _gap(self, int gene, long long pos, long long end):
        """Bases from [pos, end] to the gene's span; 0 when they overlap (Bundle._gap)."""
        if end < self.gene_start[gene]:
            return self.gene_start[gene] - end
        if pos > self.gene_end[gene]:
            return pos - self.gene_end[gene]
        return 0

    cdef list _raw_hits(self, int set_id, long long pos, long long end):
        """Bundle._hits of one set as (gene, region code, distance) tuples."""
        cdef Py_ssize_t k, first = self.set_offset[set_id], last = self.set_offset[set_id + 1]
        cdef int gene, code, best = -1
        cdef long long gap, best_gap = 0
        if first == last:
            return []
        if (self.set_entry[first] & CODE_MASK) == INTERGENIC:
            best, best_gap = self._nearest(first, last, pos, end)
            return [(best, INTERGENIC, best_gap)]
        found = []
        for k in range(first, last):
            gene, code = self.set_entry[k] >> CODE_BITS, self.set_entry[k] & CODE_MASK
            found.append((gene, code, 0 if code <= LAST_INSIDE else self._gap(gene, pos, end)))
        return found

    cdef (int, long long) _nearest(
        self, Py_ssize_t first, Py_ssize_t last, long long pos, long long end
    ):
        """The gene of set entries [first, last) nearest to [pos, end] (the first of equals),
        and its distance: an intergenic set's hit."""
        cdef Py_ssize_t k
        cdef int gene, best = -1
        cdef long long gap, best_gap = 0
        for k in range(first, last):
            gene = self.set_entry[k] >> CODE_BITS
            gap = self._gap(gene, pos, end)
            if best < 0 or gap < best_gap:
                best, best_gap = gene, gap
        return best, best_gap

    cdef list _hits(self, int set_id, long long pos, long long end):
        """Bundle._hits of one set, as GeneHit objects shared between records."""
        return [self._hit(key) for key in self._raw_hits(set_id, pos, end)]

    cdef object _hit(self, tuple key):
        """The GeneHit of a (gene, region code, distance) key."""
        hit = self.hits.get(key)
        if hit is None:
            if len(self.hits) >= CACHE_LIMIT:
                self.hits.clear()
            hit = self.hits[key] = self.bundle.gene_hit(*key)
        return hit

    # ---------------------------------------------------------------- entries

    cdef list _fixed(self, int set_id, str alt, long long pos, long long end, bint rendered):
        """The entries of a set inside genes, whose hits are the same at every base."""
        cdef _Template template
        templates = self.fixed_templates.get(set_id)
        if templates is None:
            if len(self.fixed_templates) >= CACHE_LIMIT:
                self.fixed_templates.clear()
            templates = self.fixed_templates[set_id] = [
                self._gene_template(gene, code) for gene, code, _ in self._raw_hits(set_id, pos, end)
            ]
        return [template.made(alt, None, rendered) for template in templates]

    cdef list _gene_entries(
        self, _Chrom where, str chrom, long long pos, long long end, str alt, set covered,
        bint rendered,
    ):
        """The gene-level entries of [pos, end], leaving out the genes in ``covered``."""
        cdef int set_id = self._single_set(where, pos, end)
        cdef list found = []
        if set_id < 0:  # the interval crosses segments: merge their sets as the Bundle does
            for hit in self.bundle.gene_hits(chrom, pos, end):
                if not covered or hit.gene not in covered:
                    found.append(entry_from_hit(alt, hit, True))
            return found
        cdef Py_ssize_t k, first = self.set_offset[set_id], last = self.set_offset[set_id + 1]
        cdef int gene, code
        if first == last:
            return found
        if (self.set_entry[first] & CODE_MASK) == INTERGENIC:
            gene, distance = self._nearest(first, last, pos, end)
            if not covered or self.gene_names[gene] not in covered:
                found.append(self._gene_entry(gene, INTERGENIC, distance, alt, rendered))
            return found
        for k in range(first, last):
            gene, code = self.set_entry[k] >> CODE_BITS, self.set_entry[k] & CODE_MASK
            if covered and self.gene_names[gene] in covered:
                continue
            distance = 0 if code <= LAST_INSIDE else self._gap(gene, pos, end)
            found.append(self._gene_entry(gene, code, distance, alt, rendered))
        return found

    cdef object _gene_entry(
        self, int gene, int code, long long distance, str alt, bint rendered
    ):
        """The entry of a hit on ``gene`` in region ``code``, from its region's template."""
        value = distance if HAS_DISTANCE[code] else None
        return self._gene_template(gene, code).made(alt, value, rendered)

    cdef object _counted(self, object entry):
        """An Entry with only what the record loop counts of ``entry`` (consequence, gene,
        region), one per such triple: the loop renders each once for its counts."""
        key = (entry.consequence, entry.gene, entry.region)
        counted = self.counted.get(key)
        if counted is None:
            counted = self.counted[key] = Entry("", *key[:2], "", "", "", key[2])
        return counted

    cdef _Template _gene_template(self, int gene, int code):
        key = (gene << CODE_BITS) | code  # as set_entry packs them: an int hashes cheaply
        template = self.gene_templates.get(key)
        if template is None:
            entry = entry_of_gene(
                "", self.gene_names[gene], self.gene_biotypes[gene], self.gene_strands[gene],
                REGIONS[code], 0, True,
            )
            template = self.gene_templates[key] = _Template(entry, DISTANCE, self._counted(entry))
        return template

    # ---------------------------------------------------------------- MANE transcripts

    cdef list _mane(
        self, _Chrom where, str chrom, long long pos, long long end, str ref, list alts,
        list lifted_alts, tuple rows, bint rendered,
    ):
        """anntools.mane.mane_and_gene_entries of each ALT, compiled (that function is the
        reference), with one-base substitutions deep in an intron made here."""
        cdef list found_all = [], found, genes
        cdef _Tx tx
        transcripts = [self._transcript(row) for row in rows]
        for alt, lifted_alt in zip(alts, lifted_alts):
            found = []
            for tx in transcripts:
                entry = self._intron_change(alt, tx, pos, ref, lifted_alt, rendered)
                if entry is None:
                    entry = self._exon_change(alt, tx, pos, ref, lifted_alt, rendered)
                if entry is None:
                    entry = self._flank_change(alt, tx, pos, ref, lifted_alt, rendered)
                if entry is None:
                    entry = mane_entry(alt, self._python_transcript(tx), pos, ref, lifted_alt)
                if entry is not None:
                    found.append(entry)
            covered = {_gene_of(entry) for entry in found}
            genes = self._gene_entries(where, chrom, pos, end, alt, covered, rendered)
            if found and genes and _region_of(genes[0]) == "intergenic":
                genes = []  # the transcripts say where the variant is
            found_all.extend(found)
            found_all.extend(genes)
        return found_all

    cdef _Tx _transcript(self, Py_ssize_t row):
        """The transcript of a bundle row, read from the arrays as Bundle.transcript reads
        them (without its Python objects, which only mane_entry needs)."""
        cdef _Tx tx = self.transcripts.get(row)
        cdef Py_ssize_t index
        if tx is None:
            tx = _Tx()
            tx.row = row
            tx.id, tx.gene = str(self.tx_id[row]), str(self.tx_gene[row])
            tx.refseq = str(self.tx_refseq[row])
            tx.strand = self.tx_strand[row].decode()
            tx.plus = tx.strand == "+"
            tx.first, tx.last = self.tx_exon_offset[row], self.tx_exon_offset[row + 1]
            tx.start, tx.end = self.exon_start[tx.first], self.exon_end[tx.last - 1]
            tx.introns = {}
            tx.templates = {}
            tx.before, tx.bases = [], 0
            for index in range(tx.first, tx.last):
                tx.before.append(tx.bases)
                tx.bases += self.exon_end[index] - self.exon_start[index] + 1
            # A coding range is stored as 0, 0 when there is none (Bundle.transcript).
            tx.coding = self.tx_coding_start[row] != 0 and self.tx_coding_end[row] != 0
            tx.prefix = "c." if tx.coding else "n."
            if tx.coding:
                tx.coding_start, tx.coding_end = self.tx_coding_start[row], self.tx_coding_end[row]
                first, last = tx.coding_start, tx.coding_end
                if not tx.plus:
                    first, last = last, first
                tx.coding_first = self._exonic_offset(tx, first)
                tx.coding_last = self._exonic_offset(tx, last)
            self.transcripts[row] = tx
        return tx

    cdef object _python_transcript(self, _Tx tx):
        if tx.mane is None:
            tx.mane = self.bundle.transcript(tx.row)
        return tx.mane

    cdef long long _exonic_offset(self, _Tx tx, long long pos):
        """hgvs.Transcript.transcript_offset of an exonic base."""
        cdef Py_ssize_t row = _bisect_right(self.exon_start, tx.first, tx.last, pos) - 1
        return self._offset_in(tx, row - tx.first, pos)

    cdef object _intron_change(
        self, str allele, _Tx tx, long long pos, str ref, str alt, bint rendered
    ):
        """The entry of a change wholly inside one intron, away from its splice region, else
        None: mane.mane_entry's commonest case (a one-base substitution, or a short indel,
        deep in an intron), compiled. ``ref`` and ``alt`` are the VCF alleles."""
        cdef Py_ssize_t index, shared
        cdef long long start, low, high
        if not _plain(ref) or not _plain(alt):
            return None
        ref, alt = ref.upper(), alt.upper()
        shared, changed_ref, changed_alt = _trimmed(ref, alt)
        if not changed_ref and not changed_alt:
            return None
        start = pos + shared
        low, high = start, start + len(changed_ref) - 1
        if not changed_ref:  # an insertion: the bases either side of it
            low, high = start - 1, start
        if low < tx.start or high > tx.end:
            return None
        index = _bisect_right(self.exon_start, tx.first, tx.last, low) - 1
        if low <= self.exon_end[index]:  # in an exon
            return None
        intron = self._intron(tx, index - tx.first)
        left, right = intron[0], intron[1]
        if low - left <= SPLICE_REACH or right - high <= SPLICE_REACH:
            if len(changed_ref) != 1 or len(changed_alt) != 1:
                return None  # an indel at a splice site or region: mane_entry decides
            hgvsc = _replaced(tx, intron, start, changed_ref, changed_alt)
            terms = _splice_terms(tx, left, right, low)
            return self._splice_template(tx, index - tx.first, terms).made(
                allele, f"{tx.id}:{tx.prefix}{hgvsc}", rendered
            )
        if changed_ref:
            hgvsc = _replaced(tx, intron, start, changed_ref, changed_alt)
        else:
            hgvsc = _inserted(tx, intron, start, changed_alt, ref[:shared])
        if hgvsc is None:
            return None
        return self._intron_template(tx, index - tx.first).made(
            allele, f"{tx.id}:{tx.prefix}{hgvsc}", rendered
        )

    cdef object _flank_change(
        self, str allele, _Tx tx, long long pos, str ref, str alt, bint rendered
    ):
        """The entry of a change up- or downstream of the transcript, else None:
        mane._general_entry's case outside the transcript, compiled."""
        cdef long long low, high, distance
        cdef Py_ssize_t shared
        cdef bint before
        shared, changed_ref, changed_alt = _trimmed(ref.upper(), alt.upper())
        if not changed_ref and not changed_alt:
            return None
        low, high = pos + shared, pos + shared + len(changed_ref) - 1
        if not changed_ref:  # an insertion: the bases either side of it
            low, high = low - 1, low
        if high < tx.start:
            before, distance = True, tx.start - high
        elif low > tx.end:
            before, distance = False, low - tx.end
        else:
            return None
        if distance > FLANK:
            return None
        if before == tx.plus:
            term, region = "upstream_gene_variant", "upstream"
        else:
            term, region = "downstream_gene_variant", "downstream"
        return self._flank_template(tx, term, region).made(allele, distance, rendered)

    cdef _Template _flank_template(self, _Tx tx, str term, str region):
        template = tx.templates.get(term)
        if template is None:
            entry = Entry(
                "", term, tx.gene, tx.id, MANE_BIOTYPE, tx.strand, region,
                "", "", None, tx.refseq, "", "", "",
            )
            template = tx.templates[term] = _Template(entry, DISTANCE, self._counted(entry))
        return template

    cdef _Template _splice_template(self, _Tx tx, Py_ssize_t index, str terms):
        key = ("splice", index, terms)
        template = tx.templates.get(key)
        if template is None:
            region = "splice_region" if "splice" in terms else "intron"
            entry = Entry(
                "", terms, tx.gene, tx.id, MANE_BIOTYPE, tx.strand, region,
                "", "", None, tx.refseq, "", self._intron(tx, index)[2], "",
            )
            template = tx.templates[key] = _Template(entry, HGVSC, self._counted(entry))
        return template

    cdef _Template _intron_template(self, _Tx tx, Py_ssize_t index):
        template = tx.templates.get(index)
        if template is None:
            entry = Entry(
                "", "intron_variant", tx.gene, tx.id, MANE_BIOTYPE, tx.strand, "intron",
                "", "", None, tx.refseq, "", self._intron(tx, index)[2], "",
            )
            template = tx.templates[index] = _Template(entry, HGVSC, self._counted(entry))
        return template

    cdef tuple _intron(self, _Tx tx, Py_ssize_t index):
        """What mane.intron_of says of the intron after exon ``index`` (its ends, number and
        the HGVS positions of the exon bases either side), as a tuple."""
        cdef long long left, right
        cdef Py_ssize_t count = tx.last - tx.first
        intron = tx.introns.get(index)
        if intron is None:
            left, right = self.exon_end[tx.first + index], self.exon_start[tx.first + index + 1]
            number = index + 1 if tx.plus else count - 1 - index
            intron = (
                left, right, f"{number}/{count - 1}",
                _exonic_text(tx, self._offset_in(tx, index, left)),
                _exonic_text(tx, self._offset_in(tx, index + 1, right)),
            )
            tx.introns[index] = intron
        return intron

    cdef long long _offset_in(self, _Tx tx, Py_ssize_t index, long long pos):
        """hgvs.Transcript._offset_in: the transcript position of ``pos`` in exon ``index``."""
        cdef long long rank = <long long>tx.before[index] + pos - self.exon_start[tx.first + index] + 1
        return rank if tx.plus else tx.bases - rank + 1

    cdef object _exon_change(
        self, str allele, _Tx tx, long long pos, str ref, str alt, bint rendered
    ):
        """The entry of a one-base substitution in an exon away from its splice region and
        from the start and stop codons, else None: mane._short_path_entry's exonic case."""
        cdef Py_ssize_t row, index, count = tx.last - tx.first
        cdef long long offset, number
        if len(ref) != 1 or len(alt) != 1 or not _plain(ref) or not _plain(alt):
            return None
        ref, alt = ref.upper(), alt.upper()
        if ref == alt or pos < tx.start or pos > tx.end:
            return None
        row = _bisect_right(self.exon_start, tx.first, tx.last, pos) - 1
        if pos > self.exon_end[row]:  # in an intron
            return None
        index = row - tx.first
        if (index > 0 and pos - self.exon_start[row] < SPLICE_EXONIC) or (
            index < count - 1 and self.exon_end[row] - pos < SPLICE_EXONIC
        ):
            return None
        offset = self._offset_in(tx, index, pos)
        if not tx.coding:
            term, region = "non_coding_transcript_exon_variant", "noncoding_exon"
        elif tx.coding_start <= pos <= tx.coding_end:
            number = offset - tx.coding_first + 1
            if number <= 3 or number > tx.coding_last - tx.coding_first + 1 - 3:
                return None  # the start or stop codon: the general path decides
            term, region = "coding_sequence_variant", "CDS"
        elif (pos < tx.coding_start) == tx.plus:
            term, region = "5_prime_UTR_variant", "5_prime_UTR"
        else:
            term, region = "3_prime_UTR_variant", "3_prime_UTR"
        hgvsc = f"{tx.id}:{tx.prefix}{_exonic_text(tx, offset)}{_oriented(tx, ref)}>{_oriented(tx, alt)}"
        return self._exon_template(tx, index, term, region).made(allele, hgvsc, rendered)

    cdef _Template _exon_template(self, _Tx tx, Py_ssize_t index, str term, str region):
        cdef Py_ssize_t count = tx.last - tx.first
        key = (index, term)
        template = tx.templates.get(key)
        if template is None:
            number = index + 1 if tx.plus else count - index
            entry = Entry(
                "", term, tx.gene, tx.id, MANE_BIOTYPE, tx.strand, region,
                "", "", None, tx.refseq, f"{number}/{count}", "", "",
            )
            template = tx.templates[key] = _Template(entry, HGVSC, self._counted(entry))
        return template


cdef str _gene_of(object entry):
    """The gene of an annotation.Entry or a RenderedEntry."""
    if type(entry) is RenderedEntry:
        return (<RenderedEntry>entry).counted.gene
    return entry.gene


cdef str _region_of(object entry):
    if type(entry) is RenderedEntry:
        return (<RenderedEntry>entry).counted.region
    return entry.region


cdef str _exonic_text(_Tx tx, long long offset):
    """str(hgvs.Transcript._exonic(offset)): c. numbering around the coding range."""
    if not tx.coding:
        return str(offset)
    if offset < tx.coding_first:
        return str(offset - tx.coding_first)
    if offset > tx.coding_last:
        return f"*{offset - tx.coding_last}"
    return str(offset - tx.coding_first + 1)


cdef str _splice_terms(_Tx tx, long long left, long long right, long long pos):
    """mane.effect_terms of a one-base substitution at ``pos`` in the intron between exon
    bases ``left`` and ``right``, joined by "&": the site and region terms of that intron."""
    cdef long long first = left + 1, last = right - 1  # the intron's bases
    cdef bint left_site = first <= pos <= min(first + SPLICE_SITE - 1, last)
    cdef bint right_site = max(last - SPLICE_SITE + 1, first) <= pos <= last
    cdef bint donor = left_site if tx.plus else right_site
    cdef bint acceptor = right_site if tx.plus else left_site
    cdef bint in_region = (
        first + SPLICE_SITE <= pos <= min(left + SPLICE_REACH, last)
        or max(right - SPLICE_REACH, first) <= pos <= last - SPLICE_SITE
    )
    cdef list terms = []
    if acceptor:
        terms.append("splice_acceptor_variant")
    if donor:
        terms.append("splice_donor_variant")
    if in_region:
        terms.append("splice_region_variant")
    if first + SPLICE_SITE <= pos <= last - SPLICE_SITE:
        terms.append("intron_variant")
    return "&".join(terms)


cdef tuple _trimmed(str ref, str alt):
    """hgvs.trim_alleles of upper-case alleles: (shared leading bases, changed REF, changed
    ALT), shared leading bases trimmed first, then shared trailing ones."""
    cdef Py_ssize_t shared = 0, tail = 0, shortest = min(len(ref), len(alt))
    while shared < shortest and ref[shared] == alt[shared]:
        shared += 1
    while tail < shortest - shared and ref[len(ref) - 1 - tail] == alt[len(alt) - 1 - tail]:
        tail += 1
    return shared, ref[shared : len(ref) - tail], alt[shared : len(alt) - tail]


cdef bint _plain(str allele):
    """hgvs.plain_bases: non-empty, of A, C, G, T and N only (either case)."""
    cdef Py_UCS4 base
    if not allele:
        return False
    for base in allele:
        if base not in "ACGTNacgtn":
            return False
    return True


cdef str _place(_Tx tx, tuple intron, long long pos):
    """The HGVS position of an intron base, from the nearer exon (hgvs.Transcript.position)."""
    cdef long long from_left = pos - <long long>intron[0], from_right = <long long>intron[1] - pos
    if tx.strand == "+":
        if from_left <= from_right:
            return f"{intron[3]}+{from_left}"
        return f"{intron[4]}-{from_right}"
    if from_right <= from_left:
        return f"{intron[4]}+{from_right}"
    return f"{intron[3]}-{from_left}"


cdef str _oriented(_Tx tx, str bases):
    return bases if tx.strand == "+" else reverse_complement(bases)


cdef str _replaced(_Tx tx, tuple intron, long long start, str ref, str alt):
    """hgvs.hgvs_of_trimmed of bases [start, start + len(ref)) replaced by ``alt``."""
    cdef long long end = start + len(ref) - 1
    first = _place(tx, intron, start)
    last = first if end == start else _place(tx, intron, end)
    if tx.strand == "-":
        first, last = last, first
    if len(ref) == 1 and len(alt) == 1:
        return f"{first}{_oriented(tx, ref)}>{_oriented(tx, alt)}"
    span = first if end == start else f"{first}_{last}"
    if not alt:
        return f"{span}del"
    return f"{span}delins{_oriented(tx, alt)}"


cdef str _inserted(_Tx tx, tuple intron, long long start, str inserted, str before):
    """hgvs._insertion of ``inserted`` before base ``start``: a dup when ``before`` (the
    bases the record shows before it) ends with it; None when that dup reaches the exon."""
    cdef long long length = len(inserted)
    if len(before) >= length and before.endswith(inserted):
        if start - length <= <long long>intron[0]:
            return None
        first, last = _place(tx, intron, start - length), _place(tx, intron, start - 1)
        if tx.strand == "-":
            first, last = last, first
        return f"{first}dup" if length == 1 else f"{first}_{last}dup"
    first, last = _place(tx, intron, start - 1), _place(tx, intron, start)
    if tx.strand == "-":
        first, last = last, first
    return f"{first}_{last}ins{_oriented(tx, inserted)}"
