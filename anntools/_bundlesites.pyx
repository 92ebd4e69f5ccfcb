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
  here, as anntools.mane.mane_entry gives it, for any change of plain bases:
  short paths for the commonest (deep in an intron, one-base substitutions at
  splice sites and in exons away from codons), and the general rules
  (exonic and splice-region indels, start and stop codons, changes across
  exon ends, flanks) from the transcript's exonic bases before each exon and
  its coding ends. Only alleles that are not plain bases (``*``, ``<DEL>``)
  go to mane_entry itself. Transcripts are read from the bundle's arrays;
  their Python form (Bundle.transcript) is made only for mane_entry.

For the record loop (``__call__``, ``rendered_entries``), entries that differ
from record to record only by a distance or an HGVS c. come rendered
(_rendering.RenderedEntry): their other fields are rendered once per gene
region, intron or exon. The module cimports _rendering, which calls htslib: import
anntools.recordloop (which loads htslib) first.

The Bundle methods stay the general API (chrM, BCSQ-compatible mode, intervals
that cross several segments) and are the reference these lookups are tested
against (tests/unit/test_bundlesites.py).
"""

cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.string cimport memcpy

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE

import numpy as np

from anntools._rendering cimport DIGITS_SIZE, RenderedEntry, decimal_digits

from dataclasses import replace

from anntools.annotation import ENTRY_FIELDS, Entry, entry_from_hit, entry_of_gene
from anntools.bundle import format as fmt
from anntools.bundle.format import FLANK_BP
from anntools.hgvs import reverse_complement
from anntools.mane import (
    MANE_BIOTYPE, SEVERITY, SPLICE_EXONIC_BP, SPLICE_INTRONIC_BP, SPLICE_SITE_BP, START_CODON,
    mane_entry, region_of,
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
    cdef list tx_stretch_transcripts  # per stretch: its rows' _Tx, made on first use
    cdef Py_ssize_t tx_cursor  # the last stretch found: records mostly come sorted
    cdef bint has_transcripts


@cython.no_gc  # never in a cycle: its dicts hold _Intron and _Template objects only
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
    cdef bytes hgvs_prefix  # b"ENST...:c.", what every HGVS c. of it starts with
    cdef list introns  # per exon index but the last: the _Intron after it, or None (not met yet)
    cdef list intron_templates  # likewise: the _Template of changes deep in that intron
    cdef dict templates  # key -> _Template of other entries (exon, splice, flank, general)
    cdef dict unlabelled  # (terms, region) -> _Template without exon and intron (see labelled)


@cython.no_gc  # never in a reference cycle: numbers and strings only
cdef class _Intron:
    """What mane.intron_of says of one intron: its ends, number, and the HGVS positions
    of the exon bases either side (as text, and as bytes for the HGVS c. written here)."""

    cdef long long left  # last base of the exon before it (genomic order)
    cdef long long right  # first base of the exon after it
    cdef str label  # "13/17"
    cdef str left_position, right_position  # "1695", "-5", "*12"
    cdef bytes left_bytes, right_bytes


@cython.no_gc  # never in a reference cycle: Entry objects and bytes only
cdef class _Template:
    """What the entries of one gene region, or of one MANE intron, share: all their fields
    but one (a distance, an HGVS c.), rendered once; ``entry`` holds the shared fields."""

    cdef object entry  # an annotation.Entry; its allele and varying field are placeholders
    cdef str gene  # the entry's
    # A MANE template made by ``labelled`` from one without exon and intron: its entry is
    # made from that one's when first needed (the record loop needs only the texts).
    cdef _Template unlabelled
    cdef str exon, intron
    cdef object counted  # the Entry the record loop counts it as (shared: see GrchSites._counted)
    cdef int field  # the varying one: DISTANCE or HGVSC
    cdef bint renders  # no field holds a tab (else INFO cannot be made from the TSV text)
    cdef bytes tsv_before, tsv_after, info_before, info_after
    cdef bytes tsv_empty, info_empty  # the texts with the varying field empty (None: not yet)

    def __init__(self, entry, int field, counted):
        fields = entry.fields()
        self.entry, self.field, self.counted = entry, field, counted
        self.gene = entry.gene
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
            if self.entry is None:
                self.entry = replace(self.unlabelled.entry, exon=self.exon, intron=self.intron)
            if self.field == DISTANCE:
                return replace(self.entry, allele=allele, distance=value)
            return replace(self.entry, allele=allele, hgvsc=value)
        found = RenderedEntry.__new__(RenderedEntry)
        found.allele = allele.encode("utf-8")
        if value is None:
            if self.tsv_empty is None:  # joined on first use: most templates never need it
                self.tsv_empty = self.tsv_before + self.tsv_after
                self.info_empty = self.info_before + self.info_after
            found.tsv_tail, found.info_tail = self.tsv_empty, self.info_empty
        else:
            text = str(value).encode("utf-8")
            found.tsv_tail = _joined(self.tsv_before, text, len(text), self.tsv_after)
            if _needs_escape(text, len(text)):
                text = text.translate(INFO_TEXT)
            found.info_tail = _joined(self.info_before, text, len(text), self.info_after)
        found.counted = self.counted
        return found


    cdef _Template labelled(self, str exon, str intron):
        """This template (an HGVS c. one with empty exon and intron fields, which render)
        with these exon and intron fields: its texts are this one's with the two labels put
        in, cheaper than rendering every field again (random records meet most introns
        once or twice)."""
        cdef _Template found = _Template.__new__(_Template)
        cdef bytes labels = f"{exon}\t{intron}\t".encode("utf-8")
        found.unlabelled, found.exon, found.intron = self, exon, intron
        found.gene, found.field, found.counted, found.renders = (
            self.gene, self.field, self.counted, self.renders
        )
        # The texts before the varying field end with the two empty fields: "\t\t", "||".
        found.tsv_before = self.tsv_before[:-2] + labels
        found.info_before = self.info_before[:-2] + labels.translate(INFO_TEXT)
        found.tsv_after, found.info_after = self.tsv_after, self.info_after
        return found

    cdef object made_text(self, str allele, _Text *text, bint rendered):
        """``made`` with the varying field written in ``text`` (ASCII)."""
        cdef RenderedEntry found
        if not rendered or not self.renders:
            return self.made(allele, text.data[: text.length].decode("ascii"), rendered)
        found = RenderedEntry.__new__(RenderedEntry)
        found.allele = allele.encode("utf-8")
        found.tsv_tail = _joined(self.tsv_before, text.data, text.length, self.tsv_after)
        if _needs_escape(text.data, text.length):
            escaped = text.data[: text.length].translate(INFO_TEXT)
            found.info_tail = self.info_before + escaped + self.info_after
        else:
            found.info_tail = _joined(self.info_before, text.data, text.length, self.info_after)
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
        cdef tuple transcripts = ()
        cdef int set_id
        if where is None:
            return found
        if mane and where.has_transcripts:
            transcripts = self._transcripts_at(where, pos, end)
        if transcripts:
            return self._mane(
                where, chrom, pos, end, ref, alts, lifted_alts, transcripts, rendered
            )
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
                where.tx_stretch_transcripts = [None] * len(where.tx_stretch_rows)
                where.tx_cursor = -1
                where.tx_bounds = bounds
        self.chroms[name] = where
        return where

    cdef tuple _transcripts_at(self, _Chrom where, long long pos, long long end):
        """The MANE transcripts (_Tx) that [pos, end] reaches."""
        cdef Py_ssize_t stretch = self._stretch_of(where, pos)
        cdef Py_ssize_t count = where.tx_bounds.shape[0]
        if end != pos and stretch + 1 < count and end >= where.tx_bounds[stretch + 1]:
            rows = self.bundle.mane_transcript_rows(where.name, pos, end)
            return tuple([self._transcript(row) for row in rows])
        if stretch < 0:
            return ()
        transcripts = where.tx_stretch_transcripts[stretch]
        if transcripts is None:
            transcripts = where.tx_stretch_transcripts[stretch] = tuple(
                [self._transcript(row) for row in where.tx_stretch_rows[stretch]]
            )
        return transcripts

    cdef Py_ssize_t _stretch_of(self, _Chrom where, long long pos):
        """The stretch of the transcript table holding ``pos`` (-1: before the first bound).
        Records mostly come sorted, so the last answer and the next stretch are tried before
        a binary search: that reads two bounds instead of a dozen scattered ones."""
        cdef Py_ssize_t stretch = where.tx_cursor, count = where.tx_bounds.shape[0]
        if _in_stretch(where.tx_bounds, count, stretch, pos):
            return stretch
        if _in_stretch(where.tx_bounds, count, stretch + 1, pos):
            where.tx_cursor = stretch + 1
            return stretch + 1
        where.tx_cursor = _bisect_right(where.tx_bounds, 0, count, pos) - 1
        return where.tx_cursor

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
        return [
            template.made(alt, None, rendered)
            for template in self._fixed_templates(set_id, pos, end)
        ]

    cdef list _fixed_templates(self, int set_id, long long pos, long long end):
        """The templates of a set inside genes, one per gene in the set's order."""
        templates = self.fixed_templates.get(set_id)
        if templates is None:
            if len(self.fixed_templates) >= CACHE_LIMIT:
                self.fixed_templates.clear()
            templates = self.fixed_templates[set_id] = [
                self._gene_template(gene, code) for gene, code, _ in self._raw_hits(set_id, pos, end)
            ]
        return templates

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
        list lifted_alts, tuple transcripts, bint rendered,
    ):
        """anntools.mane.mane_and_gene_entries of each ALT, compiled (that function is the
        reference): the ALT's entry for each transcript, then its other genes' entries."""
        cdef list found = []
        cdef Py_ssize_t i, first
        cdef _Tx tx
        for i in range(min(len(alts), len(lifted_alts))):
            alt, lifted_alt = alts[i], lifted_alts[i]
            first = len(found)
            for tx in transcripts:
                entry = self._mane_change(alt, tx, pos, ref, lifted_alt, rendered)
                if entry is not None:
                    found.append(entry)
            self._add_other_genes(found, first, where, chrom, pos, end, alt, rendered)
        return found

    cdef int _add_other_genes(
        self, list found, Py_ssize_t first, _Chrom where, str chrom, long long pos,
        long long end, str alt, bint rendered,
    ) except -1:
        """Adds to ``found`` the gene-level entries of [pos, end] for the genes that
        found[first:] (the ALT's MANE entries) leave out; none between genes when the ALT
        has MANE entries (the transcripts say where it is). A position inside genes only
        takes its set's templates, as _fixed does, without listing the set's hits again."""
        cdef int set_id = self._single_set(where, pos, end)
        cdef Py_ssize_t count = len(found)
        cdef _Template template
        if set_id >= 0 and self._inside(set_id):
            for template in self._fixed_templates(set_id, pos, end):
                if not _covers(found, first, count, template.gene):
                    found.append(template.made(alt, None, rendered))
            return 0
        covered = {_gene_of(found[i]) for i in range(first, count)}
        genes = self._gene_entries(where, chrom, pos, end, alt, covered, rendered)
        if not (count > first and genes and _region_of(genes[0]) == "intergenic"):
            found.extend(genes)
        return 0

    cdef object _mane_change(
        self, str allele, _Tx tx, long long pos, str ref, str alt, bint rendered
    ):
        """mane.mane_entry compiled: the entry of VCF allele ``alt`` (written as ``allele``)
        for one transcript, else None (beyond the flanks, or REF and ALT do not differ).
        The commonest changes take a short path; alleles that are not plain bases (``*``,
        ``<DEL>``) go to mane_entry itself."""
        if not _plain(ref) or not _plain(alt):
            return mane_entry(allele, self._python_transcript(tx), pos, ref, alt)
        entry = self._intron_change(allele, tx, pos, ref, alt, rendered)
        if entry is None:
            entry = self._exon_change(allele, tx, pos, ref, alt, rendered)
        if entry is None:
            entry = self._general_change(allele, tx, pos, ref, alt, rendered)
        return entry

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
            tx.introns = [None] * (tx.last - tx.first - 1)
            tx.intron_templates = [None] * (tx.last - tx.first - 1)
            tx.templates = {}
            tx.unlabelled = {}
            tx.before, tx.bases = [], 0
            for index in range(tx.first, tx.last):
                tx.before.append(tx.bases)
                tx.bases += self.exon_end[index] - self.exon_start[index] + 1
            # A coding range is stored as 0, 0 when there is none (Bundle.transcript).
            tx.coding = self.tx_coding_start[row] != 0 and self.tx_coding_end[row] != 0
            tx.prefix = "c." if tx.coding else "n."
            tx.hgvs_prefix = f"{tx.id}:{tx.prefix}".encode("ascii")
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
        deep in an intron), compiled. ``ref`` and ``alt`` are the VCF alleles, plain bases."""
        cdef Py_ssize_t index, shared = 0
        cdef long long start, low, high
        cdef _Intron intron
        cdef _Text text
        ref, alt = _upper(ref), _upper(alt)
        if len(ref) == 1 and len(alt) == 1 and ref != alt:  # most changes: nothing to trim
            changed_ref, changed_alt = ref, alt
        else:
            shared, changed_ref, changed_alt = _trimmed(ref, alt)
            if not changed_ref and not changed_alt:
                return None
            if len(changed_ref) + len(changed_alt) > MAX_WRITTEN_BASES:
                return None  # the general path writes long alleles
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
        text.length = 0
        _put_bytes(&text, tx.hgvs_prefix)
        if low - intron.left <= SPLICE_REACH or intron.right - high <= SPLICE_REACH:
            if len(changed_ref) != 1 or len(changed_alt) != 1:
                return None  # an indel at a splice site or region: the general path's
            _write_replaced(&text, tx, intron, start, changed_ref, changed_alt)
            terms = _splice_terms(tx, intron.left, intron.right, low)
            return self._splice_template(tx, index - tx.first, terms).made_text(
                allele, &text, rendered
            )
        if changed_ref:
            _write_replaced(&text, tx, intron, start, changed_ref, changed_alt)
        elif not _write_inserted(&text, tx, intron, start, changed_alt, ref[:shared]):
            return None
        return self._intron_template(tx, index - tx.first).made_text(allele, &text, rendered)

    cdef object _flank_change(
        self, str allele, _Tx tx, long long pos, str ref, str alt, bint rendered
    ):
        """The entry of a change up- or downstream of the transcript, else None:
        mane._general_entry's case outside the transcript, compiled."""
        cdef long long low, high, distance
        cdef Py_ssize_t shared
        cdef bint before
        shared, changed_ref, changed_alt = _trimmed(_upper(ref), _upper(alt))
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
            template = tx.templates[key] = self._mane_template(
                tx, terms, region, "", self._intron(tx, index).label
            )
        return template

    cdef _Template _mane_template(self, _Tx tx, str terms, str region, str exon, str intron):
        """The template of the transcript's entries with these fields, HGVS c. varying: made
        from the one per (terms, region) without exon and intron, when that one renders."""
        key = (terms, region)
        unlabelled = tx.unlabelled.get(key)
        if unlabelled is None:
            entry = Entry(
                "", terms, tx.gene, tx.id, MANE_BIOTYPE, tx.strand, region,
                "", "", None, tx.refseq, "", "", "",
            )
            unlabelled = tx.unlabelled[key] = _Template(entry, HGVSC, self._counted(entry))
        if (<_Template>unlabelled).renders:
            return (<_Template>unlabelled).labelled(exon, intron)
        entry = replace((<_Template>unlabelled).entry, exon=exon, intron=intron)
        return _Template(entry, HGVSC, (<_Template>unlabelled).counted)

    cdef _Template _intron_template(self, _Tx tx, Py_ssize_t index):
        template = tx.intron_templates[index]
        if template is None:
            template = self._mane_template(
                tx, "intron_variant", "intron", "", self._intron(tx, index).label
            )
            tx.intron_templates[index] = template
        return template

    cdef _Intron _intron(self, _Tx tx, Py_ssize_t index):
        """The intron after exon ``index``, worked out on first use."""
        cdef Py_ssize_t count = tx.last - tx.first
        cdef _Intron intron = tx.introns[index]
        if intron is None:
            intron = _Intron()
            intron.left = self.exon_end[tx.first + index]
            intron.right = self.exon_start[tx.first + index + 1]
            number = index + 1 if tx.plus else count - 1 - index
            intron.label = f"{number}/{count - 1}"
            intron.left_position = _exonic_text(tx, self._offset_in(tx, index, intron.left))
            intron.right_position = _exonic_text(
                tx, self._offset_in(tx, index + 1, intron.right)
            )
            intron.left_bytes = intron.left_position.encode("ascii")
            intron.right_bytes = intron.right_position.encode("ascii")
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
        cdef _Text text
        if len(ref) != 1 or len(alt) != 1:
            return None
        ref, alt = _upper(ref), _upper(alt)
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
        text.length = 0
        _put_bytes(&text, tx.hgvs_prefix)
        _write_exonic(&text, tx, offset)
        _put_bases(&text, ref, tx.plus)
        _put(&text, b">", 1)
        _put_bases(&text, alt, tx.plus)
        return self._exon_template(tx, index, term, region).made_text(allele, &text, rendered)

    cdef _Template _exon_template(self, _Tx tx, Py_ssize_t index, str term, str region):
        cdef Py_ssize_t count = tx.last - tx.first
        key = (index, term)
        template = tx.templates.get(key)
        if template is None:
            number = index + 1 if tx.plus else count - index
            template = tx.templates[key] = self._mane_template(
                tx, term, region, f"{number}/{count}", ""
            )
        return template

    cdef object _general_change(
        self, str allele, _Tx tx, long long pos, str ref, str alt, bint rendered
    ):
        """The entry of any change of plain bases that meets the transcript, else None:
        mane._general_entry compiled (exonic indels, start and stop codons, splice-region
        indels, changes across exon ends, flanks). ``ref`` and ``alt`` are the VCF alleles,
        plain bases."""
        cdef _Change change
        cdef int terms
        ref = _upper(ref)
        shared, changed_ref, changed_alt = _trimmed(ref, _upper(alt))
        if not changed_ref and not changed_alt:
            return None
        change.start = pos + shared
        change.end = change.start + len(changed_ref) - 1
        change.insertion = not changed_ref
        change.low, change.high = change.start, change.end
        if change.insertion:  # the bases either side of it
            change.low, change.high = change.start - 1, change.start
        if change.high < tx.start or change.low > tx.end:
            return self._flank_change(allele, tx, pos, ref, alt, rendered)
        terms = self._splice_terms_of(tx, &change) | self._exon_terms_of(
            tx, &change, changed_ref, changed_alt
        )
        exon, intron = self._exon_intron(tx, change.low, change.high)
        hgvsc = self._hgvs(tx, &change, changed_ref, changed_alt, ref[:shared])
        return self._general_template(tx, terms, exon, intron).made(
            allele, f"{tx.id}:{hgvsc}" if hgvsc else "", rendered
        )

    cdef _Template _general_template(self, _Tx tx, int terms, str exon, str intron):
        key = (terms, exon, intron)
        template = tx.templates.get(key)
        if template is None:
            names = _term_names(terms)
            template = tx.templates[key] = self._mane_template(
                tx, "&".join(names), region_of(names), exon, intron
            )
        return template

    cdef Py_ssize_t _first_ending_from(self, _Tx tx, long long pos):
        """hgvs.Transcript.exons_overlapping's start: the first exon (index in the
        transcript) ending at or after ``pos``."""
        return _bisect_left(self.exon_end, tx.first, tx.last, pos) - tx.first

    cdef Py_ssize_t _after_starting_by(self, _Tx tx, long long pos):
        """exons_overlapping's stop: the first exon starting after ``pos``."""
        return _bisect_right(self.exon_start, tx.first, tx.last, pos) - tx.first

    cdef int _splice_terms_of(self, _Tx tx, _Change *change):
        """mane._splice_and_intron_terms, as TERM_* bits."""
        cdef Py_ssize_t count = tx.last - tx.first, index
        cdef Py_ssize_t near_start = self._first_ending_from(tx, change.low - SPLICE_REACH)
        cdef Py_ssize_t near_stop = self._after_starting_by(tx, change.high + SPLICE_REACH)
        cdef long long left, right, first, last
        cdef long long left_site_end, right_site_start
        cdef int terms = 0
        cdef bint left_site, right_site
        for index in range(max(near_start - 1, 0), min(near_stop, count - 1)):
            left = self.exon_end[tx.first + index]
            right = self.exon_start[tx.first + index + 1]
            first, last = left + 1, right - 1  # the intron's bases
            # As VEP: the donor and acceptor sites are not intron_variant.
            if _touches(change, first + SPLICE_SITE, last - SPLICE_SITE):
                terms |= TERM_INTRON
            left_site = _touches(change, first, min(first + SPLICE_SITE - 1, last))
            right_site = _touches(change, max(last - SPLICE_SITE + 1, first), last)
            if left_site if tx.plus else right_site:
                terms |= TERM_DONOR
            if right_site if tx.plus else left_site:
                terms |= TERM_ACCEPTOR
            if (
                _meets(change, left - SPLICE_EXONIC + 1, left)
                or _meets(change, first + SPLICE_SITE, min(left + SPLICE_REACH, last))
                or _meets(change, max(right - SPLICE_REACH, first), last - SPLICE_SITE)
                or _meets(change, right, right + SPLICE_EXONIC - 1)
            ):
                terms |= TERM_SPLICE_REGION
        return terms

    cdef int _exon_terms_of(self, _Tx tx, _Change *change, str ref, str alt):
        """mane._exon_terms, as TERM_* bits."""
        cdef Py_ssize_t index, row
        cdef Py_ssize_t stop = self._after_starting_by(tx, change.high)
        cdef long long start, end
        cdef int terms = 0, low_utr = TERM_UTR5, high_utr = TERM_UTR3
        cdef bint touched = False
        if not tx.plus:
            low_utr, high_utr = TERM_UTR3, TERM_UTR5
        for index in range(self._first_ending_from(tx, change.low), stop):
            row = tx.first + index
            start, end = self.exon_start[row], self.exon_end[row]
            if not _touches(change, start, end):
                continue
            touched = True
            if not tx.coding:
                break
            if _touches(change, start, min(end, tx.coding_start - 1)):
                terms |= low_utr
            if _touches(change, max(start, tx.coding_end + 1), end):
                terms |= high_utr
            if _touches(change, max(start, tx.coding_start), min(end, tx.coding_end)):
                terms |= self._coding_terms_of(tx, change, ref, alt)
        if touched and not tx.coding:
            return TERM_NONCODING_EXON
        return terms

    cdef Py_ssize_t _exon_index(self, _Tx tx, long long pos):
        """hgvs.Transcript.exon_index: the exon (index in the transcript) holding ``pos``,
        or -1."""
        cdef Py_ssize_t row = _bisect_right(self.exon_start, tx.first, tx.last, pos) - 1
        if row >= tx.first and pos <= self.exon_end[row]:
            return row - tx.first
        return -1

    cdef int _coding_terms_of(self, _Tx tx, _Change *change, str ref, str alt):
        """mane._coding_terms: the terms of a change that alters coding bases."""
        cdef Py_ssize_t index = self._exon_index(tx, change.low)
        cdef long long first, last, codons, length_change
        cdef int terms
        cdef bint in_start, in_stop
        if (
            index < 0
            or index != self._exon_index(tx, change.high)
            or change.low < tx.coding_start
            or change.high > tx.coding_end
        ):  # reaches into an intron or UTR: the effect on the frame is unclear
            return TERM_CODING
        first = self._offset_in(tx, index, change.low) - tx.coding_first + 1
        last = self._offset_in(tx, index, change.high) - tx.coding_first + 1
        if first > last:
            first, last = last, first
        codons = tx.coding_last - tx.coding_first + 1
        in_start = last <= 3 if change.insertion else first <= 3
        in_stop = first >= codons - 2 if change.insertion else last >= codons - 2
        length_change = len(alt) - len(ref)
        if length_change % 3:
            terms = TERM_FRAMESHIFT | (TERM_STOP_LOST if in_stop else 0)
        elif length_change:
            terms = TERM_INFRAME_INSERTION if length_change > 0 else TERM_INFRAME_DELETION
        elif len(ref) == 1:
            return _substitution_term(_oriented(tx, ref), _oriented(tx, alt), first, codons)
        else:
            terms = TERM_CODING
        return terms | (TERM_START_LOST if in_start else 0)

    cdef tuple _exon_intron(self, _Tx tx, long long low, long long high):
        """hgvs.Transcript.exon_intron: VEP's EXON and INTRON fields of bases [low, high]."""
        cdef Py_ssize_t count = tx.last - tx.first, index
        cdef Py_ssize_t start = self._first_ending_from(tx, low)
        cdef Py_ssize_t stop = self._after_starting_by(tx, high)
        cdef Py_ssize_t first_intron = -1, last_intron = -1
        exon = ""
        if start < stop:
            exon = _numbered(start, stop - 1, count, tx.plus)
        for index in range(max(start - 1, 0), min(stop, count - 1)):
            if self.exon_end[tx.first + index] < high and low < self.exon_start[tx.first + index + 1]:
                if first_intron < 0:
                    first_intron = index
                last_intron = index
        intron = ""
        if first_intron >= 0:
            intron = _numbered(first_intron, last_intron, count - 1, tx.plus)
        return exon, intron

    cdef str _position(self, _Tx tx, long long pos):
        """str(hgvs.Transcript.position(pos)), or None outside the transcript."""
        cdef Py_ssize_t row
        if pos < tx.start or pos > tx.end:
            return None
        row = _bisect_right(self.exon_start, tx.first, tx.last, pos) - 1
        if pos <= self.exon_end[row]:
            return _exonic_text(tx, self._offset_in(tx, row - tx.first, pos))
        return _place(tx, self._intron(tx, row - tx.first), pos)

    cdef str _hgvs(self, _Tx tx, _Change *change, str ref, str alt, str before):
        """hgvs.hgvs_of_trimmed of the change: "" when a base it names is outside the
        transcript."""
        cdef long long length = len(alt)
        if change.insertion:
            if len(before) >= length and before.endswith(alt):  # the record shows a dup
                first = self._position(tx, change.start - length)
                last = self._position(tx, change.start - 1)
            else:
                first = self._position(tx, change.start - 1)
                last = self._position(tx, change.start)
            if first is None or last is None:
                return ""
            if not tx.plus:
                first, last = last, first
            if len(before) >= length and before.endswith(alt):
                return f"{tx.prefix}{first}dup" if length == 1 else f"{tx.prefix}{first}_{last}dup"
            return f"{tx.prefix}{first}_{last}ins{_oriented(tx, alt)}"
        first = self._position(tx, change.start)
        last = first if change.end == change.start else self._position(tx, change.end)
        if first is None or last is None:
            return ""
        if not tx.plus:
            first, last = last, first
        if len(ref) == 1 and len(alt) == 1:
            return f"{tx.prefix}{first}{_oriented(tx, ref)}>{_oriented(tx, alt)}"
        span = first if change.end == change.start else f"{first}_{last}"
        if not alt:
            return f"{tx.prefix}{span}del"
        return f"{tx.prefix}{span}delins{_oriented(tx, alt)}"

