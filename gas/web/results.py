"""Results views of a COMPLETED job: summary charts and the variant table.

- The details page (gas.web.annotations) includes ``results/_sections.html``,
  which asks the template global ``result_views(job)`` for the charts (drawn
  from the job's summary.json) and the table's first page.
- ``GET /annotations/<job_id>/variants``: the whole table, server-rendered,
  with a GET form for filters (gene, consequence, region, has rsID), links
  for sorting and pages. ``.../variants.json`` answers the same query as JSON.

The table is read from a per-job SQLite index (gas.web.results_index) that this
web instance builds once from the TSV in S3 and keeps in its cache folder.
Archived results (storage_status other than AVAILABLE) are never served,
cached or not: the page says they are archived, and the cached index is
dropped.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import bottle
from jinja2 import Environment
from markupsafe import Markup, escape

from gas.core.jobs import Job, JobStatus
from gas.services.results_store import is_archived
from gas.web import security
from gas.web.context import WebContext
from gas.web.results_charts import summary_charts
from gas.web.results_index import (
    SORTS,
    IndexCache,
    IndexUnavailable,
    VariantPage,
    VariantQuery,
    default_cache_bytes,
    default_cache_dir,
    query_variants,
)

log = logging.getLogger(__name__)

TABLE_TEMPLATE = "results/_table.html"
PREVIEW_ROWS = 25
MAX_SUMMARY_BYTES = 1024 * 1024
SUMMARY_CACHE_SIZE = 256
# Why the headline numbers differ (records, alleles and rows), and what an rsID count means.
COUNTS_NOTE = (
    "A record is one line of the VCF and can hold several ALT alleles; the table has a row "
    "per allele and gene (an allele in two overlapping genes has two rows). The charts count "
    "records, except Variant classes and Transitions and transversions, which count alleles. "
    "rsIDs come from the file's ID column or from the annotation bundle's common SNPs "
    "only, so a variant without one may still be in dbSNP."
)
_JOINTS = re.compile(r"(?<=[_&.:/])")  # after each of these characters
SORT_LABELS = {"position": "Position", "gene": "Gene", "consequence": "Consequence", "af": "AF"}
assert set(SORT_LABELS) == set(SORTS)


def table_page(
    path: Path, params: Mapping[str, str], *, per_page: int | None = None
) -> VariantPage:
    """What the table route does with an index and the request's parameters."""
    query = VariantQuery.from_params(params)
    if per_page is not None:
        query = replace(query, per_page=per_page)
    return query_variants(path, query)


@dataclass(frozen=True, slots=True)
class TableView:
    """The table's state for one job: ``ready`` (with a page), ``preparing`` (its index is
    being built off the request), ``archived`` or ``unavailable``."""

    state: str
    page: VariantPage | None = None


