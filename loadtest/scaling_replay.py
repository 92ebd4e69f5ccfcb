"""What the autoscaling groups would do: the Terraform scaling policies replayed on a load trace.

    python -m loadtest.scaling_replay seed                  # the seed's scenarios, explained
    python -m loadtest.scaling_replay web --shape step --peak 150 --hold 3600 --tail 3600
    python -m loadtest.scaling_replay web --locust-csv results/load/web_stats_history.csv \\
        --time-scale 30 --rate-scale 3
    python -m loadtest.scaling_replay annotator --policy both --shape sessions --peak 6
    ... --var web_cooldown_seconds=120 --var web_max_size=6   # try a change first

The alarm and policy parameters come from terraform/ (loadtest.policies); CloudWatch's
alarm semantics are in loadtest.alarms; per-instance capacity comes from ``make load``
(``--capacity results/load/capacity.json``: one web process's sustainable rate and
latency, one annotator's service time per sample file) times the processes per
instance Terraform runs. The replay steps through the trace second by second, puts
the metrics each alarm watches, evaluates the alarms every minute, and applies the
policies to the group. It plots instances, load and latency over time.

Auto Scaling semantics, as documented, with this replay's simplifications
(*assumption*):

- **Simple scaling** (``ChangeInCapacity``): while its alarm is in ALARM the policy is
  invoked at every evaluation (once a minute). The group ignores it while a scaling
  activity is in progress or its **cooldown** has not ended; the cooldown starts when
  the activity ends (a launch ends when the instance is InService). Desired capacity
  is clamped to **min** and **max**; a change that the clamp cancels starts no activity
  and no cooldown. *Assumption*: the cooldown is the group's, shared by its simple
  policies (a scale-in waits out a scale-out's cooldown and the reverse).
- **Instances**: a launched instance is InService ``--in-service-seconds`` later
  (default 60; the launch activity ends then) and serves ``--boot-seconds`` after
  launch (default 180: boot, install the release, start the service). *Assumption*:
  scale-in removes instances still launching first, then the newest; a terminated
  instance stops taking work at once; an annotator finishes the job it holds (it does
  on SIGTERM), a web instance's requests drain.
- **Target tracking** (the backlog policy): Auto Scaling makes two alarms on the
  metric: high, value > target for 3 of 3 one-minute datapoints; low, value < 90 % of
  target for 15 of 15. High sets desired capacity to ceil(InService x value / target)
  if that is more (instances still launching count, so it does not add twice); low
  lowers it to that, at least min, and never while an instance is in its **warm-up**
  (``estimated_instance_warmup``). There is no cooldown. *Assumption*: scale-in goes to
  the computed capacity at once (AWS may remove capacity more gradually).
- **Web latency**: each web process serves at most its measured sustainable rate;
  below that, its latency follows the measured curve (mean and p95 by rate, linear
  between stages); above it, requests queue and wait (queue / capacity). The load
  balancer spreads requests evenly. RequestCount is every request; TargetResponseTime
  the mean latency of served requests; an idle load balancer publishes neither.
- **Annotators**: job requests wait in the queue; each annotator process takes one
  job at a time and holds it for the measured service time of its file (the trace
  cycles through the sample files, as ann_load does). NumberOfMessagesSent counts
  arrivals (SQS publishes zeros while a queue is active); BacklogPerInstance is
  visible requests / InService instances, once a minute (gas.workers.backlog).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import math
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loadtest import policies as tf
from loadtest.alarms import ALARM, INSUFFICIENT_DATA, MINUTE, AlarmRule, Metric

DEFAULT_CAPACITY = Path(__file__).resolve().parents[1] / "results" / "load" / "capacity.json"
IN_SERVICE_SECONDS = 60  # launch to InService: when a launch activity ends
BOOT_SECONDS = 180  # launch to serving: boot, install the release, start the service
HIGH_DATAPOINTS, LOW_DATAPOINTS, LOW_FRACTION = 3, 15, 0.9  # target tracking's own alarms
MAX_WAIT_SECONDS = 60.0  # latency shown for requests that find no web instance at all


# --- capacity, from make load ------------------------------------------------------------


@dataclass(frozen=True)
class WebCapacity:
    """One web process: its sustainable rate and its latency curve (rps, mean s, p95 s)."""

    rps: float
    curve: tuple[tuple[float, float, float], ...]

    def latency(self, rps: float) -> tuple[float, float]:
        """Mean and p95 latency (s) of a process serving ``rps`` (linear between stages)."""
        rates = [point[0] for point in self.curve]
        i = bisect.bisect_left(rates, rps)
        if i == 0:
            return self.curve[0][1], self.curve[0][2]
        if i == len(self.curve):
            return self.curve[-1][1], self.curve[-1][2]
        (r0, m0, p0), (r1, m1, p1) = self.curve[i - 1], self.curve[i]
        f = (rps - r0) / (r1 - r0)
        return m0 + f * (m1 - m0), p0 + f * (p1 - p0)


@dataclass(frozen=True)
class AnnotatorCapacity:
    """One annotator process: service seconds per sample file."""

    service_seconds: dict[str, float]

    def jobs_per_minute(self) -> float:
        """Jobs a process finishes per minute, cycling through the files."""
        mean = sum(self.service_seconds.values()) / len(self.service_seconds)
        return MINUTE / mean


def read_capacity(path: Path) -> tuple[WebCapacity, AnnotatorCapacity]:
    """What ``make load`` measured (loadtest.report's capacity.json)."""
    data = json.loads(path.read_text())
    web = data["web"]
    if not web["sustainable_rps"]:
        raise ValueError(f"{path}: the web's sustainable rate was not measured")
    stages = [s for s in web["stages"] if s["rps"] and s["mean"] and s["p95"]]
    curve = tuple(sorted((s["rps"], s["mean"] / 1000, s["p95"] / 1000) for s in stages if s["rps"]))
    files = {f["file"]: f["service_seconds"] for f in data["annotator"]["files"]}
    if not files:
        raise ValueError(f"{path}: no annotator service time was measured")
    return WebCapacity(web["sustainable_rps"], curve), AnnotatorCapacity(files)


# --- traces ------------------------------------------------------------------------------


SHAPES = ("step", "ramp", "spike", "sessions")


def synthetic(
    shape: str,
    peak: float,
    base: float = 0.0,
    start: float = 60,
    rise: float = 10,
    hold: float = 3600,
    tail: float = 3600,
    repeat: int = 1,
) -> list[float]:
    """A load per second: ``base`` until ``start``, then ``peak`` for ``hold`` s, then
    ``base`` for ``tail`` s. ``ramp`` climbs to the peak over ``rise`` s; ``step`` and
    ``spike`` jump (a spike is a step with a short hold); ``sessions`` repeats the
    peak and the tail ``repeat`` times (a generator run now and then)."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}")
    rise = rise if shape == "ramp" else 0
    cycle = [
        *(base + (peak - base) * (s + 1) / rise for s in range(int(rise))),
        *[peak] * int(hold),
        *[base] * int(tail),
    ]
    return [base] * int(start) + cycle * (repeat if shape == "sessions" else 1)


def locust_trace(path: Path, time_scale: float = 1.0, rate_scale: float = 1.0) -> list[float]:
    """Requests per second from Locust's stats history (the Aggregated rows), stretched
    ``time_scale`` times in time and ``rate_scale`` times in rate."""
    with path.open(newline="") as handle:
        rates = [
            float(row["Requests/s"])
            for row in csv.DictReader(handle)
            if row["Name"] == "Aggregated"
        ]
    stretched = [rate * rate_scale for rate in rates for _ in range(max(1, round(time_scale)))]
    return stretched


# --- the auto scaling group --------------------------------------------------------------


@dataclass
class Instance:
    launched: float
    in_service_at: float
    ready_at: float  # serving: taking requests or jobs
    slots: list[float] = field(default_factory=list)  # annotators: when each process is free


@dataclass(frozen=True)
class Activity:
    t: float
    before: int
    after: int
    cause: str


@dataclass
class Fleet:
    """A group's instances and its scaling state."""

    group: tf.Group
    in_service_seconds: float = IN_SERVICE_SECONDS
    boot_seconds: float = BOOT_SECONDS
    instances: list[Instance] = field(default_factory=list)
    blocked_until: float = -math.inf  # activity in progress or cooldown (simple scaling)
    activities: list[Activity] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.instances = [
            Instance(-math.inf, -math.inf, -math.inf) for _ in range(self.group.min_size)
        ]

    @property
    def desired(self) -> int:
        return len(self.instances)

    def in_service(self, t: float) -> list[Instance]:
        """InService in the group's lifecycle (counted by metrics like BacklogPerInstance)."""
        return [i for i in self.instances if i.in_service_at <= t]

    def serving(self, t: float) -> list[Instance]:
        """Booted and running GAS: taking requests or jobs."""
        return [i for i in self.instances if i.ready_at <= t]

    def warming(self, t: float, warmup: float) -> bool:
        return any(t < i.launched + warmup for i in self.instances)

    def resize(self, t: float, wanted: int, cause: str) -> bool:
        """Set desired capacity (clamped); returns whether anything changed."""
        wanted = max(self.group.min_size, min(self.group.max_size, wanted))
        before = self.desired
        if wanted == before:
            return False
        while self.desired < wanted:
            self.instances.append(Instance(t, t + self.in_service_seconds, t + self.boot_seconds))
        if self.desired > wanted:
            # Instances still launching go first, then the newest ones.
            self.instances.sort(key=lambda i: (i.in_service_at <= t, -i.launched))
            del self.instances[: self.desired - wanted]
        self.activities.append(Activity(t, before, wanted, cause))
        return True

    def simple(self, t: float, policy: tf.SimplePolicy) -> bool:
        """A simple-scaling policy invoked by its alarm: refused during activity or cooldown."""
        if t < self.blocked_until:
            return False
        if not self.resize(t, self.desired + policy.adjustment, policy.name):
            return False
        activity_ends = t + (self.in_service_seconds if policy.adjustment > 0 else 0)
        self.blocked_until = activity_ends + policy.cooldown
        return True


# --- one run -----------------------------------------------------------------------------


FleetMaker = Callable[[tf.Group], Fleet]


@dataclass
class Timeline:
    """What a replay produced, sampled every ``step`` seconds."""

    tier: str  # "web" or "annotator"
    step: int
    t: list[float] = field(default_factory=list)
    desired: list[int] = field(default_factory=list)
    serving: list[int] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # web: req/s; annotators: requests/min
    queue: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)  # s: web mean; annotators: job mean
    latency_high: list[float] = field(default_factory=list)  # s: web p95; annotators: slowest
    activities: list[Activity] = field(default_factory=list)
    alarm_states: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Watcher:
    """Alarms of one group, evaluated every minute, each firing its action while in ALARM."""

    rules: list[tuple[AlarmRule, Metric, Callable[[float], object]]]
    states: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=dict)

    def tick(self, t: float) -> None:
        if t % MINUTE:
            return
        for rule, metric, action in self.rules:
            state = rule.evaluate(metric, t, self.states.get(rule.name, INSUFFICIENT_DATA))
            self.states[rule.name] = state
            self.history.setdefault(rule.name, []).append(state)
            if state == ALARM:
                action(t)


