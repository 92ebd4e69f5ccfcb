"""Users see only their own jobs: another user's job is a plain 404, everywhere."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import SAMPLES, NewContext, Shots, register, upload


def test_a_user_cannot_open_another_users_job(new_context: NewContext, shots: Shots) -> None:
    # GIVEN a job of the first user
    first = new_context().new_page()
    register(first, shots, name="First User")
    shots.take(first, "first-user-annotate")
    job_id = upload(first, SAMPLES / "free_1.vcf")
    shots.take(first, "first-user-details")

    # WHEN a second user, in their own browser, opens its pages
    second = new_context().new_page()
    register(second, shots, name="Second User")
    response = second.goto(f"/annotations/{job_id}")

    # THEN they get the 404 page, as for a job that does not exist
    assert response is not None and response.status == 404
    expect(second.locator("h1")).to_have_text("Page not found")
    expect(second.get_by_text(job_id)).to_have_count(0)
    shots.take(second, "second-user-404")
    for suffix in ("/status", "/log", "/variants", "/variants.json"):
        answer = second.request.get(f"/annotations/{job_id}{suffix}")
        assert answer.status == 404, suffix

    # AND the job is not in their list, while its owner still sees it
    second.goto("/annotations")
    expect(second.locator(f'a[href="/annotations/{job_id}"]')).to_have_count(0)
    shots.take(second, "second-user-list")
    # (a new tab: the first one reloads itself when the job finishes, which would abort a goto)
    owner = first.context.new_page()
    owner.goto(f"/annotations/{job_id}")
    expect(owner.locator("h1")).to_have_text("Annotation details")
    shots.take(owner, "first-user-details-again")
