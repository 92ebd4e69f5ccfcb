"""A Free user's whole path in the browser: register, upload, live progress, results."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SAMPLES, Gas, NewContext, Shots, register, upload, wait_completed

# Records every text the status badge of a details page shows, with the document it was
# shown in (performance.timeOrigin differs after a reload), in sessionStorage.
BADGE_RECORDER = """
(() => {
  if (!/^\\/annotations\\/[0-9a-f-]{36}$/.test(location.pathname)) { return; }
  const doc = String(performance.timeOrigin);
  const record = (text) => {
    const seen = JSON.parse(sessionStorage.getItem("gasBadge") || "[]");
    seen.push({ doc: doc, text: text });
    sessionStorage.setItem("gasBadge", JSON.stringify(seen));
  };
  document.addEventListener("DOMContentLoaded", () => {
    const badge = document.querySelector("[data-badge]");
    if (!badge) { return; }
    record(badge.textContent.trim());
    new MutationObserver(() => record(badge.textContent.trim()))
      .observe(badge, { childList: true, characterData: true, subtree: true });
    const bar = document.querySelector("[data-progress] progress");
    if (bar) {
      new MutationObserver(() => record("progress " + bar.getAttribute("value")))
        .observe(bar, { attributes: true, attributeFilter: ["value"] });
    }
  });
})();
"""


def badge_history(page: Page) -> list[list[str]]:
    """The badge texts of each details document in turn (one list per page load)."""
    seen = json.loads(page.evaluate("sessionStorage.getItem('gasBadge') || '[]'"))
    documents: dict[str, list[str]] = {}
    for entry in seen:
        documents.setdefault(entry["doc"], []).append(entry["text"])
    return list(documents.values())


def test_free_user_uploads_watches_progress_and_gets_results(
    gas: Gas, new_context: NewContext, shots: Shots
) -> None:
    # GIVEN a new Free user on the annotate page
    context = new_context()
    context.add_init_script(BADGE_RECORDER)
    page = context.new_page()
    register(page, shots)
    shots.take(page, "annotate")

    # WHEN they upload free_1.vcf (the form posts to S3, which sends the browser back to GAS)
    job_id = upload(page, SAMPLES / "free_1.vcf")
    expect(page.locator("h1")).to_have_text("Annotation details")
    expect(page.locator(".flash")).to_contain_text("free_1.vcf was received")
    shots.take(page, "details-running")

    # THEN the details page follows the job without a reload, then reloads once it is done
    wait_completed(page)
    documents = badge_history(page)
    first, last = documents[0], documents[-1]
    assert first[0] in ("Pending", "Running"), documents
    assert "Completed" in first, f"the status never changed in place: {documents}"
    assert last == ["Completed"], documents
    shots.take(page, "details-completed")

    # AND the summary charts are drawn as SVG, with the variant table below
    charts = page.locator(".chart-card svg")
    assert charts.count() >= 3
    expect(charts.first).to_be_visible()
    expect(page.locator("#summary-heading")).to_have_text("Summary")
    expect(page.locator("#variants-heading")).to_be_visible()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("svg.chart text")]
              .filter(t => t.getBBox().x < 0).map(t => t.textContent)"""
    )
    assert not clipped, f"chart labels cut off at the left edge: {clipped}"

    # AND the annotated VCF downloads from its presigned link, annotated
    link = page.get_by_role("link", name="Annotated VCF")
    expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(gas.aws_url)}/"))
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == "free_1.annot.vcf"
    text = Path(download.path()).read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header[0].startswith("##fileformat=VCF")
    assert any(line.startswith("##anntools_version=") for line in header)
    assert "##anntools_command=anntools annotate free_1.vcf" in header  # no worker paths
    assert any(line.startswith("##INFO=<ID=ANNTOOLS") for line in header)
    assert header[-1].startswith("#CHROM\tPOS\tID\tREF\tALT")
    assert len(text.splitlines()) > len(header)

    # AND the log page shows the run's log
    page.get_by_role("link", name="View the log").click()
    page.wait_for_url(f"**/annotations/{job_id}/log")
    expect(page.locator("h1")).to_have_text("Log of free_1.vcf")
    expect(page.locator("pre.log")).not_to_be_empty()
    shots.take(page, "log")

    # AND the job is listed as Completed in My annotations
    page.get_by_role("link", name="My annotations").click()
    row = page.locator("tr", has=page.locator(f'a[href="/annotations/{job_id}"]'))
    expect(row.locator("[data-badge]")).to_have_text("Completed")
    shots.take(page, "list")
