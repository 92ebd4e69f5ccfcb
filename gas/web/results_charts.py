"""Summary charts as inline SVG: pure functions from counts to markup.

No JavaScript and no styles inside the SVG (the CSP forbids inline styles;
presentation attributes are allowed): every chart is one ``<svg role="img">``
with a ``<title>`` and a ``<desc>`` that states the numbers in words, text
labels beside the bars, and a ``viewBox`` so it scales to its container.
Labels come from the user's VCF (chromosome and gene names), so every piece
of text is XML-escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from markupsafe import Markup

# Colours (WCAG: bars at least 3:1 against white, text at least 4.5:1).
INK = "#1b1f24"  # 16:1 on white
MUTED = "#57606a"  # 6.4:1
BAR = "#0b5cad"  # 6.6:1
BAR_ALT = "#9a3412"  # 7.0:1, the second series (transversions)
TRACK = "#eef1f4"

WIDTH = 480  # viewBox units; the SVG scales to its container's width
ROW = 22  # height of one bar's row
BAR_HEIGHT = 14
FONT = 12  # px in viewBox units
CHAR = 6.8  # rough average width of one character at FONT (an empty chart's label column)
MAX_LABEL_CHARS = 22
VALUE_ROOM = 64  # right of the bars, for "12,345"

_CHROM_PREFIX = re.compile(r"^chr", re.IGNORECASE)
_KARYOTYPE = {str(n): n for n in range(1, 23)} | {"X": 23, "Y": 24, "M": 25, "MT": 25}
MT_RANK = _KARYOTYPE["MT"]
OTHER_CHROMOSOMES = 100


def chromosome_rank(name: str) -> int:
    """Karyotype order: 1..22 → 1..22, X → 23, Y → 24, MT (or M) → 25, anything else → 100.

    A ``chr`` prefix is ignored (``chr7`` ranks as ``7``). Ties (the "others")
    are broken by name by the caller.
    """
    return _KARYOTYPE.get(_CHROM_PREFIX.sub("", name.strip()).upper(), OTHER_CHROMOSOMES)


def karyotype_order(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Chromosome counts in karyotype order (1..22, X, Y, MT, then others by name)."""
    return sorted(counts.items(), key=lambda item: (chromosome_rank(item[0]), item[0]))


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


def _shorten(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


# DejaVu Sans advance widths of the lower-case letters, in em, rounded up, by width.
_LOWER_WIDTHS = (
    "ijl .28 f .36 t .4 r .42 sz .53 c .56 k .58 vxy .6 aeo .62 bdghnpqu .64 w .82 m .98"
)
_LOWER_EM = {
    char: float(em)
    for letters, em in zip(_LOWER_WIDTHS.split()[::2], _LOWER_WIDTHS.split()[1::2], strict=True)
    for char in letters
}


def _text_width(text: str) -> float:
    """Rough width of ``text`` at FONT, in viewBox units, erring wide.

    Per character, after DejaVu Sans (the widest common system-ui face): a flat
    CHAR per character clipped labels such as "MT-RNR2", whose capitals and
    digits are wider than the average letter, and a flat width per lower-case
    letter and for "…" clipped shortened Sequence Ontology terms
    ("downstream_gene_varia…"), whose m, w and ellipsis are far wider than average.
    """
    width = 0.0
    for char in text:
        if char in _LOWER_EM:
            width += FONT * _LOWER_EM[char]
        elif char.isupper():
            width += FONT * 0.75
        elif char.isdigit():
            width += FONT * 0.64
        elif char.isalpha():
            width += FONT * 0.6
        else:  # "…" (a shortened label's end) is a full em; "_" the widest other punctuation
            width += FONT * (1.0 if char == "…" else 0.5)
    return width


def _open(chart_id: str, title: str, desc: str, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height:g}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )


