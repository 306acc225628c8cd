"""police.uk value vocabularies and the names the synthetic city uses.

Values are copied from real police.uk files (City of London stop-and-search 2018-12..2021-11,
Lincolnshire street and outcomes 2017-02..2020-01; see ``../shared/data/README.md``) so the
simulated files carry only values that real files carry.
"""

from __future__ import annotations

from types import MappingProxyType

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
    "LSOA code,LSOA name,Crime type,Last outcome category,Context"
)
OUTCOMES_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
    "LSOA code,LSOA name,Outcome type"
)
STOP_SEARCH_HEADER = (
    "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,"
    "Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,"
    "Outcome,Outcome linked to object of search,Removal of more than just outer clothing"
)

# Last outcome categories that mean the suspect was charged: the outcomes file then holds
# a "Suspect charged" row, and (unless still awaiting court) a later court-result row.
COURT_RESULTS = frozenset(
    {
        "Offender sent to prison",
        "Offender given community sentence",
        "Offender given suspended prison sentence",
        "Offender fined",
        "Offender given conditional discharge",
        "Defendant found not guilty",
        "Court case unable to proceed",
        "Offender deprived of property",
        "Offender given absolute discharge",
        "Offender ordered to pay compensation",
        "Offender otherwise dealt with",
        "Defendant sent to Crown Court",
    }
)
CHARGED_ONLY = frozenset({"Awaiting court outcome", "Court result unavailable"})
NO_OUTCOME_ROW = frozenset({"Status update unavailable", "Under investigation"})

# Stop-and-search values (City of London files).
SEARCH_TYPES = ("Person search", "Person and Vehicle search")
SEARCH_TYPE_P = (0.74, 0.26)
GENDERS = ("Male", "Female")
GENDER_P = (0.9, 0.1)
AGE_RANGES = ("10-17", "18-24", "25-34", "over 34")
AGE_P = (0.08, 0.37, 0.33, 0.22)
# (self-defined, officer-defined, probability)
ETHNICITY: tuple[tuple[str, str, float], ...] = (
    ("White - English/Welsh/Scottish/Northern Irish/British", "White", 0.52),
    ("White - Any other White background", "White", 0.08),
    ("White - Irish", "White", 0.01),
    ("Black/African/Caribbean/Black British - Caribbean", "Black", 0.05),
    ("Black/African/Caribbean/Black British - African", "Black", 0.05),
    ("Asian/Asian British - Pakistani", "Asian", 0.05),
    ("Asian/Asian British - Indian", "Asian", 0.03),
    ("Asian/Asian British - Bangladeshi", "Asian", 0.02),
    ("Mixed/Multiple ethnic groups - White and Black Caribbean", "Black", 0.03),
    ("Other ethnic group - Any other ethnic group", "Other", 0.02),
    ("Other ethnic group - Not stated", "White", 0.14),
)
LEGISLATION_DRUGS = "Misuse of Drugs Act 1971 (section 23)"
LEGISLATION_PACE = "Police and Criminal Evidence Act 1984 (section 1)"
LEGISLATION_S60 = "Criminal Justice and Public Order Act 1994 (section 60)"
LEGISLATION_FIREARMS = "Firearms Act 1968 (section 47)"
# Non-drug objects of search: (object, legislation, probability among non-drug searches)
OTHER_OBJECTS: tuple[tuple[str, str, float], ...] = (
    ("Article for use in theft", LEGISLATION_PACE, 0.38),
    ("Stolen goods", LEGISLATION_PACE, 0.28),
    ("Offensive weapons", LEGISLATION_PACE, 0.2),
    ("Offensive weapons", LEGISLATION_S60, 0.04),
    ("Articles for use in criminal damage", LEGISLATION_PACE, 0.04),
    ("Evidence of offences under the Act", LEGISLATION_PACE, 0.03),
    ("Firearms", LEGISLATION_FIREARMS, 0.03),
)
# Outcome of a search that found the object: (outcome, probability); else no further action.
FIND_OUTCOMES_DRUGS: tuple[tuple[str, float], ...] = (
    ("Arrest", 0.3),
    ("Khat or Cannabis warning", 0.45),
    ("Community resolution", 0.1),
    ("Penalty Notice for Disorder", 0.06),
    ("Summons / charged by post", 0.06),
    ("Caution (simple or conditional)", 0.03),
)
FIND_OUTCOMES_OTHER: tuple[tuple[str, float], ...] = (
    ("Arrest", 0.7),
    ("Community resolution", 0.12),
    ("Summons / charged by post", 0.1),
    ("Penalty Notice for Disorder", 0.05),
    ("Caution (simple or conditional)", 0.03),
)
NFA = "A no further action disposal"

