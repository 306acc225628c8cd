"""docs/worked-example-lockdown.md cannot fall behind the code: its numbers are recomputed
from the City of London and Lincolnshire files, and the report is written to a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmscope.evaluate import AreaSpec, Intervention, Period, evaluate_intervention, its_forecast
from harmscope.evaluate.intervention import verdict_lines
from harmscope.evaluate.scorecard import scorecard
from harmscope.report.evaluation import write_report
from harmscope.warehouse.ingest import ingest_paths

from .conftest import LINCS

DOC = Path(__file__).resolve().parents[2] / "docs" / "worked-example-lockdown.md"


def _n(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}".replace("-", "−")


@pytest.fixture(scope="module")
def doc() -> str:
    # Block quotes wrap lines: compare with the quote markers and line breaks removed.
    text = DOC.read_text(encoding="utf-8")
    return " ".join(line.lstrip("> ").strip() for line in text.splitlines())


def test_lockdown_numbers_and_report(city_db: Path, doc: str, tmp_path: Path) -> None:
    iv = Intervention(
        "City of London: first 2020 lockdown",
        AreaSpec.everything(),
        Period.parse("2018-12:2020-03"),
        Period.parse("2020-04:2020-06"),
        harm="all",  # the worked example is pinned to all crime harm (--harm all)
    )
    ev = evaluate_intervention(iv, db=city_db)
    for line in verdict_lines(ev):
        assert line in doc, line
    assert ev.its is not None and ev.its_harm is not None
    for row in ev.its.table.itertuples():
        assert (
            f"| {row.period} | {row.observed:.0f} | {_n(row.expected)} | "
            f"{_n(row.pi_low)} to {_n(row.pi_high)} |"
        ) in doc
    for period, months in (("pre", 16), ("post", 3)):
        events, harm = ev.total("target", period), ev.total("target", period, "harm")
        assert (
            f"| {months} | {_n(events)} | {_n(events / months)} | {_n(harm)} | "
            f"{_n(harm / months)} |"
        ) in doc
    assert (
        f"dispersion is {ev.its.dispersion:.1f} for counts and {_n(ev.its_harm.dispersion)}" in doc
    )
    month = ev.monthly.set_index("month")
    flat = its_forecast(
        month.loc["2018-12":"2020-06", "events"].astype(float), start="2020-04", seasonal=False
    )
    assert (
        f"ratio is {flat.ratio:.2f} (95% PI {flat.ratio_ci_low:.2f} to {flat.ratio_ci_high:.2f})"
    ) in doc
    assert f"had {_n(month.loc['2019-04':'2019-06', 'events'].sum())} crimes" in doc
    files = write_report(ev, tmp_path)
    html = files["html"].read_text(encoding="utf-8")
    assert verdict_lines(ev)[0] in html
    assert files["pdf"].read_bytes()[:4] == b"%PDF"


def test_scorecard_numbers(city_db: Path, doc: str) -> None:
    pre = scorecard(db=city_db, months=("2018-12", "2020-03"), schemes=("cchi",))
    post = scorecard(db=city_db, months=("2020-04", "2020-06"), schemes=("cchi",))
    for key, label in (
        ("drug_offences", "drug offences recorded"),
        ("searches", "stop-and-searches"),
        ("drug_searches", "searches for drugs"),
        ("search_arrests", "arrests from searches"),
        ("searches_nothing_found", "searches that found nothing"),
        ("strip_searches", "strip searches"),
    ):
        a, b = pre.value(key), post.value(key)
        assert f"| {label} | {a / 16:,.1f} | {b / 3:,.1f} |" in doc, key
    for key, label in (
        ("drug_search_find_rate", "drug-search find rate"),
        ("searches_nothing_found_share", "share of searches that found nothing"),
    ):
        a, b = pre.value(key), post.value(key)
        assert f"| {label} | {100 * a:.1f}% | {100 * b:.1f}% |" in doc, key


def test_lincolnshire_outcome_numbers(tmp_path: Path, doc: str) -> None:
    files = [
        LINCS / fam / f"2019-{m:02d}-lincolnshire-{fam}.csv.gz"
        for m in range(1, 13)
        for fam in ("street", "outcomes")
    ]
    db = tmp_path / "lincs.duckdb"
    ingest_paths(files, db=db)
    card = scorecard(db=db, months=("2019-01", "2019-12"), harm="all")
    drug, weapons = card.value("drug_offences"), card.value("weapons_offences")
    outcomes, charged = card.value("outcomes"), card.value("charged_share")
    sanction, d_oc = card.value("sanction_share"), card.value("drug_outcomes")
    d_ch, harm = card.value("drug_charged_share"), card.value("harm_cchi")
    count = card.value("harm_count")
    assert f"{_n(drug)} drug offences and {_n(weapons)} possession-of-weapons" in doc
    assert f"against {_n(count)} harm-type crimes" in doc
    assert f"weighing {_n(harm)} CCHI days" in doc
    assert f"Of {_n(outcomes)} outcomes recorded in 2019, {100 * charged:.1f}% were" in doc
    assert f"and {100 * sanction:.1f}% an offender sanctioned" in doc
    assert f"of the {_n(d_oc)} outcomes of drug offences, {100 * d_ch:.1f}% were" in doc