def step_watcher(
    fleet: Fleet, alarms: Sequence[tf.StepAlarm], metrics: dict[str, Metric]
) -> Watcher:
    def invoke(policy: tf.SimplePolicy) -> Callable[[float], object]:
        return lambda t: fleet.simple(t, policy)

    return Watcher([(a.rule, metrics[a.rule.metric], invoke(a.policy)) for a in alarms])


def tracking_watcher(fleet: Fleet, policy: tf.TargetTracking, metric: Metric) -> Watcher:
    """Target tracking: its two alarms (see the module's notes) and their actions."""
    high = AlarmRule(
        f"{policy.name}_high",
        policy.metric,
        policy.statistic,
        MINUTE,
        HIGH_DATAPOINTS,
        HIGH_DATAPOINTS,
        policy.target,
        "GreaterThanThreshold",
        "missing",
        policy.delay,
    )
    low = AlarmRule(
        f"{policy.name}_low",
        policy.metric,
        policy.statistic,
        MINUTE,
        LOW_DATAPOINTS,
        LOW_DATAPOINTS,
        policy.target * LOW_FRACTION,
        "LessThanThreshold",
        "missing",
        policy.delay,
    )

    def needed(t: float, rule: AlarmRule) -> int:
        value = rule.datapoints(metric, t)[0] or 0.0
        return math.ceil(len(fleet.in_service(t)) * value / policy.target)

    def scale_out(t: float) -> None:
        wanted = needed(t, high)
        if wanted > fleet.desired:
            fleet.resize(t, wanted, high.name)

    def scale_in(t: float) -> None:
        wanted = needed(t, low)
        if wanted < fleet.desired and not fleet.warming(t, policy.warmup):
            fleet.resize(t, wanted, low.name)

    return Watcher([(high, metric, scale_out), (low, metric, scale_in)])