# Street names of the fictional town (first part x second part).
STREET_FIRST = (
    "Mill",
    "Church",
    "Station",
    "Victoria",
    "Albert",
    "Park",
    "Queen",
    "King",
    "High",
    "Chapel",
    "Bridge",
    "Market",
    "Castle",
    "Orchard",
    "Meadow",
    "Spring",
    "Windmill",
    "Forge",
    "Tanner",
    "Cooper",
    "Abbey",
    "Priory",
    "Harm",
    "Brook",
    "River",
    "Canal",
    "Willow",
    "Elm",
    "Oak",
    "Ash",
    "Beech",
    "Birch",
    "Hazel",
    "Holly",
    "Rowan",
    "Cedar",
    "Linden",
    "Poplar",
    "Maple",
    "Chestnut",
    "Cherry",
    "Plum",
    "Rose",
    "Lilac",
    "Heather",
    "Fern",
    "Moor",
    "Heath",
    "Common",
    "Green",
    "Hill",
    "Vale",
    "Dale",
    "Ridge",
    "Quarry",
    "Foundry",
    "Wharf",
    "Lock",
    "Weir",
    "Ferry",
    "Tollgate",
    "Turnpike",
    "Pinfold",
    "Glebe",
    "Manor",
    "Grange",
    "Hall",
    "Lodge",
    "School",
    "College",
    "Union",
    "Railway",
)
STREET_SECOND = (
    "Street",
    "Road",
    "Lane",
    "Close",
    "Avenue",
    "Way",
    "Drive",
    "Crescent",
    "Grove",
    "Place",
    "Court",
    "Walk",
    "Gardens",
    "Row",
    "Terrace",
    "Rise",
)
POI_NAMES = (
    "Supermarket",
    "Parking Area",
    "Shopping Area",
    "Nightclub",
    "Petrol Station",
    "Sports/Recreation Area",
    "Bus/Coach Station",
    "Further/Higher Educational Building",
    "Pedestrian Subway",
    "Theatre/Concert Hall",
    "Hospital",
    "Police Station",
    "Conference/Exhibition Centre",
)

GROUP_CODENAMES = (
    "Kestrel",
    "Heron",
    "Kite",
    "Merlin",
    "Osprey",
    "Plover",
    "Raven",
    "Shrike",
    "Siskin",
    "Swift",
    "Teal",
    "Wren",
    "Avocet",
    "Bittern",
    "Curlew",
    "Dunlin",
    "Egret",
    "Fulmar",
    "Gannet",
    "Hobby",
    "Ibis",
    "Jackdaw",
    "Knot",
    "Linnet",
    "Martin",
    "Nightjar",
    "Oriole",
    "Petrel",
    "Quail",
    "Redstart",
    "Sanderling",
    "Tern",
    "Twite",
    "Warbler",
    "Wheatear",
    "Whimbrel",
    "Woodlark",
    "Yellowhammer",
    "Bunting",
    "Chiffchaff",
)

DRUGS_BY_MARKET = MappingProxyType(
    {
        "open": (("heroin;crack cocaine", 0.6), ("crack cocaine", 0.2), ("cannabis", 0.2)),
        "semi_open": (("cannabis", 0.4), ("cocaine powder", 0.3), ("heroin;crack cocaine", 0.3)),
        "closed": (("cocaine powder", 0.35), ("heroin;crack cocaine", 0.35), ("cannabis", 0.3)),
    }
)

# Survey wording (after the Crime Survey for England and Wales questions).
SURVEY_PROBLEM = (
    "Not a problem at all",
    "Not a very big problem",
    "Fairly big problem",
    "Very big problem",
)
SURVEY_CONFIDENCE = (
    "Strongly disagree",
    "Tend to disagree",
    "Neither agree nor disagree",
    "Tend to agree",
    "Strongly agree",
)
SURVEY_SAFE = ("Very unsafe", "A bit unsafe", "Fairly safe", "Very safe")
SURVEY_HARMS = (
    "Drug dealing in public",
    "Violence",
    "Burglary",
    "Robbery and street theft",
    "Anti-social behaviour",
    "Discarded needles and drug litter",
    "Exploitation of young people",
    "Vehicle crime",
)