class ResultViews:
    """Charts and tables for jobs, with the summary and index caches behind them."""

    def __init__(self, ctx: WebContext, cache: IndexCache) -> None:
        self.ctx = ctx
        self.cache = cache
        self._summaries: OrderedDict[tuple[str, str], dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()

    def summary(self, job: Job) -> dict[str, Any] | None:
        """The job's summary.json as a dict (None if missing or unreadable); kept in memory."""
        if not (job.s3_results_bucket and job.s3_key_summary_file):
            return None
        key = (job.s3_results_bucket, job.s3_key_summary_file)
        with self._lock:
            if key in self._summaries:
                self._summaries.move_to_end(key)
                return self._summaries[key]
        try:
            found = self.ctx.results.read_summary(job, MAX_SUMMARY_BYTES)
        except Exception as exc:  # a missing, archived or malformed summary: no charts
            log.warning("job %s: no summary charts (%s)", job.job_id, exc)
            return None  # not cached: it may be a passing S3 error
        summary = found if isinstance(found, dict) else None
        with self._lock:
            self._summaries[key] = summary
            while len(self._summaries) > SUMMARY_CACHE_SIZE:
                self._summaries.popitem(last=False)
        return summary

    def table(self, job: Job, params: Mapping[str, str], per_page: int | None = None) -> TableView:
        """A page of the job's variants; builds the index on first use."""
        if is_archived(job):
            self.cache.evict(job.job_id)
            return TableView("archived")
        if not (job.s3_results_bucket and job.s3_key_tsv_file):
            return TableView("unavailable")
        try:
            state, path = self.cache.prepare(job.job_id, lambda: self.ctx.results.tsv_lines(job))
            if path is None:
                return TableView(state)
            return TableView("ready", table_page(path, params, per_page=per_page))
        except IndexUnavailable as exc:
            log.warning("job %s: no variant table (%s)", job.job_id, exc)
        except Exception:  # S3 or disk trouble: the page still shows the rest
            log.exception("job %s: the variant table failed", job.job_id)
        return TableView("unavailable")

    def for_details(self, job: Job) -> dict[str, Any]:
        """What the details page shows for a COMPLETED job: facts, charts, table preview."""
        if job.job_status != JobStatus.COMPLETED:
            return {}
        summary = self.summary(job) or {}
        table = self.table(job, {}, per_page=PREVIEW_ROWS)
        rows = table.page.rows_in_job if table.page else None
        return {
            "facts": _facts(summary, rows),
            "counts_note": COUNTS_NOTE if summary else "",
            "charts": summary_charts(summary),
            "table": table,
        }


def _facts(summary: Mapping[str, Any], rows: int | None) -> list[tuple[str, str]]:
    """Headline numbers from summary.json and the table's row count, as (label, text) pairs."""
    facts = []
    for key, label in (("records", "Variant records"), ("alleles", "ALT alleles")):
        value = summary.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            facts.append((label, f"{value:,}"))
    if facts and rows is not None:
        facts.append(("Table rows", f"{rows:,}"))
    known = summary.get("in_dbsnp")  # records with an rsID: from the ID column or common SNPs
    if isinstance(known, Mapping) and isinstance(known.get("total"), int):
        percent = known.get("percent")
        share = f" ({percent:.1f}%)" if isinstance(percent, int | float) else ""
        facts.append(("Known rsID (ID column or common SNPs)", f"{known['total']:,}{share}"))
    source = summary.get("input")
    if isinstance(source, Mapping) and isinstance(source.get("assembly"), str):
        facts.append(("Input assembly", source["assembly"]))
    lift = summary.get("liftover")
    if isinstance(lift, Mapping) and isinstance(lift.get("unmapped"), int) and lift["unmapped"]:
        facts.append(("Not lifted to GRCh38", f"{lift['unmapped']:,}"))
    return facts


def _sort_link(base: str, query: VariantQuery, sort: str) -> dict[str, str]:
    """The header link for a column: toggles the direction when it is the current sort."""
    current = query.sort == sort
    direction = "desc" if current and query.direction == "asc" else "asc"
    href = base + _query_string(query.params(sort=sort, direction=direction, page=1))
    aria = ""
    if current:
        aria = "ascending" if query.direction == "asc" else "descending"
    return {
        "href": href,
        "aria_sort": aria,
        "next": "descending" if direction == "desc" else "ascending",
    }


def _query_string(params: Mapping[str, str]) -> str:
    return "?" + urlencode(params) if params else ""


def breakable(text: object) -> Markup:
    """Text with a line-break opportunity after each ``_ & . : /``: a tight table wraps
    SO terms (``coding_sequence_variant``) and transcript ids at their joints, not mid-word."""
    return Markup("<wbr>").join(escape(part) for part in _JOINTS.split(str(text)))


def install_template_helpers(templates: Environment) -> None:
    """What results/_table.html calls: sort links, query strings, column labels, breakable."""
    templates.filters["breakable"] = breakable
    templates.globals["sort_link"] = _sort_link
    templates.globals["query_string"] = _query_string
    templates.globals["sort_labels"] = SORT_LABELS


def register(app: bottle.Bottle, ctx: WebContext) -> None:
    views = ResultViews(ctx, IndexCache(default_cache_dir(), default_cache_bytes()))
    install_template_helpers(ctx.templates)
    ctx.templates.globals["result_views"] = views.for_details

    def completed_job(job_id: str) -> Job:
        """The logged-in user's COMPLETED job; 404 otherwise (unknown, another's, unfinished)."""
        account = ctx.require_account()
        plausible = len(job_id) == 36 and all(c in "0123456789abcdef-" for c in job_id)
        job = ctx.jobs.get(job_id) if plausible else None
        if job is None or job.user_id != account.user_id or job.job_status != JobStatus.COMPLETED:
            raise bottle.HTTPError(404)
        return job

    def params() -> dict[str, str]:
        query = bottle.request.query
        return {name: query.getunicode(name, "") or "" for name in query}

    @app.get("/annotations/<job_id>/variants")
    @security.login_required
    def variants(job_id: str) -> str:
        job = completed_job(job_id)
        view = views.table(job, params())
        return ctx.render("results/variants.html", job=job, view=view, table=view.page)

    @app.get("/annotations/<job_id>/variants.json")
    @security.login_required
    def variants_json(job_id: str) -> dict[str, Any]:
        job = completed_job(job_id)
        view = views.table(job, params())
        if view.page is None:
            bottle.response.status = {"archived": 410, "preparing": 202}.get(view.state, 503)
            return {"job_id": job.job_id, "state": view.state, "rows": []}
        page = view.page
        return {
            "job_id": job.job_id,
            "state": view.state,
            "query": asdict(page.query),
            "total": page.total,
            "rows_in_job": page.rows_in_job,
            "pages": page.pages,
            "rows": page.rows,
        }