def replay_web(
    trace: Sequence[float],
    policies: tf.Policies,
    capacity: WebCapacity,
    fleet: Fleet | None = None,
    step: int = 10,
) -> Timeline:
    """The web group under ``trace`` (requests per second, one value a second)."""
    fleet = fleet or Fleet(policies.web)
    metrics = {"RequestCount": Metric(), "TargetResponseTime": Metric()}
    watcher = step_watcher(fleet, policies.web_alarms, metrics)
    timeline, queued = Timeline("web", step), 0.0
    for t, offered in enumerate(trace):
        processes = len(fleet.serving(t)) * policies.web.processes
        limit = processes * capacity.rps
        queued += offered
        served = min(queued, limit)
        queued -= served
        wait = queued / limit if limit else (MAX_WAIT_SECONDS if queued else 0.0)
        mean, p95 = capacity.latency(served / processes if processes else 0.0)
        if offered:  # an idle load balancer publishes no datapoint
            metrics["RequestCount"].put(t, offered)
        if served:
            metrics["TargetResponseTime"].put(t, mean + wait, served)
        watcher.tick(t)
        if t % step == 0:  # no latency to show while nothing is served
            latency = (mean + wait, p95 + wait) if served or queued else (math.nan, math.nan)
            _sample(timeline, fleet, t, offered, queued, *latency)
    timeline.activities, timeline.alarm_states = fleet.activities, watcher.history
    return timeline