cdef inline bint _in_stretch(
    const int64_t[:] bounds, Py_ssize_t count, Py_ssize_t stretch, long long pos
) noexcept nogil:
    """``pos`` lies in stretch ``stretch`` (-1: before the first bound) of ``bounds``."""
    if stretch >= count:
        return False
    return (stretch < 0 or bounds[stretch] <= pos) and (
        stretch + 1 >= count or pos < bounds[stretch + 1]
    )


cdef bytes _joined(bytes before, const char *text, Py_ssize_t length, bytes after):
    """before + text + after, made at once (one allocation instead of two)."""
    cdef Py_ssize_t a = PyBytes_GET_SIZE(before), c = PyBytes_GET_SIZE(after)
    cdef bytes joined = PyBytes_FromStringAndSize(NULL, a + length + c)
    cdef char *out = PyBytes_AS_STRING(joined)
    memcpy(out, PyBytes_AS_STRING(before), a)
    memcpy(out + a, text, length)
    memcpy(out + a + length, PyBytes_AS_STRING(after), c)
    return joined


cdef inline bint _needs_escape(const char *text, Py_ssize_t length):
    """``text`` holds a character that INFO_TEXT translates (HGVS and distances hold none)."""
    cdef Py_ssize_t i
    for i in range(length):
        if text[i] in b"\t ;=,":
            return True
    return False


