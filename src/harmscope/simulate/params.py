"""Every parameter of the synthetic city, with the literature it comes from, in one place.

The simulator's mechanisms read their numbers only from :class:`Parameters` (a frozen
dataclass) and the size presets in :data:`SIZES`. Change a number here, or pass
``Parameters(...)`` / ``dataclasses.replace(DEFAULT, ...)`` to :func:`simulate`, and every
output follows. Values marked *assumption* have no direct published estimate; they are
chosen to be plausible and are documented as such in ``docs/simulator.md``.

References
----------
Braga, A. A., Turchan, B., Papachristos, A. V. & Hureau, D. M. (2019). Hot spots policing
    and crime reduction: an update of an ongoing systematic review and meta-analysis.
    *Journal of Experimental Criminology* 15, 289-311.
Braga, A. A., Weisburd, D. & Turchan, B. (2018). Focused deterrence strategies and crime
    control: an updated systematic review and meta-analysis. *Criminology & Public Policy*
    17(1), 205-250.
Bowers, K. J., Johnson, S. D., Guerette, R. T., Summers, L. & Poynton, S. (2011). Spatial
    displacement and diffusion of benefits among geographically focused policing
    initiatives: a meta-analytical review. *Journal of Experimental Criminology* 7, 347-374.
Corsaro, N., Hunt, E. D., Hipple, N. K. & McGarrell, E. F. (2012). The impact of drug market
    pulling levers policing on neighborhood violence: an evaluation of the High Point Drug
    Market Intervention. *Criminology & Public Policy* 11(2), 167-199.
Gossop, M., Marsden, J., Stewart, D. & Kidd, T. (2003). The National Treatment Outcome
    Research Study (NTORS): 4-5 year follow-up results. *Addiction* 98(3), 291-303.
Holloway, K., Bennett, T. & Farrington, D. (2005). *The effectiveness of criminal justice
    and treatment programmes in reducing drug-related crime*. Home Office Online Report 26/05.
May, T. & Hough, M. (2004). Drug markets and distribution systems. *Addiction Research &
    Theory* 12(6), 549-563.
Sherman, L. W. (1990). Police crackdowns: initial and residual deterrence. *Crime and
    Justice* 12, 1-48.
Sherman, L. W. (2007). The power few: experimental criminology and the reduction of harm.
    *Journal of Experimental Criminology* 3, 289-298.
Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index.
    *Policing* 10(3), 171-183.
Weisburd, D. (2015). The law of crime concentration and the criminology of place.
    *Criminology* 53(2), 133-157.
Werb, D., Rowell, G., Guyatt, G., Kerr, T., Montaner, J. & Wood, E. (2011). Effect of drug
    law enforcement on drug market violence: a systematic review. *International Journal of
    Drug Policy* 22(2), 87-94.
Tyler, T. R. (2004). Enhancing police legitimacy. *Annals AAPSS* 593, 84-99.
Coomber, R. & Moyle, L. (2018). The changing shape of street-level heroin and crack supply
    in England: commuting, holidaying and cuckooing drug dealers across 'county lines'.
    *British Journal of Criminology* 58(6), 1323-1342.
College of Policing (2016). *Intelligence management: the 3x5x2 intelligence grading
    system*. Authorised Professional Practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from harmscope.harm import load_scheme
from harmscope.sources.policeuk import CRIME_TYPES as POLICEUK_CRIME_TYPES

Size = Literal["small", "city", "region"]

# The 14 police.uk crime types (sources.policeuk, alphabetical): the simulator's type index.
CRIME_TYPES: tuple[str, ...] = POLICEUK_CRIME_TYPES
T = {name: i for i, name in enumerate(CRIME_TYPES)}
"""Crime type name -> column index."""

# Cambridge Crime Harm Index days per police.uk type and the activity types, read from the
# packaged ``cchi`` scheme (DESIGN.md §3) so the simulator's harm is the analysts' harm.
_CCHI = {w.event_type: w for w in load_scheme("cchi").weights}
HARM_DAYS: MappingProxyType[str, float] = MappingProxyType(
    {t: float(_CCHI[t].weight) for t in CRIME_TYPES}
)
ACTIVITY_TYPES: frozenset[str] = frozenset(t for t in CRIME_TYPES if _CCHI[t].kind == "activity")
"""Types that measure police work ("busyness"), never added to harm (DESIGN.md §3)."""

# Share of recorded police.uk street rows by type: Lincolnshire Police, 2017-02..2020-01,
# 201,960 rows (../shared/data item 9). The calibration test recomputes it from the files.
TYPE_MIX: MappingProxyType[str, float] = MappingProxyType(
    {
        "Violence and sexual offences": 0.2635,
        "Anti-social behaviour": 0.2504,
        "Criminal damage and arson": 0.0924,
        "Shoplifting": 0.0814,
        "Other theft": 0.0760,
        "Burglary": 0.0657,
        "Public order": 0.0477,
        "Vehicle crime": 0.0475,
        "Drugs": 0.0264,
        "Other crime": 0.0167,
        "Bicycle theft": 0.0157,
        "Possession of weapons": 0.0077,
        "Robbery": 0.0047,
        "Theft from the person": 0.0041,
    }
)

# Last outcome category mix by crime type: categories with >= 1 % of a type's rows in the
# Lincolnshire street files above, renormalised (ASB has no outcome).
OUTCOME_MIX: MappingProxyType[str, dict[str, float]] = MappingProxyType(
    {
        "Bicycle theft": {
            "Investigation complete; no suspect identified": 0.588,
            "Status update unavailable": 0.246,
            "Unable to prosecute suspect": 0.086,
            "Under investigation": 0.08,
        },
        "Burglary": {
            "Investigation complete; no suspect identified": 0.558,
            "Status update unavailable": 0.242,
            "Unable to prosecute suspect": 0.097,
            "Under investigation": 0.079,
            "Offender sent to prison": 0.014,
            "Court result unavailable": 0.011,
        },
        "Criminal damage and arson": {
            "Investigation complete; no suspect identified": 0.44,
            "Status update unavailable": 0.23,
            "Unable to prosecute suspect": 0.2,
            "Under investigation": 0.076,
            "Local resolution": 0.04,
            "Offender given a caution": 0.015,
        },
        "Drugs": {
            "Status update unavailable": 0.216,
            "Offender given a drugs possession warning": 0.207,
            "Unable to prosecute suspect": 0.136,
            "Offender given a caution": 0.125,
            "Further investigation is not in the public interest": 0.1,
            "Under investigation": 0.056,
            "Awaiting court outcome": 0.028,
            "Offender given penalty notice": 0.025,
            "Court result unavailable": 0.022,
            "Formal action is not in the public interest": 0.021,
            "Local resolution": 0.021,
            "Offender fined": 0.02,
            "Offender deprived of property": 0.012,
            "Offender sent to prison": 0.012,
        },
        "Other crime": {
            "Unable to prosecute suspect": 0.373,
            "Status update unavailable": 0.253,
            "Further investigation is not in the public interest": 0.125,
            "Under investigation": 0.087,
            "Investigation complete; no suspect identified": 0.087,
            "Court result unavailable": 0.02,
            "Offender given a caution": 0.017,
            "Action to be taken by another organisation": 0.014,
            "Offender sent to prison": 0.012,
            "Awaiting court outcome": 0.012,
        },
        "Other theft": {
            "Investigation complete; no suspect identified": 0.472,
            "Status update unavailable": 0.255,
            "Unable to prosecute suspect": 0.185,
            "Under investigation": 0.07,
            "Local resolution": 0.017,
        },
        "Possession of weapons": {
            "Unable to prosecute suspect": 0.269,
            "Status update unavailable": 0.205,
            "Under investigation": 0.073,
            "Further investigation is not in the public interest": 0.064,
            "Awaiting court outcome": 0.058,
            "Offender given a caution": 0.057,
            "Local resolution": 0.054,
            "Court result unavailable": 0.043,
            "Offender given community sentence": 0.039,
            "Offender sent to prison": 0.036,
            "Offender given suspended prison sentence": 0.036,
            "Offender fined": 0.016,
            "Formal action is not in the public interest": 0.015,
            "Defendant found not guilty": 0.011,
            "Action to be taken by another organisation": 0.011,
            "Investigation complete; no suspect identified": 0.011,
        },
        "Public order": {
            "Unable to prosecute suspect": 0.485,
            "Status update unavailable": 0.191,
            "Under investigation": 0.068,
            "Investigation complete; no suspect identified": 0.059,
            "Offender given a caution": 0.038,
            "Awaiting court outcome": 0.03,
            "Court result unavailable": 0.025,
            "Formal action is not in the public interest": 0.023,
            "Offender given penalty notice": 0.022,
            "Local resolution": 0.021,
            "Further investigation is not in the public interest": 0.015,
            "Offender fined": 0.011,
            "Offender sent to prison": 0.011,
        },
        "Robbery": {
            "Unable to prosecute suspect": 0.333,
            "Status update unavailable": 0.242,
            "Investigation complete; no suspect identified": 0.196,
            "Under investigation": 0.096,
            "Court result unavailable": 0.042,
            "Offender sent to prison": 0.04,
            "Awaiting court outcome": 0.039,
            "Defendant found not guilty": 0.012,
        },
        "Shoplifting": {
            "Investigation complete; no suspect identified": 0.315,
            "Status update unavailable": 0.226,
            "Unable to prosecute suspect": 0.124,
            "Under investigation": 0.057,
            "Local resolution": 0.053,
            "Offender sent to prison": 0.039,
            "Awaiting court outcome": 0.032,
            "Offender given community sentence": 0.025,
            "Offender given conditional discharge": 0.022,
            "Offender given a caution": 0.02,
            "Offender given suspended prison sentence": 0.019,
            "Court result unavailable": 0.016,
            "Further investigation is not in the public interest": 0.016,
            "Offender given penalty notice": 0.014,
            "Suspect charged as part of another case": 0.014,
            "Offender fined": 0.01,
        },
        "Theft from the person": {
            "Investigation complete; no suspect identified": 0.541,
            "Status update unavailable": 0.281,
            "Unable to prosecute suspect": 0.109,
            "Under investigation": 0.068,
        },
        "Vehicle crime": {
            "Investigation complete; no suspect identified": 0.579,
            "Status update unavailable": 0.244,
            "Unable to prosecute suspect": 0.089,
            "Under investigation": 0.088,
        },
        "Violence and sexual offences": {
            "Unable to prosecute suspect": 0.653,
            "Status update unavailable": 0.151,
            "Under investigation": 0.061,
            "Investigation complete; no suspect identified": 0.054,
            "Offender given a caution": 0.024,
            "Local resolution": 0.023,
            "Court result unavailable": 0.017,
            "Awaiting court outcome": 0.016,
        },
    }
)


@dataclass(frozen=True)
class SizeSpec:
    """How big a simulated area is.

    Attributes
    ----------
    residents : int
        Usual residents (persons).
    cells : int
        Side of the square study area in 250 m grid cells (so the area is
        ``(cells * 0.25) ** 2`` km²).
    markets : int
        Drug markets at the start.
    groups : int
        Supply groups (each controls one or more markets).
    subcentres : int
        District centres besides the town centre.
    """

    residents: int
    cells: int
    markets: int
    groups: int
    subcentres: int


SIZES: MappingProxyType[str, SizeSpec] = MappingProxyType(
    {
        "small": SizeSpec(residents=40_000, cells=28, markets=6, groups=4, subcentres=2),
        "city": SizeSpec(residents=300_000, cells=64, markets=24, groups=12, subcentres=6),
        "region": SizeSpec(residents=1_000_000, cells=128, markets=70, groups=30, subcentres=14),
    }
)


def _d(**kw: float) -> MappingProxyType[str, float]:
    return MappingProxyType(dict(kw))


@dataclass(frozen=True)
class Parameters:
    """All numbers the simulator uses. Units are in each attribute's name or note.

    Geography and naming
    --------------------
    origin_easting, origin_northing : float
        British National Grid (EPSG:27700) metres of the study area's south-west corner.
        The default puts the fictional town of Harmbridge in the English East Midlands
        (about 52.2 °N, 0.7 °W); every coordinate is inside England.
    cell_m : float
        Grid cell side, metres (250, as in the calibration).
    force_name, force_slug, place_name
        Fictional force ("Harmshire Police"), its police.uk file slug and the town name.
    lsoa_code_base : int
        Synthetic LSOA codes are ``E01`` followed by ``lsoa_code_base + i`` (6 digits),
        i.e. ``E01900001`` upwards: well clear of the real 2011 codes (which stop near
        E01033768) and of the 2021 ones (near E01035700), yet matching ``^[EW]\\d{8}$``.
    residents_per_lsoa : float
        Mean LSOA population (persons; real 2011 LSOAs average about 1,600).

    Crime concentration (Weisburd 2015; Sherman 2007)
    --------------------------------------------------
    place_risk_sigma : float
        Standard deviation of the log of a cell's enduring risk multiplier. A lognormal
        place effect shared by every crime type reproduces the law of crime concentration;
        the value is calibrated so that the top 5 % of 250 m cells with any harm hold about
        40 % of harm, as in City of London and Lincolnshire police.uk data.
    deprivation_risk : float
        Log risk per standard deviation of deprivation (assumption).
    type_risk_sigma : mapping
        Standard deviation of the log of a type's own place risk (mean one, independent
        per type and cell), on top of the shared one. Severe crime (violence, burglary,
        robbery: 231-365 CCHI days each) does not fall exactly where volume crime falls, so
        counts and harm rank cells differently. 0.6 for those three types puts the
        simulator's count-harm divergence at 250 m (top-1 % cells differing, Spearman of
        counts and harm, harm counting misses) at Lincolnshire's (``docs/simulator.md``);
        with 0 the two rankings nearly coincide (calibrated; issue 12).
    offender_pareto_shape : float
        Pareto shape of prolific drug-using offenders' offending rates: a shape near 1.2
        puts about half of their crime on the top 10 % ("power few", Sherman 2007).

    Volume and mix
    --------------
    recorded_per_1000_month : float
        Recorded police.uk street rows (crimes + ASB) per 1,000 residents per month. The
        Lincolnshire figure is about 7.4; urban areas run higher (assumption: 9.5).
    type_mix : mapping
        Target share of recorded rows by type (:data:`TYPE_MIX`, Lincolnshire).
    recording_rate : mapping
        Probability that a crime that happened is recorded by police, by type (assumption
        informed by Crime Survey for England and Wales reporting rates: about 40 % of
        CSEW crime is reported; burglary and vehicle crime more, violence less).
    seasonal_amplitude, seasonal_peak_month, seasonal_default_peak
        Annual cycle per type: multiplier ``1 + a cos(2 pi (month - peak) / 12)``
        (summer peaks for violence and ASB, a winter peak for burglary).
    residential_weight : mapping
        Share of each type's background volume placed by residents (the rest by commercial
        attraction: town and district centres). Shoplifting and theft from the person
        follow shops and crowds (routine activity theory; assumption).

    Drug markets (May & Hough 2004; Coomber & Moyle 2018)
    ------------------------------------------------------
    market_type_probs : mapping
        Shares of open / semi-open / closed markets.
    market_kernel_m : mapping
        Gaussian footprint (standard deviation, metres) of each market type's harm.
    market_harm_scale : mapping
        Relative harm intensity of each market type (open markets cause most nuisance and
        violence around them).
    market_share : mapping
        Share of each crime type's recorded volume that markets generate (assumption,
        in line with the UKDPC's estimate that a sizeable minority of violence and most
        robbery near open markets is market-related).
    market_drift_sd : float
        Monthly standard deviation of the AR(1) log intensity of each market.
    market_drift_ar : float
        AR(1) coefficient of that drift.
    user_share : mapping
        Share of each acquisitive type's recorded volume committed by heroin/crack users
        (UKDPC 2009 and Home Office estimates put it between a third and a half).
    sellers_per_market, users_per_1000 : float
        Mean sellers per market; problem drug users per 1,000 residents (England has
        about 8.9 opiate and/or crack users per 1,000 adults aged 15-64).
    child_runner_prob, cuckoo_per_county_line : float
        Probability that a runner in an exploiting group is under 18; mean cuckooed
        addresses per county line (Coomber & Moyle 2018; assumption).
    hidden_harm_days : mapping
        Harm (days, CCHI-like) per month of a hidden harm that police.uk data never show:
        an exploited child, a cuckooed vulnerable adult (assumption: rated "grave" on the
        Greenfield & Paoli scale, set equal to one month of a robbery-level harm).

    Police activity (follows deployment, not harm)
    -----------------------------------------------
    stop_search_per_1000_month : float
        Stop-and-searches per 1,000 residents per month (England and Wales 2019/20:
        about 0.9).
    deployment_busyness_power : float
        Patrol deployment is proportional to ``(recorded count over the last 3 months +
        1) ** power`` -- police go where recorded events are many, not where harm is.
    drug_search_share, drug_find_rate, market_find_lift
        Share of searches for controlled drugs; probability a drug search finds drugs;
        extra find probability at full market presence.
    bau_arrest_rate : float
        Monthly probability that an active seller is arrested and removed in business as
        usual (assumption).
    sentence_months_mean : float
        Mean months a charged seller is away (custody or remand; assumption).

    Operations (the tactics of :class:`~harmscope.simulate.operations.Operation`)
    ----------------------------------------------------------------------------
    crackdown_effect : float
        Proportional fall of harm in the target area during a crackdown (Braga et al.
        2019: mean effect of hot-spot policing d = 0.12, about 15-20 % fewer crimes).
    crackdown_market_effect : float
        Proportional fall of market-generated harm in the target area.
    crackdown_deployment_boost : float
        Multiplier of patrol deployment in the target area (drives stop-search and drug
        detections up: "busyness").
    residual_halflife_months : float
        Half-life of residual deterrence after an operation ends (Sherman 1990).
    buffer_m : float
        Width of the catchment ring around a target area where displacement or diffusion
        happens (metres).
    diffusion_prob, displacement_prob : float
        Probabilities that an operation's buffer sees a diffusion of benefits, or
        displacement; otherwise no change. Diffusion is the more common (Bowers et al.
        2011; Braga et al. 2019).
    diffusion_range, displacement_range : (float, float)
        Uniform range of the proportional change in the buffer.
    arrest_sweep_share : float
        Share of a target market's sellers an arrest operation removes.
    turf_violence_prob, turf_violence_lift, turf_violence_months
        Probability that an arrest sweep leaves a vacancy contested by rivals; the
        proportional rise of market violence in the footprint; months it lasts (Werb et al.
        2011: 87 % of studies found enforcement associated with more drug-market violence).
    bau_turf_threshold : float
        Share of a market's sellers arrested in a month (business as usual) above which
        the vacancy brings turf violence.
    dmi_close_prob : float
        Probability that a Drug Market Intervention (call-in with banked cases) closes an
        open or semi-open market (Corsaro et al. 2012: High Point's markets stayed closed;
        Braga et al. 2018).
    dmi_open_effect, dmi_closed_residual : float
        Proportional fall of market harm when DMI does not close the market; residual
        share of market harm when it does.
    dmi_prosecute_violent : bool
        Violent sellers are prosecuted (banked cases used) at call-in, as in High Point.
    treatment_uptake : float
        Probability a referred user enters treatment.
    treatment_effect : float
        Proportional fall of a treated user's acquisitive offending (Holloway et al. 2005;
        Gossop et al. 2003: acquisitive crime roughly halved).
    treatment_months : float
        Mean months in treatment (geometric).

    Community and partners
    ----------------------
    survey_per_lsoa_quarter : float
        Mean survey responses per LSOA per quarter.
    legitimacy_cost_per_search : float
        Fall in log-odds of confidence in police per empty (no-find) search per 1,000
        residents in the month (Tyler 2004: procedural justice; assumption).
    overdose_per_user_month, death_per_user_month, needles_per_open_market_month
        Partner indicator rates (assumption; about 1 drug-misuse death per 100
        problem users per year, ONS).

    Intelligence (College of Policing 2016: 3x5x2 grading)
    -------------------------------------------------------
    intel_reports_per_seller_month : float
        Mean intelligence reports per active seller per month.
    source_eval_probs : mapping
        Shares of source evaluations 1 (reliable), 2 (untested), 3 (not reliable).
    source_truth_prob : mapping
        Probability a report is true, by source evaluation.
    known_seller_prob, known_user_prob : float
        Probability that police intelligence holds a nominal record for a seller / user.
    """

    origin_easting: float = 470_000.0
    origin_northing: float = 262_000.0
    cell_m: float = 250.0
    force_name: str = "Harmshire Police"
    force_slug: str = "harmshire"
    place_name: str = "Harmbridge"
    lsoa_code_base: int = 900_000
    residents_per_lsoa: float = 1_600.0

    place_risk_sigma: float = 0.85
    deprivation_risk: float = 0.35
    offender_pareto_shape: float = 1.2

    recorded_per_1000_month: float = 9.5
    type_mix: MappingProxyType[str, float] = field(default_factory=lambda: TYPE_MIX)
    recording_rate: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(
            **{
                "Anti-social behaviour": 0.3,
                "Bicycle theft": 0.5,
                "Burglary": 0.7,
                "Criminal damage and arson": 0.35,
                "Drugs": 1.0,
                "Other crime": 0.5,
                "Other theft": 0.35,
                "Possession of weapons": 1.0,
                "Public order": 0.4,
                "Robbery": 0.5,
                "Shoplifting": 0.3,
                "Theft from the person": 0.35,
                "Vehicle crime": 0.6,
                "Violence and sexual offences": 0.45,
            }
        )
    )
    seasonal_amplitude: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(
            **{
                "Anti-social behaviour": 0.15,
                "Violence and sexual offences": 0.08,
                "Public order": 0.08,
                "Criminal damage and arson": 0.06,
                "Burglary": 0.08,
                "Bicycle theft": 0.25,
            }
        )
    )
    seasonal_peak_month: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(**{"Burglary": 11.0, "Bicycle theft": 7.0})
    )
    seasonal_default_peak: float = 7.0

    residential_weight: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(
            **{
                "Anti-social behaviour": 0.5,
                "Bicycle theft": 0.5,
                "Burglary": 0.9,
                "Criminal damage and arson": 0.7,
                "Drugs": 0.5,
                "Other crime": 0.6,
                "Other theft": 0.3,
                "Possession of weapons": 0.5,
                "Public order": 0.4,
                "Robbery": 0.4,
                "Shoplifting": 0.03,
                "Theft from the person": 0.1,
                "Vehicle crime": 0.7,
                "Violence and sexual offences": 0.5,
            }
        )
    )
    type_risk_sigma: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(
            **{
                "Violence and sexual offences": 0.6,
                "Burglary": 0.6,
                "Robbery": 0.6,
            }
        )
    )
    market_type_probs: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(open=0.3, semi_open=0.35, closed=0.35)
    )
    market_kernel_m: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(open=220.0, semi_open=180.0, closed=140.0)
    )
    market_harm_scale: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(open=3.0, semi_open=1.5, closed=0.5)
    )
    market_share: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(
            **{
                "Violence and sexual offences": 0.10,
                "Robbery": 0.25,
                "Anti-social behaviour": 0.08,
                "Public order": 0.08,
                "Criminal damage and arson": 0.05,
                "Other crime": 0.04,
                "Burglary": 0.03,
            }
        )
    )
    market_drift_sd: float = 0.12
    market_drift_ar: float = 0.85
    user_share: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(
            **{
                "Burglary": 0.30,
                "Shoplifting": 0.35,
                "Other theft": 0.15,
                "Vehicle crime": 0.20,
                "Theft from the person": 0.25,
                "Bicycle theft": 0.20,
                "Robbery": 0.10,
            }
        )
    )
    sellers_per_market: float = 16.0
    users_per_1000: float = 8.9
    child_runner_prob: float = 0.3
    cuckoo_per_county_line: float = 3.0
    hidden_harm_days: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(child_exploitation=30.0, cuckooing=30.0)
    )

    stop_search_per_1000_month: float = 0.9
    deployment_busyness_power: float = 0.8
    drug_search_share: float = 0.6
    drug_find_rate: float = 0.2
    market_find_lift: float = 0.25
    bau_arrest_rate: float = 0.015
    sentence_months_mean: float = 10.0

    crackdown_effect: float = 0.18
    crackdown_market_effect: float = 0.45
    crackdown_deployment_boost: float = 4.0
    residual_halflife_months: float = 1.5
    buffer_m: float = 500.0
    diffusion_prob: float = 0.5
    displacement_prob: float = 0.25
    diffusion_range: tuple[float, float] = (0.05, 0.15)
    displacement_range: tuple[float, float] = (0.05, 0.25)
    arrest_sweep_share: float = 0.5
    turf_violence_prob: float = 0.6
    turf_violence_lift: float = 0.8
    turf_violence_months: int = 4
    bau_turf_threshold: float = 0.25
    dmi_close_prob: float = 0.7
    dmi_open_effect: float = 0.3
    dmi_closed_residual: float = 0.1
    dmi_prosecute_violent: bool = True
    treatment_uptake: float = 0.5
    treatment_effect: float = 0.5
    treatment_months: float = 9.0

    survey_per_lsoa_quarter: float = 6.0
    legitimacy_cost_per_search: float = 0.15
    overdose_per_user_month: float = 0.012
    death_per_user_month: float = 0.0009
    needles_per_open_market_month: float = 6.0

    intel_reports_per_seller_month: float = 0.25
    source_eval_probs: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(**{"1": 0.3, "2": 0.5, "3": 0.2})
    )
    source_truth_prob: MappingProxyType[str, float] = field(
        default_factory=lambda: _d(**{"1": 0.92, "2": 0.7, "3": 0.4})
    )
    known_seller_prob: float = 0.75
    known_user_prob: float = 0.4

    def __post_init__(self) -> None:
        from harmscope.errors import SimulationError

        if abs(sum(self.type_mix.values()) - 1.0) > 0.01 or set(self.type_mix) != set(CRIME_TYPES):
            raise SimulationError("type_mix must give a share to each of the 14 crime types")
        for name in (
            "diffusion_prob",
            "displacement_prob",
            "dmi_close_prob",
            "treatment_uptake",
            "turf_violence_prob",
            "arrest_sweep_share",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise SimulationError(f"{name} must be a probability, got {v}")
        if self.diffusion_prob + self.displacement_prob > 1.0:
            raise SimulationError("diffusion_prob + displacement_prob must not exceed 1")
        if self.cell_m <= 0 or self.residents_per_lsoa <= 0:
            raise SimulationError("cell_m and residents_per_lsoa must be positive")
        for t, share in {**self.market_share, **self.user_share}.items():
            if t not in T:
                raise SimulationError(f"unknown crime type {t!r} in market_share/user_share")
            if not 0.0 <= share < 1.0:
                raise SimulationError(f"share for {t!r} must be in [0, 1), got {share}")
        for t in self.market_share:
            if self.market_share[t] + self.user_share.get(t, 0.0) >= 0.95:
                raise SimulationError(f"market + user share of {t!r} leaves no background")


DEFAULT = Parameters()
"""The default parameters (the ones ``harmscope simulate`` uses)."""