def replay_annotators(
    trace: Sequence[float],
    policies: tf.Policies,
    capacity: AnnotatorCapacity,
    policy: str,
    fleet: Fleet | None = None,
    step: int = 10,
) -> Timeline:
    """The annotator group under ``trace`` (job requests per second) with the ``step``
    (NumberOfMessagesSent alarms) or ``backlog`` (target tracking) policy."""
    fleet = fleet or Fleet(policies.annotator)
    sent, backlog = Metric(), Metric()
    if policy == "step":
        watcher = step_watcher(fleet, policies.annotator_alarms, {"NumberOfMessagesSent": sent})
    else:
        watcher = tracking_watcher(fleet, policies.annotator_tracking, backlog)
    files = itertools.cycle(sorted(capacity.service_seconds))
    waiting: deque[tuple[float, str]] = deque()
    finished: list[tuple[float, float]] = []  # (finish time, latency)
    owed = 0.0
    timeline = Timeline("annotator", step)
    for t, rate in enumerate(trace):
        owed += rate
        arrivals = int(owed)
        owed -= arrivals
        waiting.extend((t, next(files)) for _ in range(arrivals))
        sent.put(t, arrivals)
        for instance in fleet.serving(t):
            instance.slots = instance.slots or [0.0] * policies.annotator.processes
            for slot, free_at in enumerate(instance.slots):
                # A process takes job after job within the second while it has time left.
                start = max(free_at, t)
                while waiting and start < t + 1:
                    arrived, name = waiting.popleft()
                    end = start + capacity.service_seconds[name]
                    finished.append((end, end - arrived))
                    start = end
                instance.slots[slot] = start
        if t % MINUTE == 0:
            backlog.put(t, len(waiting) / max(1, len(fleet.in_service(t))))
        watcher.tick(t)
        if t % step == 0:
            recent = [lat for end, lat in finished if t - MINUTE < end <= t]
            latency = sum(recent) / len(recent) if recent else math.nan
            per_minute = sum(trace[max(0, t - MINUTE + 1) : t + 1])
            _sample(
                timeline, fleet, t, per_minute, len(waiting), latency, max(recent, default=math.nan)
            )
    timeline.activities, timeline.alarm_states = fleet.activities, watcher.history
    return timeline


def _sample(
    timeline: Timeline,
    fleet: Fleet,
    t: float,
    load: float,
    queue: float,
    latency: float,
    high: float,
) -> None:
    timeline.t.append(t)
    timeline.desired.append(fleet.desired)
    timeline.serving.append(len(fleet.serving(t)))
    timeline.load.append(load)
    timeline.queue.append(queue)
    timeline.latency.append(latency)
    timeline.latency_high.append(high)


# --- charts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One replayed policy, for a chart: its label and what it did."""

    label: str
    timeline: Timeline


def chart(path: Path, title: str, runs: Sequence[Run], thresholds: dict[str, float]) -> None:
    """Instances, load and latency over time, one colour per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    annotators = runs[0].timeline.tier == "annotator"
    figure, (instances, load, latency) = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    for index, run in enumerate(runs):
        line = run.timeline
        minutes, color = [t / MINUTE for t in line.t], f"C{index}"
        instances.step(
            minutes, line.desired, where="post", color=color, label=f"{run.label}: desired"
        )
        instances.step(
            minutes,
            line.serving,
            where="post",
            color=color,
            linestyle=":",
            label=f"{run.label}: serving",
        )
        if annotators:
            load.step(
                minutes,
                line.queue,
                where="post",
                color=color,
                linestyle="--",
                label=f"{run.label}: waiting requests",
            )
            latency.plot(minutes, line.latency, color=color, label=f"{run.label}: mean job latency")
        else:
            latency.plot(
                minutes, [v * 1000 for v in line.latency], color=color, label=f"{run.label}: mean"
            )
            latency.plot(
                minutes,
                [v * 1000 for v in line.latency_high],
                color=color,
                linestyle="--",
                label=f"{run.label}: p95",
            )
    first = runs[0].timeline
    load.plot([t / MINUTE for t in first.t], first.load, color="black", label="offered load")
    for index, (name, value) in enumerate(thresholds.items()):
        load.axhline(value, color="red", linestyle=(0, (1, 1 + 3 * index)), label=name)
    instances.set(ylabel="instances", title=title)
    instances.yaxis.get_major_locator().set_params(integer=True)
    load.set(ylabel="job requests / minute" if annotators else "requests / s")
    latency.set(ylabel="seconds" if annotators else "ms", xlabel="minutes")
    for axis in (instances, load, latency):
        axis.legend(fontsize=7, loc="upper right")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# --- summaries ---------------------------------------------------------------------------


def describe(activities: Sequence[Activity]) -> str:
    """``3 min 2→3, 9 min 3→4``: when the desired capacity changed, from what to what."""
    if not activities:
        return "no scaling activity"
    return ", ".join(f"{a.t / MINUTE:.0f} min {a.before}→{a.after}" for a in activities)


def outward(timeline: Timeline) -> list[Activity]:
    return [a for a in timeline.activities if a.after > a.before]


def inward(timeline: Timeline) -> list[Activity]:
    return [a for a in timeline.activities if a.after < a.before]


def minutes_between(activities: Sequence[Activity]) -> list[float]:
    return [(b.t - a.t) / MINUTE for a, b in itertools.pairwise(activities)]


def sizes_between(timeline: Timeline, start: float, end: float) -> tuple[int, int]:
    """The smallest and largest desired capacity in [start, end)."""
    values = [d for t, d in zip(timeline.t, timeline.desired, strict=True) if start <= t < end]
    return min(values), max(values)


def waiting_at(timeline: Timeline, t: float) -> float:
    waiting = [q for s, q in zip(timeline.t, timeline.queue, strict=True) if s <= t]
    return waiting[-1] if waiting else 0.0


def worst_latency(timeline: Timeline) -> float:
    return max((v for v in timeline.latency if not math.isnan(v)), default=0.0)


def web_thresholds(policies: tf.Policies) -> dict[str, float]:
    """The scale-out alarm's threshold as a rate, to draw beside the load."""
    rule = scale_out_alarm(policies.web_alarms).rule
    return {
        f"scale-out: {rule.threshold:.0f} requests per {rule.period} s": rule.threshold
        / rule.period
    }


