"""One reading of every interval: the same words for every estimator, disagreements between
estimators said plainly, and a WDQ reading that agrees with the measured buffer change.
Reproduced on the Lincoln evaluation of docs/evaluation.md (Lincolnshire police.uk files)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from harmscope.evaluate.areas import AreaSpec
from harmscope.evaluate.estimate import Effect, interval_reading, number
from harmscope.evaluate.intervention import (
    Evaluation,
    Intervention,
    Period,
    evaluate_counts,
    evaluate_intervention,
)
from harmscope.evaluate.verdict import disagreements, wdq_reading
from harmscope.harm import load_scheme
from harmscope.report.evaluation import estimate_rows

from .conftest import LINCOLN, LINCS

WEIGHTS = {w.event_type: w.weight for w in load_scheme("cchi").weights if w.kind == "harm"}


@pytest.fixture(scope="module")
def lincoln(lincs_street_db: Path) -> Evaluation:
    return evaluate_intervention(
        # docs/evaluation.md quotes this evaluation with --harm all
        Intervention.from_dict({"name": "Lincoln", "harm": "all"} | LINCOLN),
        db=lincs_street_db,
    )


def _pct(text: str) -> float:
    return float(text.replace("−", "-").replace("+", "").rstrip("%"))


def test_same_side_intervals_read_the_same_for_every_estimator() -> None:
    # The Lincoln intervals: the WDD's (−246.9, −34.1) and the DiD's (−365.6, 54.9).
    assert interval_reading(-246.9, -34.1) == "the 95% interval excludes no change"
    assert interval_reading(-365.6, 54.9) == "the 95% interval includes no change"
    assert interval_reading(0.9, 1.2, null=1.0) == "the 95% interval includes no change"
    assert interval_reading(None, None) == "no interval"
    kw = {"p": None, "unit": "crimes"}
    wdd = Effect(estimate=-140.5, ci_low=-246.9, ci_high=-34.1, method="WDD", **kw)  # type: ignore[arg-type]
    did = Effect(estimate=-140.5, ci_low=-300.0, ci_high=-1.0, method="DiD", **kw)  # type: ignore[arg-type]
    assert wdd.reading == did.reading == "the 95% interval excludes no change"


def test_every_estimate_in_report_and_verdict_is_read_by_the_one_function(
    lincoln: Evaluation,
) -> None:
    est = lincoln.estimates
    assert {"did", "did_harm", "did_buffer", "wdd", "wdd_displacement", "its", "its_harm"} <= set(
        est
    )
    for row in estimate_rows(lincoln):
        e = est[row["key"]]
        assert row["reading"] == interval_reading(e.ci_low, e.ci_high, alpha=e.alpha)
    # DiD and WDD give the same buffer point estimate, and read their intervals alike.
    b, w = est["did_buffer"], est["wdd_displacement"]
    assert round(b.estimate, 6) == round(w.estimate, 6)
    assert b.significant and w.significant and b.reading == w.reading
    verdict = lincoln.verdict
    for name in ("did", "did_harm"):
        e = est[name]
        assert (
            f"(95% CI {number(e.ci_low)} to {number(e.ci_high)}) relative to the control; "
            f"{e.reading}"
        ) in verdict, name
    for name in ("did_buffer", "wdd", "wdd_displacement"):
        assert est[name].sentence() in verdict, name
    payload = lincoln.to_dict()["readings"]
    assert payload["did_buffer"]["reading"] == b.reading


def test_lincoln_disagreements_are_said_plainly(lincoln: Evaluation) -> None:
    est = lincoln.estimates
    dh, ih = est["did_harm"], est["its_harm"]
    # The reproduction: ITS says harm rose, DiD says it fell significantly.
    assert dh.estimate < 0 < ih.estimate and dh.significant and not ih.significant
    verdict = lincoln.verdict
    sentence = next(s for s in disagreements(est) if "harm in the target" in s)
    assert "disagree in direction and significance" in sentence
    assert "has no control" in sentence and "compares the target with the control" in sentence
    assert sentence in verdict


def test_wdq_reading_agrees_with_the_measured_buffer_change(lincoln: Evaluation) -> None:
    # Recompute the buffer's monthly crime and harm change with pandas from the files.
    iv = lincoln.intervention
    buffer = set(LINCOLN["buffer"].split(":", 1)[1].split(","))
    months = iv.pre.months + iv.post.months
    frames = [pd.read_csv(LINCS / "street" / f"{m}-lincolnshire-street.csv.gz") for m in months]
    street = pd.concat(frames, ignore_index=True)
    street = street[street["LSOA code"].isin(buffer) & street["Crime type"].isin(WEIGHTS)]
    street["harm"] = street["Crime type"].map(WEIGHTS)
    pre = street[street["Month"].isin(iv.pre.months)]
    post = street[street["Month"].isin(iv.post.months)]
    crimes = 100 * (len(post) / len(pre) - 1)  # equal period lengths
    harm = 100 * (post["harm"].sum() / pre["harm"].sum() - 1)
    reading = wdq_reading(lincoln)
    assert reading is not None and lincoln.wdq is not None
    m = re.search(r"buffer crimes ([−+]\d+)% and harm ([−+]\d+)%", reading)
    assert m is not None
    assert _pct(m.group(1)) == round(crimes) and _pct(m.group(2)) == round(harm)
    # Crime fell relative to the control (WDQ > 0, "diffusion" in Bowers & Johnson's table),
    # but the buffer's harm rose: the reading must not call it a diffusion of benefits.
    assert lincoln.wdq.wdq > 0 and harm > 0
    assert "not a diffusion of benefits" in reading
    assert "diffusion of benefits to the buffer was detected" not in lincoln.verdict.lower()
    assert "not a diffusion of benefits" in lincoln.verdict


def _synthetic(buffer_robbery: tuple[int, int], buffer_theft: tuple[int, int]) -> pd.DataFrame:
    rows = []
    plan = {
        "target": {"Robbery": (60, 30), "Shoplifting": (200, 100)},
        "buffer": {"Robbery": buffer_robbery, "Shoplifting": buffer_theft},
        "control": {"Robbery": (600, 600), "Shoplifting": (2000, 2000)},
    }
    for role, types in plan.items():
        for etype, (pre, post) in types.items():
            for month, n in (("2020-01", pre), ("2020-02", post)):
                rows.append(
                    {
                        "role": role,
                        "month": month,
                        "event_type": etype,
                        "kind": "harm",
                        "weight": 365.0 if etype == "Robbery" else 1.0,
                        "count": n,
                    }
                )
    return pd.DataFrame(rows)


def test_wdq_diffusion_only_when_buffer_crime_and_harm_fell() -> None:
    iv = Intervention(
        "k",
        AreaSpec.from_lsoas(["E01000001"]),
        Period.parse("2020-01"),
        Period.parse("2020-02"),
        buffer=AreaSpec.from_lsoas(["E01000002"]),
        control=AreaSpec.from_lsoas(["E01000003"]),
    )
    # Buffer crimes fall (cheap thefts) while its robberies, and so its harm, rise.
    mixed = evaluate_counts(_synthetic((20, 30), (300, 200)), iv)
    assert mixed.wdq is not None and mixed.wdq.wdq > 0
    assert "not a diffusion of benefits" in str(wdq_reading(mixed))
    # Both fall: the published reading stands.
    both = evaluate_counts(_synthetic((20, 10), (300, 200)), iv)
    assert both.wdq is not None and both.wdq.wdq > 0
    assert "diffusion of benefits" in str(wdq_reading(both))
    assert "not a diffusion" not in str(wdq_reading(both))


def test_docs_quote_the_lincoln_verdict_as_the_code_prints_it(lincoln: Evaluation) -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "evaluation.md"
    flat = " ".join(line.lstrip("> ").strip() for line in doc.read_text().splitlines())
    from harmscope.evaluate.verdict import verdict_lines

    for line in verdict_lines(lincoln):
        assert line in flat, line
    assert "--target lsoa:E01026143" in flat and "--pre 2018-07:2018-12" in flat
