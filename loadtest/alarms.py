"""CloudWatch metric alarms, as the scaling replay evaluates them.

The rules, as CloudWatch documents them, with this replay's simplifications marked
(*assumption*):

- A metric is a series of one-minute samples, each with a sum, a sample count, a
  minimum and a maximum (what PutMetricData's statistic sets carry). AWS's own
  metrics for load balancers and queues are published at one-minute resolution.
- A datapoint aggregates the samples of one **period** with the alarm's **statistic**
  (Sum, Average = sum / count, Minimum, Maximum, SampleCount). A period with no
  sample is *missing*.
- **Metric publication delay**: a sample reaches CloudWatch ``delay`` seconds after
  its minute ends. *Assumption*: the alarm's newest datapoint is the last whole
  period whose samples have all arrived (it does not evaluate partial periods), and
  periods roll with the evaluation, which happens once a minute.
- The alarm looks at its last **evaluation periods** datapoints; it goes to ALARM
  when at least **datapoints to alarm** of them breach the **threshold** under the
  **comparison operator**, and to OK otherwise.
- **treat_missing_data**: ``breaching`` and ``notBreaching`` count a missing
  datapoint as breaching or not; ``ignore`` keeps the current state when every
  datapoint is missing; ``missing`` (the default) goes to INSUFFICIENT_DATA then.
  With some datapoints present, ``ignore`` and ``missing`` judge on those alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MINUTE = 60
OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
COMPARISONS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
MISSING_TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")


@dataclass
class Sample:
    """One minute of a metric: the statistic set PutMetricData would send."""

    total: float = 0.0
    count: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, value: float, count: float = 1.0) -> None:
        """``count`` observations, each of ``value`` (a weighted observation when count != 1)."""
        self.total += value * count
        self.count += count
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)


@dataclass
class Metric:
    """One-minute samples keyed by the minute they start at (seconds, a multiple of 60)."""

    samples: dict[int, Sample] = field(default_factory=dict)

    def put(self, t: float, value: float, count: float = 1.0) -> None:
        """Record ``count`` observations of ``value`` at time ``t`` (seconds)."""
        minute = int(t // MINUTE) * MINUTE
        self.samples.setdefault(minute, Sample()).add(value, count)

    def datapoint(self, start: float, end: float, statistic: str) -> float | None:
        """The statistic over the samples of minutes in [start, end); None if there are none."""
        found = [s for minute, s in self.samples.items() if start <= minute < end and s.count]
        if not found:
            return None
        if statistic == "Sum":
            return sum(s.total for s in found)
        if statistic == "SampleCount":
            return sum(s.count for s in found)
        if statistic == "Average":
            return sum(s.total for s in found) / sum(s.count for s in found)
        if statistic == "Maximum":
            return max(s.maximum for s in found)
        if statistic == "Minimum":
            return min(s.minimum for s in found)
        raise ValueError(f"unknown statistic {statistic!r}")


@dataclass(frozen=True)
class AlarmRule:
    """An alarm's evaluation settings (from Terraform) and the metric's publication delay."""

    name: str
    metric: str
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str = "missing"
    delay: int = 60  # not in Terraform: how late the metric's samples arrive (assumption)

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"{self.name}: unknown comparison {self.comparison!r}")
        if self.treat_missing_data not in MISSING_TREATMENTS:
            raise ValueError(f"{self.name}: unknown treat_missing_data {self.treat_missing_data!r}")
        if self.period % MINUTE or not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError(f"{self.name}: period or datapoints do not fit")

    def breaches(self, value: float) -> bool:
        return bool(COMPARISONS[self.comparison](value, self.threshold))

    def datapoints(self, metric: Metric, now: float) -> list[float | None]:
        """The evaluated datapoints, newest first: whole periods whose data has arrived."""
        newest_end = math.floor((now - self.delay) / MINUTE) * MINUTE
        return [
            metric.datapoint(
                newest_end - (k + 1) * self.period, newest_end - k * self.period, self.statistic
            )
            for k in range(self.evaluation_periods)
        ]

    def evaluate(self, metric: Metric, now: float, state: str = INSUFFICIENT_DATA) -> str:
        """The alarm's state after an evaluation at ``now``, coming from ``state``."""
        return self.judge(self.datapoints(metric, now), state)

    def judge(self, datapoints: list[float | None], state: str = INSUFFICIENT_DATA) -> str:
        """The state these datapoints (newest first; None = missing) put the alarm in."""
        present = [d for d in datapoints if d is not None]
        missing = len(datapoints) - len(present)
        breaching = sum(1 for d in present if self.breaches(d))
        if self.treat_missing_data == "breaching":
            breaching += missing
        elif self.treat_missing_data in ("ignore", "missing") and not present:
            return state if self.treat_missing_data == "ignore" else INSUFFICIENT_DATA
        return ALARM if breaching >= self.datapoints_to_alarm else OK