def annotator_thresholds(policies: tf.Policies) -> dict[str, float]:
    thresholds = {}
    for alarm in policies.annotator_alarms:
        rule, way = alarm.rule, "out" if alarm.policy.adjustment > 0 else "in"
        label = f"scale-{way}: {rule.threshold:.0f} sent per {rule.period // MINUTE} min"
        thresholds[label] = rule.threshold / (rule.period / MINUTE)
    return thresholds


def scale_out_alarm(alarms: Sequence[tf.StepAlarm]) -> tf.StepAlarm:
    return next(a for a in alarms if a.policy.adjustment > 0)


def scale_in_alarm(alarms: Sequence[tf.StepAlarm]) -> tf.StepAlarm:
    return next(a for a in alarms if a.policy.adjustment < 0)


# --- the seed's scenarios ----------------------------------------------------------------

SEED_WEB_RPS = 150.0  # 300 Locust users, each a request every 1-3 s (2 s on average)
SEED_JOBS_PER_SECOND = 0.1  # a job request every 10 s
WEB_HOLD, WEB_TAIL = 3600, 3600
SESSION_ON, SESSION_OFF, SESSIONS = 600, 1200, 4
BURST_TIMES, BURST_SECONDS = 5, 600


@dataclass
class Section:
    title: str
    chart: str
    text: list[str]


def with_missing_data(policies: tf.Policies, treatment: str) -> tf.Policies:
    """The same policies, the web scale-in alarm treating missing data another way."""
    scale_in = scale_in_alarm(policies.web_alarms)
    changed = replace(scale_in, rule=replace(scale_in.rule, treat_missing_data=treatment))
    alarms = tuple(changed if a is scale_in else a for a in policies.web_alarms)
    return replace(policies, web_alarms=alarms)


def seed_web(policies: tf.Policies, web: WebCapacity, fleet: FleetMaker, out: Path) -> Section:
    trace = synthetic("ramp", SEED_WEB_RPS, start=MINUTE, rise=10, hold=WEB_HOLD, tail=WEB_TAIL)
    scale_out = scale_out_alarm(policies.web_alarms)
    scale_in = scale_in_alarm(policies.web_alarms)
    written = scale_in.rule.treat_missing_data
    other = "notBreaching" if written == "breaching" else "breaching"
    run = replay_web(trace, policies, web, fleet(policies.web))
    variant = replay_web(trace, with_missing_data(policies, other), web, fleet(policies.web))
    chart(
        out / "web_seed.png",
        f"Web: {SEED_WEB_RPS:.0f} req/s for {WEB_HOLD // MINUTE} min, then none",
        [Run(f"scale-in treat_missing_data={written}", run), Run(f"… ={other}", variant)],
        web_thresholds(policies),
    )
    rule = scale_out.rule
    threshold_rps = rule.threshold / rule.period
    reached = next((a.t for a in run.activities if a.after == policies.web.max_size), math.nan)
    loaded = [v for t, v in zip(run.t, run.latency, strict=True) if not math.isnan(v)]
    sample = fleet(policies.web)
    text = [
        f"Load: {SEED_WEB_RPS:.0f} requests/s (the seed's 300 users) for "
        f"{WEB_HOLD // MINUTE} minutes, then no request for {WEB_TAIL // MINUTE} minutes.",
        "",
        f"- **Scale-out, one instance per cooldown, up to the maximum**: {describe(outward(run))}."
        f" The scale-out alarm counts the load balancer's requests, all instances together: more"
        f" than {rule.threshold:.0f} in {rule.period} s is {threshold_rps:.1f} requests/s, and"
        f" {SEED_WEB_RPS:.0f} is {SEED_WEB_RPS / threshold_rps:.0f} times that whatever the"
        f" group's size. The alarm stays in ALARM; the group ignores it only while a launch"
        f" completes and its cooldown runs: a step every"
        f" {min(minutes_between(outward(run)), default=math.nan):.0f} minutes"
        f" ({scale_out.policy.cooldown} s cooldown after {sample.in_service_seconds:.0f} s to"
        f" InService, acted on at the next one-minute evaluation), reaching"
        f" {policies.web.max_size} after {reached / MINUTE:.0f} minutes.",
        f"- **None of it was needed**: an instance ({policies.web.processes} processes of"
        f" {web.rps:.0f} req/s each, as `make load` measured one) sustains about"
        f" {web.rps * policies.web.processes:.0f} req/s, so the minimum of {policies.web.min_size}"
        f" already served the load; the mean latency stayed under {max(loaded) * 1000:.0f} ms.",
        f"- **Scale-in, one by one after the load stops**: {describe(inward(run))}. Under load"
        f" the mean latency ({min(loaded) * 1000:.0f} ms or more) is over the"
        f" {scale_in.rule.threshold * 1000:.0f} ms threshold, so the scale-in alarm stays OK."
        f" When the requests stop, the load balancer publishes no TargetResponseTime at all;"
        f" with treat_missing_data = {written} the missing datapoints breach, and the group"
        f" loses an instance per cooldown"
        f" (every {min(minutes_between(inward(run)), default=math.nan):.0f} minutes).",
        f"- With treat_missing_data = {other} instead (the other line):"
        f" {describe(inward(variant))} after the load stops"
        + ("; the idle group stays at its maximum." if not inward(variant) else "."),
    ]
    return Section("Web tier: the seed's Locust load", "web_seed.png", text)