# ---------------------------------------------------------------- HGVS c. written in C

# Longest changed REF plus ALT written by the short paths; longer ones go through the
# general path's strings (the buffer below must hold them, the prefix and two positions).
cdef Py_ssize_t MAX_WRITTEN_BASES = 256


cdef struct _Text:
    Py_ssize_t length
    char data[512]


cdef inline void _put(_Text *text, const char *chars, Py_ssize_t length) noexcept:
    memcpy(text.data + text.length, chars, length)
    text.length += length


cdef inline void _put_bytes(_Text *text, bytes chars) noexcept:
    _put(text, PyBytes_AS_STRING(chars), PyBytes_GET_SIZE(chars))


cdef void _put_int(_Text *text, long long value) noexcept:
    cdef char digits[DIGITS_SIZE]
    cdef int n = decimal_digits(digits, value)
    _put(text, digits + n, DIGITS_SIZE - n)


cdef void _put_bases(_Text *text, str bases, bint plus) noexcept:
    """Upper-case plain bases as the transcript reads them (reverse complement on minus)."""
    cdef Py_ssize_t i, n = len(bases)
    cdef Py_UCS4 base
    for i in range(n):
        base = bases[i] if plus else bases[n - 1 - i]
        if not plus:
            base = _complement(base)
        text.data[text.length + i] = <char>base
    text.length += n


