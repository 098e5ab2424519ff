"""The demo population's marginal tables: the shares and weights the generator draws from.

Reference date and age range, sex, nationality group, age profile by nationality, cantons and
their communes, household size by age band, fields of study, NACE sections (economy-wide and by
field), employment statuses, contracts and ISCO groups of skill level 2. All are rounded
approximations of public figures (STATEC, Eurostat, IGSS, ADEM); ``docs/demo-population.md``
names the source of each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: ages are counted on this date (a person born on 2009-01-01 is 16)
REFERENCE_DATE = pd.Timestamp("2025-01-01")
MIN_AGE, MAX_AGE = 16, 85

# --- marginal tables (approximations; sources in docs/demo-population.md) -----------------------
SEXES = ["F", "M"]
SHARE_FEMALE = 0.497

NATIONALITIES = ["Luxembourgish", "Portuguese", "French", "Italian", "Belgian", "German", "Other EU", "Non-EU"]
NATIONALITY_SHARES = [0.527, 0.140, 0.077, 0.038, 0.029, 0.019, 0.085, 0.085]

AGE_BANDS = [(16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 85)]
#: share of each age band among adults 16-85, for Luxembourgers and for foreigners
AGE_PROFILE = {
    "Luxembourgish": [0.14, 0.13, 0.14, 0.17, 0.18, 0.14, 0.10],
    "foreign": [0.11, 0.22, 0.24, 0.19, 0.13, 0.07, 0.04],
}

#: canton -> (population share, {commune: relative weight}); communes are real, a few per canton
CANTONS: dict[str, tuple[float, dict[str, float]]] = {
    "Capellen": (0.081, {"Käerjeng": 11.2, "Mamer": 11.1, "Kehlen": 6.9, "Steinfort": 6.0, "Habscht": 5.1,
                         "Dippach": 4.6, "Kopstal": 4.5, "Koerich": 2.7, "Garnich": 2.3}),
    "Clervaux": (0.032, {"Clervaux": 6.1, "Wincrange": 4.5, "Parc Hosingen": 4.1, "Troisvierges": 3.6,
                         "Weiswampach": 2.5}),
    "Diekirch": (0.055, {"Ettelbruck": 9.5, "Diekirch": 7.5, "Bettendorf": 2.9, "Vallée de l'Ernz": 2.9,
                         "Erpeldange-sur-Sûre": 2.6, "Schieren": 2.0}),
    "Echternach": (0.030, {"Echternach": 5.8, "Rosport-Mompach": 3.9, "Beaufort": 3.1, "Consdorf": 2.1,
                           "Berdorf": 2.1, "Waldbillig": 1.9, "Bech": 1.4}),
    "Esch-sur-Alzette": (0.290, {"Esch-sur-Alzette": 37.0, "Differdange": 29.0, "Dudelange": 22.0,
                                 "Pétange": 21.0, "Sanem": 18.0, "Schifflange": 11.5, "Bettembourg": 11.0,
                                 "Kayl": 9.5, "Mondercange": 7.5, "Rumelange": 5.5}),
    "Grevenmacher": (0.049, {"Junglinster": 8.0, "Grevenmacher": 5.0, "Mertert": 5.0, "Betzdorf": 4.3,
                             "Wormeldange": 3.0, "Flaxweiler": 2.4, "Manternach": 2.3, "Biwer": 2.0}),
    "Luxembourg": (0.300, {"Luxembourg": 134.0, "Hesperange": 17.0, "Strassen": 10.0, "Bertrange": 9.0,
                           "Walferdange": 9.0, "Niederanven": 6.5, "Steinsel": 5.5, "Schuttrange": 4.5,
                           "Sandweiler": 4.0, "Contern": 4.0}),
    "Mersch": (0.054, {"Mersch": 10.0, "Helperknapp": 4.8, "Lorentzweiler": 4.0, "Lintgen": 3.0,
                       "Larochette": 2.3, "Fischbach": 1.2}),
    "Redange": (0.031, {"Rambrouch": 4.6, "Redange": 3.2, "Beckerich": 2.8, "Préizerdall": 2.1,
                        "Useldange": 2.1, "Ell": 1.5, "Vichten": 1.5, "Grosbous": 1.2, "Wahl": 1.0}),
    "Remich": (0.037, {"Mondorf-les-Bains": 5.5, "Schengen": 5.0, "Remich": 3.8, "Bous-Waldbredimus": 3.0,
                       "Dalheim": 2.5, "Stadtbredimus": 2.3, "Lenningen": 2.0}),
    "Vianden": (0.009, {"Tandel": 2.3, "Vianden": 2.2, "Putscheid": 1.2}),
    "Wiltz": (0.033, {"Wiltz": 7.5, "Esch-sur-Sûre": 2.8, "Lac de la Haute-Sûre": 2.3, "Goesdorf": 1.6,
                      "Winseler": 1.3, "Kiischpelt": 1.3, "Boulaide": 1.0}),
}
CANTON_NAMES = list(CANTONS)

#: household size 1..6 by age band (rows follow AGE_BANDS)
HOUSEHOLD_SIZE_PROBS = np.array([
    [0.08, 0.12, 0.25, 0.30, 0.18, 0.07],
    [0.30, 0.30, 0.18, 0.15, 0.05, 0.02],
    [0.20, 0.18, 0.20, 0.28, 0.11, 0.03],
    [0.18, 0.22, 0.22, 0.25, 0.10, 0.03],
    [0.25, 0.42, 0.18, 0.10, 0.04, 0.01],
    [0.30, 0.55, 0.10, 0.03, 0.015, 0.005],
    [0.45, 0.45, 0.06, 0.02, 0.015, 0.005],
])

FIELDS = ["Education", "Arts and humanities", "Social sciences", "Business and law", "Natural sciences",
          "ICT", "Engineering", "Agriculture", "Health and welfare", "Services", "General"]
#: field weights by education group (rows: ISCED 0-2, 3-4, 5-8), before the sex tilt
FIELD_WEIGHTS = {
    "ISCED 0-2": [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.04, 0.02, 0.00, 0.04, 0.90],
    "ISCED 3-4": [0.02, 0.03, 0.00, 0.15, 0.00, 0.04, 0.18, 0.03, 0.08, 0.12, 0.35],
    "ISCED 5-8": [0.08, 0.10, 0.12, 0.26, 0.08, 0.07, 0.10, 0.01, 0.10, 0.03, 0.05],
}
#: multiplier on field weights for women (men get the reciprocal)
FIELD_FEMALE_TILT = {"Education": 2.0, "Health and welfare": 2.0, "Arts and humanities": 1.4,
                     "Engineering": 0.35, "ICT": 0.4}

NACE = ["A", "C", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S"]
#: NACE section shares of employment, economy-wide (approximation)
NACE_BASE = [0.01, 0.05, 0.09, 0.11, 0.06, 0.05, 0.05, 0.11, 0.01, 0.09, 0.07, 0.08, 0.07, 0.11, 0.01, 0.03]
#: field-specific NACE sections (mixed with NACE_BASE by STRUCTURE["nace"]["field_weight"])
NACE_BY_FIELD = {
    "Education": {"P": 0.8, "O": 0.1, "Q": 0.1},
    "Arts and humanities": {"R": 0.3, "P": 0.25, "J": 0.2, "O": 0.15, "S": 0.1},
    "Social sciences": {"O": 0.35, "M": 0.25, "Q": 0.15, "K": 0.15, "P": 0.1},
    "Business and law": {"K": 0.45, "M": 0.3, "N": 0.1, "G": 0.1, "L": 0.05},
    "Natural sciences": {"M": 0.35, "C": 0.2, "Q": 0.2, "P": 0.15, "J": 0.1},
    "ICT": {"J": 0.7, "K": 0.2, "M": 0.1},
    "Engineering": {"F": 0.4, "C": 0.35, "M": 0.2, "H": 0.05},
    "Agriculture": {"A": 0.7, "C": 0.15, "G": 0.15},
    "Health and welfare": {"Q": 0.9, "O": 0.1},
    "Services": {"I": 0.4, "H": 0.2, "G": 0.2, "N": 0.1, "S": 0.1},
    "General": {"G": 0.25, "F": 0.15, "N": 0.15, "H": 0.15, "I": 0.15, "C": 0.15},
}

EMPLOYMENT_STATUSES = ["employee", "self-employed", "unemployed"]
CONTRACTS = ["permanent", "fixed-term"]

#: ISCO major groups of skill level 2, by sex (groups 4, 5, 6, 7, 8)
ISCO_SKILL2 = {"F": [0.30, 0.45, 0.01, 0.12, 0.05], "M": [0.15, 0.20, 0.03, 0.42, 0.20]}
