"""The scaling replay: CloudWatch alarm rules on hand-computed cases, Auto Scaling policy
semantics, the Terraform it reads, and the seed's scenarios from the real terraform/."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from loadtest import policies as tf
from loadtest import scaling_replay as replay
from loadtest.alarms import ALARM, INSUFFICIENT_DATA, OK, AlarmRule, Metric

# What make load measures, in round numbers: one web process sustains 40 req/s,
# one annotator takes 0.8 s a job.
WEB = replay.WebCapacity(40.0, ((10.0, 0.020, 0.050), (25.0, 0.025, 0.080), (40.0, 0.040, 0.180)))
ANNOTATOR = replay.AnnotatorCapacity({"small.vcf": 0.6, "large.vcf": 1.0})


def rule(**changes: object) -> AlarmRule:
    settings: dict[str, object] = {
        "name": "requests_high",
        "metric": "RequestCount",
        "statistic": "Sum",
        "period": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": 1,
        "threshold": 200.0,
        "comparison": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching",
        "delay": 60,
    }
    settings.update(changes)
    return AlarmRule(**settings)  # type: ignore[arg-type]


def per_second(metric: Metric, rate: float, start: int, end: int) -> Metric:
    for t in range(start, end):
        metric.put(t, rate)
    return metric


# --- statistics -----------------------------------------------------------------------


def test_sum_adds_every_request_of_the_period() -> None:
    # GIVEN 4 requests a second for two minutes
    metric = per_second(Metric(), 4, 0, 120)
    # THEN each one-minute datapoint is 240 and the two-minute one 480
    assert metric.datapoint(0, 60, "Sum") == 240
    assert metric.datapoint(0, 120, "Sum") == 480
    assert metric.datapoint(120, 180, "Sum") is None  # no sample: missing, not zero


def test_average_weighs_each_request() -> None:
    # GIVEN 10 requests answered in 5 ms and 30 in 25 ms within one minute
    metric = Metric()
    metric.put(3, 0.005, count=10)
    metric.put(40, 0.025, count=30)
    # THEN the average is (10*5 + 30*25) / 40 = 20 ms, not the 15 ms mean of the two values
    assert metric.datapoint(0, 60, "Average") == pytest.approx(0.020)
    assert metric.datapoint(0, 60, "Maximum") == 0.025
    assert metric.datapoint(0, 60, "Minimum") == 0.005
    assert metric.datapoint(0, 60, "SampleCount") == 40


# --- evaluation: period, delay, datapoints to alarm, missing data -------------------------


def test_a_datapoint_counts_only_once_its_period_has_ended_and_arrived() -> None:
    # GIVEN 4 requests/s (240 a minute, over the 200 threshold) from t = 0
    metric = per_second(Metric(), 4, 0, 600)
    alarm = rule(delay=60)
    # At 60 s the first minute has ended but not arrived: nothing to evaluate yet.
    assert alarm.datapoints(metric, 60) == [None]
    assert alarm.evaluate(metric, 60) == OK
    # At 119 s still not; at 120 s the minute [0, 60) is in: 240 > 200.
    assert alarm.evaluate(metric, 119) == OK
    assert alarm.datapoints(metric, 120) == [240]
    assert alarm.evaluate(metric, 120) == ALARM
    # Without a publication delay it would have fired a minute earlier.
    assert rule(delay=0).evaluate(metric, 60) == ALARM


def test_threshold_is_strict_for_greater_than() -> None:
    metric = Metric()
    metric.put(10, 150)
    metric.put(50, 50)  # exactly 200 in the minute
    assert rule().evaluate(metric, 120) == OK
    assert rule(comparison="GreaterThanOrEqualToThreshold").evaluate(metric, 120) == ALARM


def test_five_minute_sum_over_two_periods() -> None:
    # GIVEN the seed's annotator scale-in: fewer than 5 sent per 300 s, twice; a request
    # every 10 s until 600 s, then none
    scale_in = rule(
        period=300,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        threshold=5,
        comparison="LessThanThreshold",
        treat_missing_data="breaching",
    )
    metric = Metric()
    for t in range(0, 1800):
        metric.put(t, 1 if t < 600 and t % 10 == 0 else 0)
    # At 660 s the newest period is [300, 600): 30 requests; the one before [0, 300): 30.
    assert scale_in.datapoints(metric, 660) == [30, 30]
    assert scale_in.evaluate(metric, 660) == OK
    # At 960 s: [600, 900) = 0 breaches, [300, 600) = 30 does not: 1 of 2, still OK.
    assert scale_in.datapoints(metric, 960) == [0, 30]
    assert scale_in.evaluate(metric, 960) == OK
    # At 1260 s: [900, 1200) and [600, 900) are both 0: ALARM.
    assert scale_in.datapoints(metric, 1260) == [0, 0]
    assert scale_in.evaluate(metric, 1260) == ALARM


@pytest.mark.parametrize(
    ("datapoints", "expected"),
    [
        ([300, 300, 100], ALARM),  # 2 of 3 breach
        ([300, 100, 300], ALARM),  # not necessarily consecutive
        ([100, 100, 300], OK),  # 1 of 3
        ([100, 100, 100], OK),
    ],
)
def test_m_out_of_n(datapoints: list[float], expected: str) -> None:
    alarm = rule(evaluation_periods=3, datapoints_to_alarm=2)
    assert alarm.judge(list(datapoints)) == expected


@pytest.mark.parametrize(
    ("treatment", "previous", "expected"),
    [
        ("breaching", OK, ALARM),
        ("notBreaching", ALARM, OK),
        ("ignore", ALARM, ALARM),  # keeps the state it had
        ("ignore", OK, OK),
        ("missing", ALARM, INSUFFICIENT_DATA),
    ],
)
def test_all_datapoints_missing(treatment: str, previous: str, expected: str) -> None:
    alarm = rule(evaluation_periods=2, datapoints_to_alarm=2, treat_missing_data=treatment)
    assert alarm.judge([None, None], previous) == expected


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [("breaching", ALARM), ("notBreaching", OK), ("ignore", OK), ("missing", OK)],
)
def test_some_datapoints_missing(treatment: str, expected: str) -> None:
    # One breaching datapoint and one missing, two needed: only `breaching` makes it two.
    alarm = rule(evaluation_periods=2, datapoints_to_alarm=2, treat_missing_data=treatment)
    assert alarm.judge([300, None], ALARM) == expected


def test_rules_refuse_settings_cloudwatch_refuses() -> None:
    with pytest.raises(ValueError):
        rule(datapoints_to_alarm=3, evaluation_periods=2)
    with pytest.raises(ValueError):
        rule(period=90)
    with pytest.raises(ValueError):
        rule(treat_missing_data="zero")


# --- auto scaling ---------------------------------------------------------------------


def group(low: int = 2, high: int = 10) -> tf.Group:
    return tf.Group("web", low, high, processes=1)


def test_simple_scaling_waits_for_the_launch_and_the_cooldown() -> None:
    fleet = replay.Fleet(group(), in_service_seconds=60, boot_seconds=180)
    out = tf.SimplePolicy("out", 1, cooldown=300)
    assert fleet.simple(0, out) and fleet.desired == 3
    assert not fleet.simple(300, out)  # launch ends at 60 s, cooldown at 360 s
    assert not fleet.simple(359, out)
    assert fleet.simple(360, out) and fleet.desired == 4
    # The new instance counts as InService at 60 s and serves from 180 s.
    assert len(fleet.in_service(59)) == 2 and len(fleet.in_service(60)) == 3
    assert len(fleet.serving(179)) == 2 and len(fleet.serving(180)) == 3


def test_scale_in_waits_for_the_cooldown_of_a_scale_out() -> None:
    fleet = replay.Fleet(group(), in_service_seconds=60)
    fleet.simple(0, tf.SimplePolicy("out", 1, cooldown=300))
    assert not fleet.simple(200, tf.SimplePolicy("in", -1, cooldown=300))
    assert fleet.simple(360, tf.SimplePolicy("in", -1, cooldown=300)) and fleet.desired == 2


def test_a_change_the_bounds_cancel_starts_no_cooldown() -> None:
    fleet = replay.Fleet(group(2, 3), in_service_seconds=0)
    out, scale_in = tf.SimplePolicy("out", 1, 300), tf.SimplePolicy("in", -1, 300)
    assert not fleet.simple(0, scale_in)  # already at min: nothing happens...
    assert fleet.simple(60, out) and fleet.desired == 3  # ...so no cooldown blocks this
    assert not fleet.simple(600, out) and fleet.desired == 3  # max
    assert fleet.simple(660, scale_in)  # and reaching max started no cooldown either


def test_target_tracking_sizes_the_group_to_the_backlog() -> None:
    # GIVEN 2 InService annotators and a backlog of 9 per instance against a target of 2
    fleet = replay.Fleet(group(), in_service_seconds=60, boot_seconds=60)
    policy = tf.TargetTracking("backlog", "BacklogPerInstance", "Average", 2.0, 300, delay=0)
    metric = Metric()
    watcher = replay.tracking_watcher(fleet, policy, metric)
    for minute in range(3):
        metric.put(minute * 60, 9.0)
    # WHEN the high alarm has 3 breaching one-minute datapoints
    for t in (60, 120):
        watcher.tick(t)
    assert fleet.desired == 2
    watcher.tick(180)
    # THEN desired = ceil(2 InService * 9 / 2) = 9, in one step
    assert fleet.desired == 9
    # AND the low alarm (< 1.8 for 15 minutes) does not scale in during the warm-up
    for minute in range(3, 30):
        metric.put(minute * 60, 0.0)
    for t in range(240, 180 + 300, 60):
        watcher.tick(t)
    assert fleet.desired == 9
    for t in range(480, 1800, 60):
        watcher.tick(t)
    assert fleet.desired == 2


# --- what is read from terraform/ -------------------------------------------------------


def test_reads_the_seed_values_from_terraform() -> None:
    read = tf.read()
    out = replay.scale_out_alarm(read.web_alarms)
    assert (out.rule.metric, out.rule.statistic, out.rule.period) == ("RequestCount", "Sum", 60)
    assert (out.rule.threshold, out.policy.adjustment, out.policy.cooldown) == (200, 1, 300)
    scale_in = replay.scale_in_alarm(read.annotator_alarms)
    assert (scale_in.rule.metric, scale_in.rule.period, scale_in.rule.threshold) == (
        "NumberOfMessagesSent",
        300,
        5,
    )
    assert (scale_in.rule.evaluation_periods, scale_in.rule.datapoints_to_alarm) == (2, 2)
    assert scale_in.rule.treat_missing_data == "breaching"
    assert (read.web.min_size, read.web.max_size, read.annotator.max_size) == (2, 10, 10)
    assert (read.web.processes, read.annotator.processes) == (4, 1)
    assert (read.annotator_tracking.target, read.annotator_tracking.warmup) == (2, 300)


def test_overrides_replace_terraform_variables() -> None:
    read = tf.read(
        overrides={
            "web_cooldown_seconds": 120,
            "web_max_size": 6,
            "annotator_backlog_per_instance": 50,
        },
        delays={"AWS/SQS": 300},
    )
    assert replay.scale_out_alarm(read.web_alarms).policy.cooldown == 120
    assert read.web.max_size == 6
    assert read.annotator_tracking.target == 50
    assert replay.scale_out_alarm(read.annotator_alarms).rule.delay == 300


def test_a_setting_written_another_way_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "terraform"
    for part in ("modules/scaling", "modules/web", "modules/annotator", "envs/aws"):
        source = tf.TERRAFORM / part
        (root / part).mkdir(parents=True)
        for tf_file in source.glob("*.tf"):
            (root / part / tf_file.name).write_text(tf_file.read_text())
    main = root / "modules/scaling/main.tf"
    main.write_text(
        main.read_text().replace("var.web_cooldown_seconds", "var.web_cooldown_seconds * 2")
    )
    with pytest.raises(tf.TerraformShapeError):
        tf.read(root)


# --- the seed's scenarios, from the real terraform/ -------------------------------------


def seed_web(treatment: str | None = None) -> replay.Timeline:
    policies = tf.read()
    if treatment:
        policies = replay.with_missing_data(policies, treatment)
    trace = replay.synthetic("ramp", 150, start=60, rise=10, hold=3600, tail=3600)
    return replay.replay_web(trace, policies, WEB, replay.Fleet(policies.web))


def test_web_scales_out_one_instance_per_cooldown_to_the_maximum() -> None:
    run = seed_web()
    out = replay.outward(run)
    assert [(a.before, a.after) for a in out] == [(n, n + 1) for n in range(2, 10)]
    # 300 s cooldown after 60 s to InService, at the next one-minute evaluation
    assert replay.minutes_between(out) == [6.0] * 7
    assert all(a.t < 60 + 3600 for a in out)


def test_web_scales_in_one_by_one_after_the_load_stops() -> None:
    run = seed_web()
    scale_in = replay.inward(run)
    assert [(a.before, a.after) for a in scale_in] == [(n, n - 1) for n in range(10, 2, -1)]
    assert all(a.t > 60 + 3600 for a in scale_in)  # never while the load lasts
    assert replay.minutes_between(scale_in) == [5.0] * 7  # scale-in has no launch to wait for


def test_web_never_scales_in_an_idle_tier_when_missing_data_does_not_breach() -> None:
    run = seed_web("notBreaching")
    assert replay.inward(run) == []
    assert run.desired[-1] == 10


def test_web_latency_stays_flat_when_the_minimum_suffices() -> None:
    # 150 req/s over 2 instances of 4 processes is 18.75 req/s a process, under the 40 sustained:
    # nothing queues, and the latency is the measured curve's there, falling as instances come.
    run = seed_web()
    served = [v for v in run.latency if not math.isnan(v)]
    assert max(run.queue) == 0
    assert max(served) == pytest.approx(WEB.latency(150 / 8)[0])
    assert min(served) == pytest.approx(WEB.latency(150 / 40)[0])


def sessions() -> list[float]:
    return replay.synthetic("sessions", 0.1, start=60, hold=600, tail=1200, repeat=4)


def test_annotators_oscillate_between_2_and_4_with_the_step_policy() -> None:
    policies = tf.read()
    run = replay.replay_annotators(sessions(), policies, ANNOTATOR, "step")
    assert replay.sizes_between(run, 1860, len(sessions())) == (2, 4)
    sizes = [a.after for a in run.activities]
    assert sizes == [3, 4, 3, 2] * 4  # up with each run of the generator, down after it


def test_backlog_tracking_keeps_the_annotators_at_the_minimum_on_the_same_load() -> None:
    run = replay.replay_annotators(sessions(), tf.read(), ANNOTATOR, "backlog")
    assert run.activities == []
    assert max(run.queue) <= 1


def test_a_steady_stream_takes_the_step_policy_to_the_maximum() -> None:
    trace = replay.synthetic("step", 0.1, start=60, hold=7200, tail=3600)
    step = replay.replay_annotators(trace, tf.read(), ANNOTATOR, "step")
    assert max(step.desired) == 10 and step.desired[-1] == 2
    backlog = replay.replay_annotators(trace, tf.read(), ANNOTATOR, "backlog")
    assert set(backlog.desired) == {2}


def test_a_burst_is_cleared_sooner_by_backlog_tracking() -> None:
    # Five times what 2 annotators clear (0.8 s a job: 150 a minute) for 10 minutes.
    trace = replay.burst_trace(tf.read(), ANNOTATOR)
    assert sum(trace) == pytest.approx(5 * 150 * 10, abs=1)
    step = replay.replay_annotators(trace, tf.read(), ANNOTATOR, "step")
    backlog = replay.replay_annotators(trace, tf.read(), ANNOTATOR, "backlog")
    assert max(backlog.desired) == 10 > max(step.desired)
    assert replay.worst_latency(backlog) < replay.worst_latency(step) / 1.5
    # The step policy removes instances while the burst still waits in the queue.
    first_in = replay.inward(step)[0].t
    assert replay.waiting_at(step, first_in) > 1000


def test_seed_report_writes_its_charts_and_explanations(tmp_path: Path) -> None:
    report = replay.seed_report(tf.read(), WEB, ANNOTATOR, replay.Fleet, tmp_path)
    text = report.read_text()
    assert "oscillating between 2 and 4" in text
    assert "3 min 2→3, 9 min 3→4" in text  # the web's scale-out, as computed
    for chart in ("web_seed", "annotator_sessions", "annotator_steady", "annotator_burst"):
        png = tmp_path / f"{chart}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({chart}.png)" in text


# --- traces and capacity ----------------------------------------------------------------


def test_synthetic_shapes() -> None:
    assert replay.synthetic("step", 5, start=2, hold=3, tail=1) == [0, 0, 5, 5, 5, 0]
    assert replay.synthetic("ramp", 4, start=1, rise=2, hold=1, tail=1) == [0, 2, 4, 4, 0]
    assert replay.synthetic("sessions", 1, start=0, hold=1, tail=1, repeat=3) == [1, 0] * 3
    with pytest.raises(ValueError):
        replay.synthetic("sine", 1)


def test_locust_trace_replays_the_aggregated_rate(tmp_path: Path) -> None:
    csv = tmp_path / "web_stats_history.csv"
    csv.write_text(
        "Timestamp,User Count,Type,Name,Requests/s\n"
        "1,10,GET,/,3.0\n1,10,,Aggregated,5.0\n2,10,,Aggregated,7.0\n"
    )
    assert replay.locust_trace(csv) == [5.0, 7.0]
    assert replay.locust_trace(csv, time_scale=2, rate_scale=10) == [50.0, 50.0, 70.0, 70.0]


def test_web_latency_follows_the_measured_curve() -> None:
    assert WEB.latency(5) == (0.020, 0.050)  # below the first stage: as measured there
    assert WEB.latency(17.5) == pytest.approx((0.0225, 0.065))  # halfway between stages
    assert WEB.latency(100) == (0.040, 0.180)
