"""The integer codes the simulator writes into its buffers, and the labels they stand for.

The engine stores events, statuses and intelligence reports as small integer codes (numpy
arrays, no strings per row); the truth and intelligence tables turn them back into labels.
Both sides read the codes from here, so this module depends on nothing but the parameters.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harmscope.simulate.params import ACTIVITY_TYPES, CRIME_TYPES, HARM_DAYS, T

NT = len(CRIME_TYPES)
"""Number of police.uk crime types (the type axis of every count array)."""

HARM_W: NDArray[np.float64] = np.array(
    [0.0 if t in ACTIVITY_TYPES else HARM_DAYS[t] for t in CRIME_TYPES]
)
"""CCHI days of harm per crime type index; 0 for activity types (police-found, DESIGN §3)."""

VIOLENT = np.array([T["Violence and sexual offences"], T["Robbery"]])
"""Type indices that market violence (and turf violence) lifts."""
DRUGS, WEAPONS = T["Drugs"], T["Possession of weapons"]

BEHAVIOURS = (
    "not drug-related",
    "open dealing nuisance",
    "market violence",
    "firearms violence",
    "turf violence",
    "acquisitive crime by users",
    "child criminal exploitation",
    "cuckooing",
    "police-found drug and weapon offences",
)
"""Labels of the behaviour codes (``truth/behaviour_month.csv``)."""
B_OTHER, B_NUISANCE, B_VIOL, B_FIRE, B_TURF, B_ACQ, B_CHILD, B_CUCKOO, B_POLICE = range(9)

# Seller status codes (truth person_month).
ST_RESERVE, ST_ACTIVE, ST_CUSTODY, ST_DETERRED, ST_IDLE = range(5)
SELLER_STATUS = ("reserve", "active", "in custody", "deterred", "idle (market closed)")
"""Labels of the seller status codes."""

EFFECT_MEASURES = ("true_harm", "recorded_harm", "recorded_events", "activity")
"""Measures of an operation's true effect (``truth/operation_effects.csv``)."""

INTEL_BEHAVIOURS = (
    "drug dealing",
    "violence",
    "firearms",
    "weapon carrying",
    "child criminal exploitation",
    "cuckooing",
    "acquisitive crime",
    "drug use",
)
"""Behaviours an intelligence report can allege (``intel/reports.csv``)."""
# Intelligence assessment (the "5" of 3x5x2, College of Policing 2016) of true and of false
# reports: true reports are more often graded A/B (assumption, plausible shares).
GRADES_TRUE = (("A", 0.25), ("B", 0.45), ("C", 0.25), ("D", 0.05), ("E", 0.0))
GRADES_FALSE = (("A", 0.02), ("B", 0.13), ("C", 0.4), ("D", 0.3), ("E", 0.15))
