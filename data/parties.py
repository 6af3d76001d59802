"""The parties a sentence can name as actor or target: states by ISO 3166-1 alpha-3 code
(pycountry's table) and international organisations by one fixed short name."""

from __future__ import annotations

from functools import lru_cache

# short name -> full name; the one list of organisation codes (data/ACTORS.md lists the same)
ORGANISATIONS: dict[str, str] = {
    "UN": "United Nations", "EU": "European Union", "ASEAN": "Association of Southeast Asian Nations",
    "SCO": "Shanghai Cooperation Organisation", "BRICS": "BRICS", "NATO": "North Atlantic Treaty Organization",
    "AU": "African Union", "G7": "Group of Seven", "G20": "Group of Twenty",
    "CSTO": "Collective Security Treaty Organization", "EAEU": "Eurasian Economic Union",
    "CIS": "Commonwealth of Independent States", "OSCE": "Organization for Security and Co-operation in Europe",
    "WHO": "World Health Organization", "IAEA": "International Atomic Energy Agency",
    "OIC": "Organisation of Islamic Cooperation", "GCC": "Gulf Cooperation Council", "CARICOM": "Caribbean Community",
    "ECOWAS": "Economic Community of West African States", "SADC": "Southern African Development Community",
    "LAS": "League of Arab States", "CELAC": "Community of Latin American and Caribbean States",
    "OAS": "Organization of American States", "PIF": "Pacific Islands Forum",
    "APEC": "Asia-Pacific Economic Cooperation", "QUAD": "Quadrilateral Security Dialogue", "AUKUS": "AUKUS",
    "IMF": "International Monetary Fund", "WB": "World Bank", "WTO": "World Trade Organization",
    "CICA": "Conference on Interaction and Confidence-Building Measures in Asia", "C5": "Central Asia + format",
}
UNKNOWN = "?"


@lru_cache(maxsize=1)
def state_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries) | {"XKX"}  # Kosovo: user-assigned, used by the UN corpus


def is_party_code(code: str) -> bool:
    """>>> [is_party_code(c) for c in ("RUS", "SCO", "?", "Russia")]
    [True, True, True, False]
    """
    return code in ORGANISATIONS or code == UNKNOWN or code in state_codes()
