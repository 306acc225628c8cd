"""A nominal's harm recomputed by hand: scheme weight x split x view share x decay x grading.

Data: a real police.uk street file (City of London, 2019-10, under ``../shared/data``)
ingested as it is; force records written here that link invented nominals to three of its
real Crime IDs (a robbery, a burglary, a violence offence), with graded reports. Expected
figures are recomputed from the scheme and attribution files and the records, in plain
Python, independently of the package's pandas code.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.harm.attribution import default_attribution
from harmscope.harm.schemes import load_scheme
from harmscope.people.attribute import KINDS, attribute_harm
from harmscope.people.forecast import ForecastModel
from harmscope.people.records import NoRecordsError
from harmscope.people.severity import default_severity
from harmscope.priorities.lenses import LensUnavailableError, rank, rank_all
from harmscope.sources.records.pseudonym import KEY_ENV, Pseudonymiser
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.records import load_records

KEY = "people tests key, long enough"
STREET = (
    Path(__file__).resolve().parents[3]
    / "shared/data/policeuk-city-of-london-2018-12_2021-11/street/2019-10-city-of-london-street.csv"
)
USER, REASON = "A. Analyst", "test of the people lens"


def _crimes() -> dict[str, str]:
    """The first uniquely-identified robbery, burglary and violence of the real file."""
    d = pd.read_csv(STREET)
    d = d[d["Crime ID"].notna() & ~d["Crime ID"].duplicated(keep=False)]
    return {
        t: d.loc[d["Crime type"] == t, "Crime ID"].iloc[0]
        for t in ("Robbery", "Burglary", "Violence and sexual offences")
    }


def _write(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    pd.DataFrame(rows).to_csv(folder / name, index=False)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    if not STREET.exists():
        pytest.skip(f"shared data missing: {STREET}")
    base = tmp_path_factory.mktemp("people")
    db = base / "w.duckdb"
    ingest_paths([STREET], db=db)
    c = _crimes()
    rec = base / "records"
    rec.mkdir()
    _write(
        rec,
        "nominals.csv",
        [
            {"nominal_id": "N1", "recorded_role": "street dealer", "group_id": "G1"},
            {"nominal_id": "N2", "recorded_role": "runner", "group_id": "G1"},
            {"nominal_id": "N3", "recorded_role": "user", "group_id": ""},
            {"nominal_id": "N4", "recorded_role": "", "group_id": ""},
        ],
    )
    _write(
        rec,
        "groups.csv",
        [{"group_id": "G1", "codename": "Kestrel", "recorded_type": "street gang"}],
    )
    _write(
        rec,
        "crime_people.csv",
        [
            # robbery: N1 offender, N2 suspect (share it), N3 its victim (kept apart)
            {"crime_id": c["Robbery"], "nominal_id": "N1", "role": "offender", "month": "2019-10"},
            {"crime_id": c["Robbery"], "nominal_id": "N2", "role": "suspect", "month": "2019-10"},
            {"crime_id": c["Robbery"], "nominal_id": "N3", "role": "victim", "month": "2019-10"},
            # burglary: N1 alone, as suspect
            {"crime_id": c["Burglary"], "nominal_id": "N1", "role": "suspect", "month": "2019-10"},
            # violence: N3 offender, months before the end of the period below
            {
                "crime_id": c["Violence and sexual offences"],
                "nominal_id": "N3",
                "role": "offender",
                "month": "2019-10",
            },
        ],
    )
    grading = {"handling_code": "P", "lsoa_code": "", "market_id": ""}
    _write(
        rec,
        "reports.csv",
        [
            {
                "report_id": "R1",
                "month": "2019-10",
                "subject_id": "N1",
                "behaviour": "firearms",
                "source_evaluation": "B",
                "intelligence_assessment": "2",
                **grading,
            },
            {
                "report_id": "R2",
                "month": "2019-08",
                "subject_id": "N1",
                "behaviour": "drug dealing",
                "source_evaluation": "A",
                "intelligence_assessment": "1",
                **grading,
            },
            {
                "report_id": "R3",
                "month": "2019-10",
                "subject_id": "N2",
                "behaviour": "cuckooing",
                "source_evaluation": "C",
                "intelligence_assessment": "5",
                **grading,
            },
        ],
    )
    buys = {
        "source_kind": "nominal",
        "target_kind": "nominal",
        "link_type": "buys_from",
        "handling_code": "P",
        "first_recorded": "2019-09",
    }
    _write(
        rec,
        "links.csv",
        [
            # N3 buys from N1 (B2: confidence 0.48); N4's link is "suspected to be false"
            {
                "source_id": "N3",
                "target_id": "N1",
                **buys,
                "source_evaluation": "B",
                "intelligence_assessment": "2",
            },
            {
                "source_id": "N4",
                "target_id": "N1",
                **buys,
                "source_evaluation": "A",
                "intelligence_assessment": "5",
            },
            # N2 buys from N1 too, but is a member: counted once, as a member
            {
                "source_id": "N2",
                "target_id": "N1",
                **buys,
                "source_evaluation": "A",
                "intelligence_assessment": "1",
            },
        ],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        load_records([rec], db=db, user=USER, reason=REASON)
    return db, c


def _pseudo(raw: str) -> str:
    return Pseudonymiser(KEY.encode())(raw)


def _audit_rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM audit_log WHERE action = 'read'").fetchone()
    return int(row[0]) if row else 0


MONTHS = ("2019-08", "2019-10")  # three months ending with the crimes' month


def test_nominal_harm_by_hand_all_view(city: tuple[Path, dict[str, str]]) -> None:
    db, _ = city
    w = {x.event_type: x.weight for x in load_scheme("cchi").weights}
    sev = default_severity()
    # N1: robbery split with N2 (offender + suspect), burglary alone as suspect
    offences = w["Robbery"] / 2 + w["Burglary"]
    firearms = sev.behaviours["firearms"].days * 0.6 * 0.8  # B2
    dealing = sev.behaviours["drug_dealing"].days * 1.0 * 1.0  # A1, two months before the end
    model = ForecastModel(half_life=6.0, context=0.0, custody=1.0, intel=1.0)
    ph = attribute_harm(db, user=USER, reason=REASON, months=MONTHS, harm="all", model=model)
    figs = ph.figures("people")
    n1 = figs.loc[_pseudo("N1")]
    assert_allclose(n1["harm"], offences + firearms + dealing)
    # low: suspects left out (the burglary, and nothing of the robbery's suspect share)
    assert_allclose(n1["harm_low"], w["Robbery"] / 2 + firearms + dealing)
    # high: every report taken as true
    assert_allclose(n1["harm_high"], offences + sev.behaviours["firearms"].days + dealing)
    # decay: a contribution a months before the end weighs 0.5 ** (a / 6)
    norm = 1 + 0.5 ** (1 / 6) + 0.5 ** (2 / 6)
    rate = (offences + firearms + dealing * 0.5 ** (2 / 6)) / norm
    assert_allclose(n1["rate"], rate)
    assert_allclose(n1["forecast_harm"], 3 * rate)
    # confidence: face-value-weighted mean of role and grading confidence
    conf = (
        w["Robbery"] / 2 * 1.0
        + w["Burglary"] * 0.5
        + sev.behaviours["firearms"].days * 0.48
        + dealing * 1.0
    ) / (offences + sev.behaviours["firearms"].days + dealing)
    assert_allclose(n1["confidence"], conf)
    assert n1["months_since_last"] == 0
    # N2: half the robbery; a report "suspected to be false" (5) counts nothing
    assert_allclose(figs.loc[_pseudo("N2"), "harm"], w["Robbery"] / 2)
    # N3's victim share of the robbery is kept apart, never added to its harm
    assert_allclose(figs.loc[_pseudo("N3"), "harm"], w["Violence and sexual offences"])
    assert_allclose(ph.victim_harm()[_pseudo("N3")], w["Robbery"])


def test_drug_view_weighs_by_the_attributable_share(city: tuple[Path, dict[str, str]]) -> None:
    db, _ = city
    w = {x.event_type: x.weight for x in load_scheme("cchi").weights}
    share = {t: default_attribution().for_type(t).drug[1] for t in ("Robbery", "Burglary")}
    sev = default_severity()
    ph = attribute_harm(db, user=USER, reason=REASON, months=MONTHS)  # drug view by default
    n1 = ph.figures("people").loc[_pseudo("N1")]
    reports = sev.behaviours["firearms"].days * 0.48 + sev.behaviours["drug_dealing"].days
    expected = w["Robbery"] * share["Robbery"] / 2 + w["Burglary"] * share["Burglary"] + reports
    assert_allclose(n1["harm"], expected)
    # the matrix cells of a nominal add up to its harm
    cells = ph.cells("people", [_pseudo("N1")])
    assert_allclose(cells["value"].sum(), expected)


def test_group_is_its_members_and_its_buyers_offences(city: tuple[Path, dict[str, str]]) -> None:
    db, _ = city
    w = {x.event_type: x.weight for x in load_scheme("cchi").weights}
    ph = attribute_harm(db, user=USER, reason=REASON, months=MONTHS, harm="all")
    people = ph.figures("people")["harm"]
    groups = ph.figures("groups")["harm"]
    # N3 buys from member N1 (B2 = 0.6 x 0.8, times N1's membership 1): its violence counts
    # at that confidence; N4's link is graded 5 (counts 0); N2 is a member, not a buyer.
    buyer = 0.6 * 0.8 * w["Violence and sexual offences"]
    assert_allclose(groups["G1"], people[_pseudo("N1")] + people[_pseudo("N2")] + buyer)
    behaviours = ph.figures("behaviours")["harm"]
    # every offence and report lands in exactly one behaviour
    assert_allclose(behaviours.sum(), people.sum())


def test_every_lens_read_is_audited(city: tuple[Path, dict[str, str]]) -> None:
    db, _ = city
    for lens in ("people", "groups", "behaviours"):
        before = _audit_rows(db)
        out = rank(lens, db, user=USER, reason=REASON, months=MONTHS)
        # one audited read per personal table: nominals, links, reports, crime links, arrests
        assert _audit_rows(db) - before == 5
        assert list(out["rank"]) == list(range(1, len(out) + 1))
        assert out["score"].is_monotonic_decreasing
    with duckdb.connect(str(db), read_only=True) as con:
        who = con.execute(
            "SELECT DISTINCT user_name, reason FROM audit_log WHERE action = 'read'"
        ).fetchall()
    assert (USER, REASON) in who


def test_one_board_reads_the_records_once(city: tuple[Path, dict[str, str]]) -> None:
    """``--lens all``: people, groups and behaviours share one read (5 audit rows, not 15),
    and rank exactly as they do alone; markets read what they need on their own."""
    db, _ = city
    alone = {k: rank(k, db, user=USER, reason=REASON, months=MONTHS) for k in KINDS}
    before = _audit_rows(db)
    rank("markets", db, user=USER, reason=REASON, months=MONTHS)
    markets_reads = _audit_rows(db) - before
    before = _audit_rows(db)
    board = rank("all", db, user=USER, reason=REASON, months=MONTHS)
    assert _audit_rows(db) - before == 5 + markets_reads
    for kind in KINDS:
        mine = board[board["lens"] == kind].sort_values("lens_rank")
        assert mine["unit_id"].tolist() == alone[kind]["unit_id"].tolist()
        assert_allclose(mine["score"].to_numpy(float), alone[kind]["score"].to_numpy(float))
    # outside a board nothing is kept: the next lens reads again
    before = _audit_rows(db)
    rank("people", db, user=USER, reason=REASON, months=MONTHS)
    assert _audit_rows(db) - before == 5


def test_no_user_no_read(city: tuple[Path, dict[str, str]]) -> None:
    db, _ = city
    before = _audit_rows(db)
    with pytest.raises(LensUnavailableError, match="user and a reason"):
        rank("people", db, months=MONTHS)
    assert _audit_rows(db) == before


def test_unavailable_without_records(tmp_path: Path) -> None:
    if not STREET.exists():
        pytest.skip(f"shared data missing: {STREET}")
    db = tmp_path / "w.duckdb"
    ingest_paths([STREET], db=db)
    with pytest.raises(NoRecordsError, match="load-records"):
        attribute_harm(db, user=USER, reason=REASON)
    for lens in ("people", "groups", "behaviours"):
        with pytest.raises(LensUnavailableError, match="load-records"):
            rank(lens, db, user=USER, reason=REASON)
    board = rank_all(db, user=USER, reason=REASON)
    assert {"people", "groups", "behaviours"} <= set(board.attrs["unavailable"])
    assert "load-records" in board.attrs["unavailable_reasons"]["people"]
    assert set(board["lens"]) <= {"places", "markets"}


def test_rows_explain_themselves(city: tuple[Path, dict[str, str]]) -> None:
    db, _ = city
    out = rank("people", db, user=USER, reason=REASON, months=MONTHS, harm="all").set_index(
        "unit_id"
    )
    n1, n3 = out.loc[_pseudo("N1")], out.loc[_pseudo("N3")]
    assert (
        n1["evidence"][0] == "2 linked offences (1 as offender, 1 as suspect), 2019-08 to 2019-10"
    )
    assert n1["evidence"][1].startswith("2 intelligence reports and links (2 graded A/B")
    w = {x.event_type: x.weight for x in load_scheme("cchi").weights}
    assert any(f"{w['Robbery']:,.0f} days of harm suffered" in e for e in n3["evidence"])
    assert n1["name"] == f"{_pseudo('N1')} (street dealer, G1)"
    # top cells in words, largest first, with days and share of the row's harm
    assert len(n1["top_cells"]) == 3 and n1["top_cells"] == n1["reasons"]
    assert " days (" in n1["top_cells"][0]
    groups = rank("groups", db, user=USER, reason=REASON, months=MONTHS)
    assert groups.loc[0, "name"] == "street gang Kestrel"
    assert "2 members known from links and the nominal index" in groups.loc[0, "evidence"]
    # N3 buys from N1 (B2); N4's link is graded 5 and N2 is a member: one buyer
    assert any(
        e.startswith("1 buyers known from buys_from links") for e in groups.loc[0, "evidence"]
    )