def compare(
    name: str,
    title: str,
    trace: list[float],
    policies: tf.Policies,
    capacity: AnnotatorCapacity,
    fleet: FleetMaker,
    out: Path,
) -> tuple[Timeline, Timeline]:
    """Both annotator policies on one trace, charted together."""
    step = replay_annotators(trace, policies, capacity, "step", fleet(policies.annotator))
    backlog = replay_annotators(trace, policies, capacity, "backlog", fleet(policies.annotator))
    runs = [Run("step (NumberOfMessagesSent)", step), Run("backlog per instance", backlog)]
    chart(out / f"{name}.png", title, runs, annotator_thresholds(policies))
    return step, backlog


def seed_sessions(
    policies: tf.Policies, capacity: AnnotatorCapacity, fleet: FleetMaker, out: Path
) -> Section:
    trace = synthetic(
        "sessions",
        SEED_JOBS_PER_SECOND,
        start=MINUTE,
        hold=SESSION_ON,
        tail=SESSION_OFF,
        repeat=SESSIONS,
    )
    title = (
        f"Annotators: a job request every 10 s, {SESSION_ON // MINUTE} min on,"
        f" {SESSION_OFF // MINUTE} min off"
    )
    step, backlog = compare("annotator_sessions", title, trace, policies, capacity, fleet, out)
    low, high = sizes_between(step, MINUTE + SESSION_ON + SESSION_OFF, len(trace))
    out_rule = scale_out_alarm(policies.annotator_alarms).rule
    in_rule = scale_in_alarm(policies.annotator_alarms).rule
    per_minute = capacity.jobs_per_minute() * policies.annotator.processes
    needed = SEED_JOBS_PER_SECOND * MINUTE
    text = [
        f"Load: the seed's generator (a job request every 10 s) run for"
        f" {SESSION_ON // MINUTE} minutes every {(SESSION_ON + SESSION_OFF) // MINUTE} minutes,"
        f" {SESSIONS} times. (A steady stream cannot oscillate under these alarms: it is always"
        f" over the scale-out threshold; see the next section.)",
        "",
        f"- **Step policy, oscillating between {low} and {high}**: {describe(step.activities)}."
        f" NumberOfMessagesSent counts *arrivals*, in {out_rule.period // MINUTE}-minute periods"
        f" that reach the alarm {out_rule.delay} s after they end. A run sends"
        f" {SEED_JOBS_PER_SECOND * out_rule.period:.0f} requests a period, over the"
        f" {out_rule.threshold:.0f} that add an instance: the first instance comes a period"
        f" late, the next a cooldown later. After the run the group removes one only when"
        f" {in_rule.evaluation_periods} whole periods have seen fewer than"
        f" {in_rule.threshold:.0f}, and one more a cooldown later, about when the next run"
        f" begins. The size follows the runs, a period or two behind, and never the work: one"
        f" annotator finishes about {per_minute:.0f} of these jobs a minute (`make load`), so"
        f" {policies.annotator.min_size} had"
        f" {policies.annotator.min_size * per_minute / needed:.0f} times the capacity the"
        f" {needed:.0f} requests a minute needed.",
        f"- **Backlog per instance** (target {policies.annotator_tracking.target:g}):"
        f" {describe(backlog.activities)}. No request waits for an annotator, so the visible"
        f" backlog per instance stays at 0, under the target, and the group stays at its"
        f" minimum. Worst mean job latency: {worst_latency(backlog):.1f} s"
        f" (step policy: {worst_latency(step):.1f} s).",
    ]
    return Section(
        "Annotators: the seed's generator, run now and then", "annotator_sessions.png", text
    )


def seed_steady(
    policies: tf.Policies, capacity: AnnotatorCapacity, fleet: FleetMaker, out: Path
) -> Section:
    trace = synthetic("step", SEED_JOBS_PER_SECOND, start=MINUTE, hold=7200, tail=3600)
    title = "Annotators: a job request every 10 s for 2 hours, then none"
    step, backlog = compare("annotator_steady", title, trace, policies, capacity, fleet, out)
    text = [
        "The seed's generator left running for two hours, then stopped.",
        "",
        f"- **Step policy**: {describe(step.activities)}: up to the maximum and back down, for"
        f" work that {policies.annotator.min_size} annotators did with room to spare.",
        f"- **Backlog per instance**: {describe(backlog.activities)}.",
    ]
    return Section("Annotators: the seed's generator left running", "annotator_steady.png", text)