cdef inline Py_UCS4 _complement(Py_UCS4 base) noexcept:
    """The complement of an upper-case plain base (N stays N)."""
    if base == "A":
        return "T"
    if base == "T":
        return "A"
    if base == "C":
        return "G"
    if base == "G":
        return "C"
    return base


cdef void _write_exonic(_Text *text, _Tx tx, long long offset) noexcept:
    """_exonic_text, written."""
    if not tx.coding:
        _put_int(text, offset)
    elif offset < tx.coding_first:
        _put_int(text, offset - tx.coding_first)
    elif offset > tx.coding_last:
        _put(text, b"*", 1)
        _put_int(text, offset - tx.coding_last)
    else:
        _put_int(text, offset - tx.coding_first + 1)


cdef void _write_place(_Text *text, _Tx tx, _Intron intron, long long pos) noexcept:
    """_place, written."""
    cdef long long from_left = pos - intron.left, from_right = intron.right - pos
    if tx.plus:
        if from_left <= from_right:
            _put_bytes(text, intron.left_bytes)
            _put(text, b"+", 1)
            _put_int(text, from_left)
        else:
            _put_bytes(text, intron.right_bytes)
            _put_int(text, -from_right)
    elif from_right <= from_left:
        _put_bytes(text, intron.right_bytes)
        _put(text, b"+", 1)
        _put_int(text, from_right)
    else:
        _put_bytes(text, intron.left_bytes)
        _put_int(text, -from_left)


