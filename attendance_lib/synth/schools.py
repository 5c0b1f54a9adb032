"""The synthetic LA's schools: phases, localities, named attendance officers."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Localities and their attendance officers (Bradford's Persistent Absence Team model:
#: one officer per district locality). The names are invented.
OFFICERS: dict[str, str] = {
    "East": "Amina Hussain",
    "West": "Gareth Lloyd",
    "South": "Joanne Clarke",
    "Keighley and Shipley": "Imran Akhtar",
}
LOCALITIES: tuple[str, ...] = tuple(OFFICERS)

#: The synthetic LA's number (Bradford's, so the UPN check letters validate).
LA_NUMBER = 380

_PLACES = (
    "Aldermoor Ashgrove Beechcliffe Birkby Bramhope Brookfield Calderbank Carrbottom Cliffe "
    "Cottingley Denholme Eastbrook Elmfield Fairweather Fernhill Gledhow Greengates Hallfield "
    "Harden Hawkshead Heatonvale Highfield Hollingwood Idlethorpe Keelham Kirkstall Laisterdyke "
    "Lidget Longlands Lowmoor Manningham Marshfields Moorside Nab Wood Newby Oakworth Oldfield "
    "Parkland Priestthorpe Queensbury Ravenscliffe Riddlesden Rosebank St Luke's Saltaire "
    "Sandy Lane Scholemoor Shibden Southmere Stanbury Thackley Thornton Tong Park Undercliffe "
    "Wellington Westfield Wibsey Windhill Woodlands Wrose Wyke Yewbank"
).split(" ")
_PRIMARY_SUFFIX = (
    "Primary School",
    "Primary Academy",
    "Community Primary School",
    "Church of England Primary School",
    "Catholic Primary School",
)
_SECONDARY_SUFFIX = ("Academy", "High School", "Grammar School", "School")


def _phase_counts(n: int) -> dict[str, int]:
    """Mostly primary; about 11 in 60 secondary; 2-3 special; one alternative provision."""
    if n < 4:
        raise ValueError("the synthetic LA needs at least 4 schools")
    special = max(1, int(n * 2.5 / 60 + 0.5))
    secondary = max(1, int(n * 11 / 60 + 0.5))
    return {
        "alternative_provision": 1,
        "special": special,
        "secondary": secondary,
        "primary": n - 1 - special - secondary,
    }


def build_schools(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """schools.csv plus the generator's private columns (``_``-prefixed).

    Private columns: ``_estab`` (4-digit DfE establishment number), ``_size`` (relative
    roll), ``_dep`` (deprivation, raises FSM and absence), ``_effect`` (school absence
    effect on the logit scale), ``_nursery``, ``_sixth`` (has a nursery / sixth form),
    ``_poor_coding`` (leaves many absences as N), ``_offsite`` (uses B/K off-site codes).
    """
    counts = _phase_counts(n)
    phase = np.concatenate([[p] * k for p, k in counts.items()])
    # sort so that primaries come first, then secondaries, special, AP
    order = {"primary": 0, "secondary": 1, "special": 2, "alternative_provision": 3}
    phase = np.array(sorted(phase, key=order.__getitem__))
    locality = np.empty(n, dtype=object)
    for p in order:
        idx = np.flatnonzero(phase == p)
        locality[idx] = [
            LOCALITIES[(i + rng.integers(4)) % 4]
            if p in ("special", "alternative_provision")
            else LOCALITIES[i % 4]
            for i in range(len(idx))
        ]
    urn = np.sort(rng.choice(np.arange(107000, 149999), size=n, replace=False))
    estab = np.where(phase == "primary", 2000, np.where(phase == "secondary", 4000, 7000))
    estab = estab + rng.choice(np.arange(1, 999), size=n, replace=False)
    places = rng.permutation(_PLACES)
    names = []
    for i, p in enumerate(phase):
        place = places[i % len(places)]
        if p == "primary":
            names.append(f"{place} {_PRIMARY_SUFFIX[rng.integers(len(_PRIMARY_SUFFIX))]}")
        elif p == "secondary":
            names.append(f"{place} {_SECONDARY_SUFFIX[rng.integers(len(_SECONDARY_SUFFIX))]}")
        elif p == "special":
            names.append(f"{place} Special School")
        else:
            names.append(f"{place} Pupil Referral Unit")
    is_pri, is_sec = phase == "primary", phase == "secondary"
    dep = rng.normal(0, 1, n)
    df = pd.DataFrame(
        {
            "urn": urn,
            "school_name": names,
            "phase": phase,
            "locality": locality,
            "officer": [OFFICERS[loc] for loc in locality],
            "light_touch": rng.random(n) < 0.2,
            "_estab": estab,
            "_size": np.where(is_pri, rng.uniform(0.5, 1.6, n), rng.uniform(0.7, 1.4, n)),
            "_dep": dep,
            "_effect": 0.15 * dep + rng.normal(0, 0.12, n),
            "_nursery": is_pri & (rng.random(n) < 0.35),
            "_sixth": is_sec & (rng.random(n) < 0.5),
            "_poor_coding": (is_pri | is_sec) & (rng.random(n) < 0.12),
            "_offsite": is_sec & (rng.random(n) < 0.35),
        }
    )
    df.loc[df["phase"] == "alternative_provision", "light_touch"] = False
    if is_sec.any():  # at least one sixth form and one school using off-site codes
        df.loc[np.flatnonzero(is_sec)[0], ["_sixth", "_offsite"]] = True
    return df