def burst_trace(policies: tf.Policies, capacity: AnnotatorCapacity) -> list[float]:
    """BURST_TIMES what the minimum of annotators clears, for BURST_SECONDS, then none."""
    clears = policies.annotator.min_size * policies.annotator.processes * capacity.jobs_per_minute()
    rate = BURST_TIMES * clears / MINUTE
    return synthetic("spike", rate, start=MINUTE, hold=BURST_SECONDS, tail=5400)


def seed_burst(
    policies: tf.Policies, capacity: AnnotatorCapacity, fleet: FleetMaker, out: Path
) -> Section:
    trace = burst_trace(policies, capacity)
    total = sum(trace)
    title = f"Annotators: a burst of {total:,.0f} job requests in {BURST_SECONDS // MINUTE} minutes"
    step, backlog = compare("annotator_burst", title, trace, policies, capacity, fleet, out)
    first_in = next((a.t for a in inward(step)), math.inf)
    still = waiting_at(step, first_in)
    removal = (
        f"starts removing them when the arrivals stop, while {still:,.0f} requests still wait"
        if still
        else "removes them only once the queue is empty"
    )
    text = [
        f"{total:,.0f} job requests in {BURST_SECONDS // MINUTE} minutes, {BURST_TIMES} times"
        f" what the minimum of {policies.annotator.min_size} annotators clears (a lab"
        f" submitting a batch): work that needs more instances.",
        "",
        f"- **Step policy**: {describe(step.activities)}; worst mean job latency"
        f" {worst_latency(step) / MINUTE:.1f} minutes. It adds one instance per cooldown"
        f" however long the queue, and {removal}.",
        f"- **Backlog per instance**: {describe(backlog.activities)}; worst mean job latency"
        f" {worst_latency(backlog) / MINUTE:.1f} minutes. Target tracking sizes the group to the"
        f" backlog in one step (InService instances times backlog per instance over the target,"
        f" rounded up, at most the maximum) and removes the extra instances once the backlog has"
        f" stayed under 90 % of the target for 15 minutes.",
    ]
    return Section("Annotators: a burst that needs more instances", "annotator_burst.png", text)


ASSUMPTIONS = [
    "Every number of the alarms and policies comes from terraform/ (loadtest.policies); what"
    " Terraform does not say is assumed, as follows.",
    "Metric publication delay: {delays}. Alarms are evaluated once a minute on the last whole"
    " periods whose data has arrived (loadtest.alarms).",
    "An instance is InService {in_service} s after launch (the launch activity ends; the"
    " cooldown starts) and serves {boot} s after launch (boot, install the release, start).",
    "The cooldown is the group's, shared by its simple-scaling policies; target tracking has"
    " none, but does not scale in while an instance is in its warm-up ({warmup} s).",
    "Capacity per instance is one process's, measured by `make load` on a 2-core machine against"
    " the local emulator, times the processes Terraform runs per instance (web: {web} gunicorn"
    " workers; annotator: {annotator}). Real instances and AWS's services differ: measure a"
    " deployment with Locust and ann_load and pass its capacity.json.",
    "Requests are spread evenly over the serving instances; web latency follows the measured"
    " curve up to the sustainable rate and queues beyond it; job requests are served first come,"
    " first served, cycling through the sample files.",
]