cdef void _write_replaced(
    _Text *text, _Tx tx, _Intron intron, long long start, str ref, str alt
) noexcept:
    """hgvs.hgvs_of_trimmed of intron bases [start, start + len(ref)) replaced by ``alt``."""
    cdef long long end = start + len(ref) - 1
    _write_place(text, tx, intron, start if tx.plus else end)
    if len(ref) == 1 and len(alt) == 1:
        _put_bases(text, ref, tx.plus)
        _put(text, b">", 1)
        _put_bases(text, alt, tx.plus)
        return
    if end != start:
        _put(text, b"_", 1)
        _write_place(text, tx, intron, end if tx.plus else start)
    if not alt:
        _put(text, b"del", 3)
    else:
        _put(text, b"delins", 6)
        _put_bases(text, alt, tx.plus)


cdef bint _write_inserted(
    _Text *text, _Tx tx, _Intron intron, long long start, str inserted, str before
) noexcept:
    """hgvs._insertion of ``inserted`` before intron base ``start``: a dup when ``before``
    (the bases the record shows before it) ends with it; False (nothing written) when that
    dup reaches the exon."""
    cdef long long length = len(inserted)
    if len(before) >= length and before.endswith(inserted):
        if start - length <= intron.left:
            return False
        _write_place(text, tx, intron, start - length if tx.plus else start - 1)
        if length != 1:
            _put(text, b"_", 1)
            _write_place(text, tx, intron, start - 1 if tx.plus else start - length)
        _put(text, b"dup", 3)
        return True
    _write_place(text, tx, intron, start - 1 if tx.plus else start)
    _put(text, b"_", 1)
    _write_place(text, tx, intron, start if tx.plus else start - 1)
    _put(text, b"ins", 3)
    _put_bases(text, inserted, tx.plus)
    return True


