"""Pure parts of the retention handlers: their messages, the thaw queue's readers, backoff."""

from __future__ import annotations

import json

import pytest

from gas.core.jobs import Job, JobStatus
from gas.core.messages import (
    ArchiveJob,
    MalformedMessage,
    ThawCheck,
    UserDowngraded,
    UserUpgraded,
    unwrap,
    unwrap_any,
)
from gas.workers.thawer import Wake, backoff_delay, wakes

JOB_ID = "0b5a3e8e-3c57-4f6e-9d2a-8f1f8d0c1a2b"


def _sns(message: str) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m", "Message": message})


@pytest.mark.parametrize(
    "message",
    [
        ArchiveJob(JOB_ID, "u1"),
        UserDowngraded("u1"),
        UserUpgraded("u1", "r1"),
        ThawCheck(JOB_ID, 3),
    ],
)
def test_retention_messages_round_trip(
    message: ArchiveJob | UserDowngraded | UserUpgraded | ThawCheck,
) -> None:
    document = unwrap(_sns(message.to_json()))
    assert type(message).from_document(document) == message


def test_a_thaw_check_needs_a_whole_attempt() -> None:
    document = json.loads(ThawCheck(JOB_ID).to_json())
    document["attempt"] = -1
    with pytest.raises(MalformedMessage):
        ThawCheck.from_document(document)


def test_unwrap_any_leaves_documents_without_a_type() -> None:
    assert unwrap_any(_sns('{"Action": "ArchiveRetrieval"}')) == {"Action": "ArchiveRetrieval"}


def test_the_thaw_queue_reads_our_checks_glacier_notices_and_s3_events() -> None:
    assert wakes(ThawCheck(JOB_ID, 2).to_json()) == [Wake(JOB_ID, 2, True)]
    notice = {"Action": "ArchiveRetrieval", "JobDescription": JOB_ID, "StatusCode": "Succeeded"}
    assert wakes(_sns(json.dumps(notice))) == [Wake(JOB_ID, 0, False)]
    event = {
        "Records": [
            {"eventName": "ObjectRestore:Post", "s3": {"object": {"key": "x"}}},
            {
                "eventName": "ObjectRestore:Completed",
                "s3": {"object": {"key": f"user%40x/{JOB_ID}~my+file.annot.vcf"}},
            },
        ]
    }
    assert wakes(_sns(json.dumps(event))) == [Wake(JOB_ID, 0, False)]
    assert wakes(json.dumps({"Event": "s3:TestEvent"})) == []
    with pytest.raises(MalformedMessage):
        wakes(json.dumps({"something": "else"}))
    with pytest.raises(MalformedMessage):
        wakes(json.dumps({"Action": "ArchiveRetrieval", "JobDescription": "not a job"}))


def test_backoff_doubles_up_to_the_sqs_cap() -> None:
    assert [backoff_delay(n, 60) for n in range(6)] == [60, 120, 240, 480, 900, 900]
    assert backoff_delay(100, 1, 4) == 4


def test_archived_files_come_from_the_job_attributes() -> None:
    job = Job(
        job_id=JOB_ID,
        user_id="u1",
        input_file_name="a.vcf",
        s3_inputs_bucket="in",
        s3_key_input_file="k",
        submit_time=1,
        job_status=JobStatus.COMPLETED,
        s3_key_result_file="r.annot.vcf",
        s3_key_tsv_file="r.annot.tsv",
        s3_key_log_file="r.vcf.count.log",
        results_file_archive_id="A1",
        results_file_checksum="c1",
    )
    assert job.archivable_files() == {"vcf": "r.annot.vcf", "tsv": "r.annot.tsv"}
    [vcf] = job.archived_files()
    assert (vcf.kind, vcf.key, vcf.archive_id, vcf.checksum) == ("vcf", "r.annot.vcf", "A1", "c1")
    assert Job.from_item(job.to_item()) == job