def seed_report(
    policies: tf.Policies,
    web: WebCapacity,
    annotators: AnnotatorCapacity,
    fleet: FleetMaker,
    out: Path,
) -> Path:
    """Every seed scenario: charts and replay.md in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    sections = [
        seed_web(policies, web, fleet, out),
        seed_sessions(policies, annotators, fleet, out),
        seed_steady(policies, annotators, fleet, out),
        seed_burst(policies, annotators, fleet, out),
    ]
    rules = [a.rule for a in (*policies.web_alarms, *policies.annotator_alarms)]
    delays = {rule.metric: rule.delay for rule in rules}
    delays[policies.annotator_tracking.metric] = policies.annotator_tracking.delay
    sample = fleet(policies.web)
    values = {
        "delays": ", ".join(f"{metric} {delay} s" for metric, delay in delays.items()),
        "in_service": f"{sample.in_service_seconds:.0f}",
        "boot": f"{sample.boot_seconds:.0f}",
        "warmup": str(policies.annotator_tracking.warmup),
        "web": str(policies.web.processes),
        "annotator": str(policies.annotator.processes),
    }
    lines = ["# Scaling replay: the seed's scenarios", ""]
    for section in sections:
        lines += [f"## {section.title}", "", *section.text, "", f"![]({section.chart})", ""]
    lines += ["## Assumptions", "", *(f"- {a.format(**values)}" for a in ASSUMPTIONS), ""]
    report = out / "replay.md"
    report.write_text("\n".join(lines))
    return report


# --- command line ------------------------------------------------------------------------


def assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` with VALUE a number when it reads as one."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    try:
        return name, float(value) if "." in value else int(value)
    except ValueError:
        return name, value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--capacity",
        type=Path,
        default=DEFAULT_CAPACITY,
        help="capacity.json written by make load (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/replay"),
        help="folder for the charts (default: %(default)s)",
    )
    parser.add_argument(
        "--var",
        type=assignment,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Terraform variable, e.g. web_cooldown_seconds=120 (repeatable)",
    )
    parser.add_argument(
        "--delay",
        type=assignment,
        action="append",
        default=[],
        metavar="NAMESPACE=SECONDS",
        help="a metric publication delay, e.g. AWS/SQS=300 (default 60 each)",
    )
    parser.add_argument(
        "--in-service-seconds",
        type=float,
        default=IN_SERVICE_SECONDS,
        help="launch to InService, when a launch activity ends (%(default)s)",
    )
    parser.add_argument(
        "--boot-seconds",
        type=float,
        default=BOOT_SECONDS,
        help="launch to serving: boot, install, start (%(default)s)",
    )


def _shape(parser: argparse.ArgumentParser, unit: str) -> None:
    parser.add_argument("--shape", choices=SHAPES, default="step")
    parser.add_argument("--peak", type=float, help=f"peak load, {unit}")
    parser.add_argument("--base", type=float, default=0.0, help=f"load before and after, {unit}")
    parser.add_argument("--start", type=float, default=60, help="seconds of base load first")
    parser.add_argument("--rise", type=float, default=600, help="ramp: seconds to the peak")
    parser.add_argument("--hold", type=float, default=3600, help="seconds at the peak")
    parser.add_argument("--tail", type=float, default=3600, help="seconds of base load after")
    parser.add_argument("--repeat", type=int, default=4, help="sessions: how many")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scaling_replay", description="Replay terraform/'s scaling policies on a load."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed", help="the seed's scenarios, charted and explained")
    _common(seed)
    web = commands.add_parser("web", help="the web group on a synthetic or recorded load")
    _common(web)
    _shape(web, "requests/s")
    web.add_argument("--locust-csv", type=Path, help="replay a Locust *_stats_history.csv")
    web.add_argument("--time-scale", type=float, default=1.0, help="stretch the recording")
    web.add_argument("--rate-scale", type=float, default=1.0, help="multiply its rate")
    annotator = commands.add_parser("annotator", help="the annotator group on a synthetic load")
    _common(annotator)
    _shape(annotator, "job requests/minute")
    annotator.add_argument("--policy", choices=["step", "backlog", "both"], default="both")
    annotator.add_argument(
        "--service-seconds",
        type=float,
        help="one job's service time, instead of the measured sample files",
    )
    return parser


def _custom_runs(
    args: argparse.Namespace,
    policies: tf.Policies,
    web: WebCapacity,
    annotators: AnnotatorCapacity,
    fleet: FleetMaker,
) -> list[Run]:
    if args.command == "web" and args.locust_csv:
        trace = locust_trace(args.locust_csv, args.time_scale, args.rate_scale)
    elif args.peak is None:
        raise SystemExit("scaling_replay: give --peak (or, for the web, --locust-csv)")
    else:
        per = 1.0 if args.command == "web" else MINUTE
        trace = [
            v / per
            for v in synthetic(
                args.shape,
                args.peak,
                args.base,
                args.start,
                args.rise,
                args.hold,
                args.tail,
                args.repeat,
            )
        ]
    if args.command == "web":
        return [Run("web", replay_web(trace, policies, web, fleet(policies.web)))]
    if args.service_seconds:
        annotators = AnnotatorCapacity({"job": args.service_seconds})
    kinds = ["step", "backlog"] if args.policy == "both" else [args.policy]
    return [
        Run(kind, replay_annotators(trace, policies, annotators, kind, fleet(policies.annotator)))
        for kind in kinds
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.capacity.is_file():
        print(
            f"scaling_replay: no {args.capacity}; run `make load` first, or pass --capacity",
            file=sys.stderr,
        )
        return 2
    policies = tf.read(overrides=dict(args.var), delays={k: int(v) for k, v in args.delay})
    web, annotators = read_capacity(args.capacity)

    def fleet(group: tf.Group) -> Fleet:
        return Fleet(group, args.in_service_seconds, args.boot_seconds)

    args.out.mkdir(parents=True, exist_ok=True)
    if args.command == "seed":
        print(f"report: {seed_report(policies, web, annotators, fleet, args.out)}")
        return 0
    runs = _custom_runs(args, policies, web, annotators, fleet)
    thresholds = (
        web_thresholds(policies) if args.command == "web" else annotator_thresholds(policies)
    )
    path = args.out / f"{args.command}.png"
    load = "recorded" if getattr(args, "locust_csv", None) else args.shape
    chart(path, f"{args.command} group, {load} load", runs, thresholds)
    for run in runs:
        print(f"{run.label}: {describe(run.timeline.activities)}")
    print(f"chart: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