cdef bint _covers(list found, Py_ssize_t first, Py_ssize_t count, str gene):
    """One of found[first:count] is an entry of ``gene``."""
    cdef Py_ssize_t i
    for i in range(first, count):
        if _gene_of(found[i]) == gene:
            return True
    return False


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


cdef inline str _upper(str bases):
    """Plain bases in upper case: most VCF alleles already are, and keep their string."""
    cdef Py_UCS4 base
    for base in bases:
        if base >= "a":  # a, c, g, t, n
            return bases.upper()
    return bases


cdef bint _plain(str allele):
    """hgvs.plain_bases: non-empty, of A, C, G, T and N only (either case)."""
    cdef Py_UCS4 base
    if not allele:
        return False
    for base in allele:
        if base not in "ACGTNacgtn":
            return False
    return True


cdef str _place(_Tx tx, _Intron intron, long long pos):
    """The HGVS position of an intron base, from the nearer exon (hgvs.Transcript.position)."""
    cdef long long from_left = pos - intron.left, from_right = intron.right - pos
    if tx.plus:
        if from_left <= from_right:
            return f"{intron.left_position}+{from_left}"
        return f"{intron.right_position}-{from_right}"
    if from_right <= from_left:
        return f"{intron.right_position}+{from_right}"
    return f"{intron.left_position}-{from_left}"


