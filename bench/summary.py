"""The one summary line each benchmark ends with, so that runs can be compared over time.

`NAME: value=V unit=U baseline=B ratio=R target=T`: V is omniclaude's figure, B the bare library's or
interpreter's figure measured in the same run, R = V / B, and T the goal, written as a comparison on R
(for example `>=0.75`) or on V with its unit (`<=200ms`).
"""

from __future__ import annotations


def summary_line(name: str, value: float, unit: str, baseline: float, target: str) -> str:
    """Returns the summary line; the ratio is `value / baseline` (0 when the baseline is 0)."""
    ratio = value / baseline if baseline else 0.0
    return f"{name}: value={value:.6g} unit={unit} baseline={baseline:.6g} ratio={ratio:.3f} target={target}"