def svg_bar_chart(
    chart_id: str,
    title: str,
    items: Iterable[tuple[str, float]],
    *,
    unit: str = "variants",
) -> Markup:
    """A horizontal bar chart: one row per (label, value), in the order given.

    Bar lengths are proportional to the values (the longest bar is the
    largest value); each row shows its label on the left and its value on
    the right. ``chart_id`` must be unique on the page (it names the title
    and description for ``aria-labelledby``). Negative values count as 0.
    """
    rows = [(str(label), max(0.0, float(value))) for label, value in items]
    total = sum(value for _, value in rows)
    largest = max((value for _, value in rows), default=0.0)
    desc = (
        "; ".join(f"{label}: {_number(v)} ({_percent(v, total)})" for label, v in rows)
        if rows
        else "No data."
    )
    label_width = max((_text_width(_shorten(label)) for label, _ in rows), default=4 * CHAR)
    left = round(label_width + 10)
    track = WIDTH - left - VALUE_ROOM
    height = max(1, len(rows)) * ROW + 4
    parts = [_open(chart_id, title, f"{desc} Total: {_number(total)} {unit}.", height)]
    for n, (label, value) in enumerate(rows):
        y = 2 + n * ROW
        bar_y = y + (ROW - BAR_HEIGHT) / 2
        text_y = y + ROW / 2 + FONT * 0.35
        length = track * value / largest if largest else 0.0
        parts.append(
            f'<g class="chart-row"><text x="{left - 6}" y="{text_y:g}" text-anchor="end" '
            f'fill="{INK}">{escape(_shorten(label))}</text>'
            f'<rect class="track" x="{left}" y="{bar_y:g}" width="{track:g}" '
            f'height="{BAR_HEIGHT}" fill="{TRACK}"/>'
            f'<rect class="bar" x="{left}" y="{bar_y:g}" width="{length:.2f}" '
            f'height="{BAR_HEIGHT}" fill="{BAR}" data-value="{_number(value)}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
            f'<text class="value" x="{left + length + 4:.2f}" y="{text_y:g}" '
            f'fill="{MUTED}">{_number(value)}</text></g>'
        )
    if not rows:
        parts.append(f'<text x="4" y="{ROW / 2 + 4:g}" fill="{MUTED}">No data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def svg_ts_tv_chart(chart_id: str, transitions: int, transversions: int, ratio: float) -> Markup:
    """Transitions against transversions: one bar split in proportion, the ratio above it.

    The two parts differ in colour and are separated by a gap, and each has a
    text label with its count and share, so colour is never the only cue.
    """
    transitions, transversions = max(0, int(transitions)), max(0, int(transversions))
    total = transitions + transversions
    ts_share = transitions / total if total else 0.0
    desc = (
        f"Transitions: {transitions:,} ({_percent(transitions, total)}); "
        f"transversions: {transversions:,} ({_percent(transversions, total)}); "
        f"Ts/Tv ratio {ratio:.2f}."
    )
    parts = [_open(chart_id, "Transitions and transversions", desc, 84)]
    parts.append(
        f'<text x="0" y="14" fill="{INK}" font-weight="600">Ts/Tv ratio {ratio:.2f}</text>'
    )
    ts_width = WIDTH * ts_share
    gap = 2 if transitions and transversions else 0
    parts.append(
        f'<rect class="bar ts" x="0" y="24" width="{max(0.0, ts_width - gap / 2):.2f}" '
        f'height="22" fill="{BAR}"><title>Transitions: {transitions:,}</title></rect>'
        f'<rect class="bar tv" x="{ts_width + gap / 2:.2f}" y="24" '
        f'width="{max(0.0, WIDTH - ts_width - gap / 2):.2f}" height="22" fill="{BAR_ALT}">'
        f"<title>Transversions: {transversions:,}</title></rect>"
    )
    parts.append(
        f'<text x="0" y="66" fill="{INK}"><tspan fill="{BAR}" font-weight="700">■</tspan> '
        f"Transitions {transitions:,} ({_percent(transitions, total)})</text>"
        f'<text x="{WIDTH}" y="66" text-anchor="end" fill="{INK}">'
        f'<tspan fill="{BAR_ALT}" font-weight="700">■</tspan> '
        f"Transversions {transversions:,} ({_percent(transversions, total)})</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _counts(value: object) -> dict[str, int]:
    """A summary.json mapping of name → count, keeping only whole non-negative counts."""
    if not isinstance(value, Mapping):
        return {}
    found = {}
    for name, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int | float):
            continue
        found[str(name)] = max(0, int(count))
    return found


def _largest_first(counts: Mapping[str, int], limit: int | None = None) -> list[tuple[str, int]]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:limit] if limit else ordered


def ts_tv_note(chromosomes: Mapping[str, int]) -> str:
    """What to compare this file's Ts/Tv with: mitochondrial DNA changes mostly by
    transitions, so the nuclear genome's 2.0 to 2.1 does not apply to it."""
    mitochondrial = sum(n for name, n in chromosomes.items() if chromosome_rank(name) == MT_RANK)
    nuclear = sum(chromosomes.values()) - mitochondrial
    if mitochondrial and not nuclear:
        return (
            "SNVs only, all mitochondrial. Human mtDNA changes mostly by transitions, so "
            "ratios far above the nuclear genome's 2.0 to 2.1 (often 10 or more) are expected."
        )
    nuclear_note = "SNVs only. Whole human genomes usually show about 2.0 to 2.1, exomes about 3."
    if mitochondrial:
        return (
            f"{nuclear_note} {mitochondrial:,} of these records are mitochondrial, "
            "whose ratio is far higher: they raise the file's."
        )
    return nuclear_note


def summary_charts(summary: Mapping[str, object]) -> list[dict[str, object]]:
    """The charts for one anntools summary.json: a list of {id, heading, svg, note}.

    Sections missing from the summary (or malformed) are left out.
    """
    charts: list[dict[str, object]] = []

    def add(key: str, heading: str, items: Sequence[tuple[str, int]], note: str = "") -> None:
        if items:
            svg = svg_bar_chart(f"chart-{key}", heading, items)
            charts.append({"id": key, "heading": heading, "svg": svg, "note": note})

    add("classes", "Variant classes", _largest_first(_counts(summary.get("classes"))))
    ts_tv = summary.get("ts_tv")
    if isinstance(ts_tv, Mapping):
        counts = _counts(ts_tv)
        ratio = ts_tv.get("ratio")
        transitions, transversions = counts.get("transitions", 0), counts.get("transversions", 0)
        if transitions or transversions:
            if not isinstance(ratio, int | float) or isinstance(ratio, bool):
                ratio = transitions / transversions if transversions else 0.0
            svg = svg_ts_tv_chart("chart-ts-tv", transitions, transversions, float(ratio))
            charts.append(
                {
                    "id": "ts-tv",
                    "heading": "Transitions and transversions",
                    "svg": svg,
                    "note": ts_tv_note(_counts(summary.get("chromosomes"))),
                }
            )
    add("regions", "Regions", _largest_first(_counts(summary.get("regions"))))
    add(
        "consequences",
        "Consequences",
        _largest_first(_counts(summary.get("consequences"))),
        "Records with each consequence. The table's Consequence filter counts rows, one per "
        "allele and gene, so a record with two such alleles or genes counts twice there.",
    )
    add(
        "chromosomes",
        "Variants per chromosome",
        karyotype_order(_counts(summary.get("chromosomes"))),
        "In karyotype order: 1 to 22, X, Y, MT, then others.",
    )
    add(
        "genes",
        "Genes with the most variants",
        _largest_first(_counts(summary.get("top_genes")), 15),
    )
    return charts