cdef str _oriented(_Tx tx, str bases):
    return bases if tx.strand == "+" else reverse_complement(bases)


# ---------------------------------------------------------------- the general MANE path

cdef struct _Change:
    long long start, end  # the changed REF bases, after trimming (end = start - 1: insertion)
    long long low, high  # hgvs.Alleles.changed_span
    bint insertion


# mane.SEVERITY's terms as bits, in its order, so that a set of them is sorted by severity.
cdef int TERM_ACCEPTOR = 1 << SEVERITY.index("splice_acceptor_variant")
cdef int TERM_DONOR = 1 << SEVERITY.index("splice_donor_variant")
cdef int TERM_FRAMESHIFT = 1 << SEVERITY.index("frameshift_variant")
cdef int TERM_STOP_LOST = 1 << SEVERITY.index("stop_lost")
cdef int TERM_START_LOST = 1 << SEVERITY.index("start_lost")
cdef int TERM_INFRAME_INSERTION = 1 << SEVERITY.index("inframe_insertion")
cdef int TERM_INFRAME_DELETION = 1 << SEVERITY.index("inframe_deletion")
cdef int TERM_SPLICE_REGION = 1 << SEVERITY.index("splice_region_variant")
cdef int TERM_STOP_RETAINED = 1 << SEVERITY.index("stop_retained_variant")
cdef int TERM_CODING = 1 << SEVERITY.index("coding_sequence_variant")
cdef int TERM_UTR5 = 1 << SEVERITY.index("5_prime_UTR_variant")
cdef int TERM_UTR3 = 1 << SEVERITY.index("3_prime_UTR_variant")
cdef int TERM_NONCODING_EXON = 1 << SEVERITY.index("non_coding_transcript_exon_variant")
cdef int TERM_INTRON = 1 << SEVERITY.index("intron_variant")


cdef tuple _term_names(int terms):
    """The terms of a TERM_* set, most severe first (mane.effect_terms' order)."""
    return tuple(term for rank, term in enumerate(SEVERITY) if terms & (1 << rank))


cdef inline bint _touches(_Change *change, long long start, long long end):
    """mane._touches: the change alters bases [start, end]; an insertion must lie between
    two of them."""
    if start > end:
        return False
    if change.insertion:
        return start <= change.start - 1 and change.start <= end
    return start <= change.end and change.start <= end


cdef inline bint _meets(_Change *change, long long start, long long end):
    """mane._meets: the change alters or borders bases [start, end]."""
    return start <= end and start <= change.high and change.low <= end


cdef str _numbered(Py_ssize_t first, Py_ssize_t last, Py_ssize_t total, bint plus):
    """hgvs._numbered of the exons (or introns) of indices [first, last] of ``total``,
    numbered in transcription order."""
    cdef Py_ssize_t low = first + 1, high = last + 1
    if not plus:
        low, high = total - last, total - first
    if low == high:
        return f"{low}/{total}"
    return f"{low}-{high}/{total}"


cdef int _substitution_term(str ref, str alt, long long number, long long last):
    """mane._substitution_term of a one-base substitution at c. ``number`` (transcript
    orientation bases) in a coding range of ``last`` bases."""
    if number <= 3:
        return TERM_START_LOST if START_CODON[number - 1] == ref else TERM_CODING
    if number >= last - 2:
        return _stop_codon_change(number - (last - 3), ref, alt)
    return TERM_CODING


cdef int _stop_codon_change(long long place, str ref, str alt):
    """mane._stop_codon_change: a substitution at base ``place`` (1-3) of the stop codon."""
    if place == 1:
        return TERM_STOP_LOST if ref == "T" else TERM_CODING
    if ref not in "AG":
        return TERM_CODING  # REF is not a stop codon's base
    if alt in "CT":
        return TERM_STOP_LOST
    return TERM_STOP_RETAINED if ref == "G" else TERM_CODING
