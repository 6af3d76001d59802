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
    """A code data/ACTORS.md allows: a state's alpha-3 code, an organisation's short name or "?".

    >>> [is_party_code(c) for c in ("RUS", "SCO", "?", "Russia")]
    [True, True, True, False]
    """
    return code in ORGANISATIONS or code == UNKNOWN or code in state_codes()


# Names pycountry does not give in the form texts use, and demonyms (pycountry has none).
# code -> extra names; matched case-sensitively as whole words.
STATE_ALIASES: dict[str, tuple[str, ...]] = {
    "RUS": ("Russia", "Russian", "Russians"), "USA": ("United States", "U.S.", "US", "America", "American", "Americans"),
    "CHN": ("China", "Chinese", "People's Republic of China", "PRC"), "GBR": ("United Kingdom", "UK", "Britain", "British"),
    "KGZ": ("Kyrgyzstan", "Kyrgyz", "Kyrgyz Republic"), "UZB": ("Uzbekistan", "Uzbek"), "KAZ": ("Kazakhstan", "Kazakh"),
    "TJK": ("Tajikistan", "Tajik"), "TKM": ("Turkmenistan", "Turkmen"), "MNG": ("Mongolia", "Mongolian"),
    "KOR": ("South Korea", "Republic of Korea", "Korean"), "PRK": ("North Korea", "DPRK", "Democratic People's Republic of Korea"),
    "IRN": ("Iran", "Iranian"), "SYR": ("Syria", "Syrian"), "VNM": ("Vietnam", "Viet Nam", "Vietnamese"),
    "LAO": ("Laos", "Lao"), "TUR": ("Turkey", "Türkiye", "Turkish"), "MDA": ("Moldova", "Moldovan"),
    "CZE": ("Czech Republic", "Czechia", "Czech"), "BOL": ("Bolivia", "Bolivian"), "VEN": ("Venezuela", "Venezuelan"),
    "TZA": ("Tanzania", "Tanzanian"), "PSE": ("Palestine", "State of Palestine", "Palestinian", "Palestinians"),
    "XKX": ("Kosovo",), "TWN": ("Taiwan", "Republic of China", "Republic of China on Taiwan"), "COD": ("Democratic Republic of the Congo", "DRC"), "COG": ("Republic of the Congo",),
    "CIV": ("Côte d'Ivoire", "Cote d'Ivoire", "Ivorian"), "FSM": ("Micronesia",), "BRN": ("Brunei",),
    "IND": ("Indian",), "JPN": ("Japanese",), "FRA": ("French",), "DEU": ("German",), "ITA": ("Italian",),
    "ESP": ("Spanish",), "UKR": ("Ukrainian",), "BLR": ("Belarusian", "Belarus"), "PAK": ("Pakistani",),
    "AFG": ("Afghan",), "IDN": ("Indonesian",), "MYS": ("Malaysian",), "THA": ("Thai",), "EGY": ("Egyptian",),
    "SAU": ("Saudi", "Saudi Arabian"), "ARE": ("UAE", "Emirati"), "ISR": ("Israeli",), "IRQ": ("Iraqi",),
    "BRA": ("Brazilian",), "MEX": ("Mexican",), "ARG": ("Argentine", "Argentinian"), "CUB": ("Cuban",),
    "POL": ("Polish",), "HUN": ("Hungarian",), "SRB": ("Serbian",), "GRC": ("Greek",), "CAN": ("Canadian",),
    "AUS": ("Australian",), "ZAF": ("South African",), "NGA": ("Nigerian",), "ETH": ("Ethiopian",), "KEN": ("Kenyan",),
    "ARM": ("Armenian",), "AZE": ("Azerbaijani",), "GEO": ("Georgian",), "CHL": ("Chilean",),
    "COL": ("Colombian",), "PER": ("Peruvian",), "NIC": ("Nicaraguan",), "PHL": ("Philippine", "Filipino"),
    "SGP": ("Singaporean",), "BGD": ("Bangladeshi",), "LKA": ("Sri Lankan",), "NPL": ("Nepalese", "Nepali"),
    "QAT": ("Qatari",), "KWT": ("Kuwaiti",), "OMN": ("Omani",), "JOR": ("Jordanian",), "LBN": ("Lebanese",),
    "DZA": ("Algerian",), "MAR": ("Moroccan",), "TUN": ("Tunisian",), "LBY": ("Libyan",), "SDN": ("Sudanese",),
    "YEM": ("Yemeni",), "NLD": ("Dutch", "Netherlands"), "SWE": ("Swedish",), "NOR": ("Norwegian",), "FIN": ("Finnish",),
    "DNK": ("Danish",), "AUT": ("Austrian",), "CHE": ("Swiss",), "BEL": ("Belgian",), "PRT": ("Portuguese",),
    "IRL": ("Irish",), "NZL": ("New Zealand",), "VAT": ("Holy See", "Vatican"), "GMB": ("Gambia",), "BHS": ("Bahamas",),
}
ORGANISATION_ALIASES: dict[str, tuple[str, ...]] = {
    "UN": ("United Nations", "UN", "U.N.", "UN Security Council", "Security Council", "General Assembly",
           "Secretary-General", "Secretary General", "Deputy Secretary-General", "UNDP", "UNICEF", "UNHCR", "UNESCO", "UNFCCC"),
    "EU": ("European Union", "EU"), "ASEAN": ("ASEAN",), "SCO": ("SCO", "Shanghai Cooperation Organization",
                                                                    "Shanghai Cooperation Organisation"),
    "BRICS": ("BRICS",), "NATO": ("NATO",), "AU": ("African Union",), "G7": ("G7", "G-7"), "G20": ("G20", "G-20"),
    "CSTO": ("CSTO", "Collective Security Treaty Organization"), "EAEU": ("EAEU", "Eurasian Economic Union", "EAEU's"),
    "CIS": ("CIS", "Commonwealth of Independent States"), "OSCE": ("OSCE",), "WHO": ("World Health Organization",),
    "IAEA": ("IAEA", "International Atomic Energy Agency"), "OIC": ("OIC", "Organisation of Islamic Cooperation",
                                                                     "Organization of Islamic Cooperation"),
    "GCC": ("GCC", "Gulf Cooperation Council"), "CARICOM": ("CARICOM", "Caribbean Community"), "ECOWAS": ("ECOWAS",),
    "SADC": ("SADC",), "LAS": ("League of Arab States", "Arab League"), "CELAC": ("CELAC",), "OAS": ("Organization of American States",),
    "PIF": ("Pacific Islands Forum",), "APEC": ("APEC",), "QUAD": ("Quad",), "AUKUS": ("AUKUS",),
    "IMF": ("IMF", "International Monetary Fund"), "WB": ("World Bank",), "WTO": ("WTO", "World Trade Organization"),
    "CICA": ("CICA",), "C5": ("C5+1", "C5"),
}


@lru_cache(maxsize=1)
def _mention_pattern():
    import re

    import pycountry

    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value and "," not in value:
                names[value] = c.alpha_3
    for table in (STATE_ALIASES, ORGANISATION_ALIASES):
        for code, aliases in table.items():
            for alias in aliases:
                names[alias] = code.rstrip("_")
    # longest first, so "South Korea" wins over "Korea"; possessive 's allowed after a name
    alternatives = sorted(names, key=len, reverse=True)
    regex = re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in alternatives) + r")(?:'s|’s)?(?![\w])")
    return regex, names


def find_parties(text: str) -> list[tuple[int, int, str]]:
    """Every mention of a state or organisation: (start, end, code), in text order. Names,
    official names and demonyms count ("Chinese President" names CHN); hyphenated compounds
    ("China-Kyrgyzstan") give one mention per part.

    >>> text = "Kyrgyz President backs China's position in the SCO"
    >>> [(text[s:e], c) for s, e, c in find_parties(text)]
    [('Kyrgyz', 'KGZ'), ("China's", 'CHN'), ('SCO', 'SCO')]
    """
    regex, names = _mention_pattern()
    return [(m.start(), m.end(), names[m.group(1)]) for m in regex.finditer(text)]


# Leaders and officials the corpus names without their state (surname -> party); a document
# also teaches its own ("Kyrgyz President Sadyr Japarov" -> Japarov: KGZ, models.actors).
LEADERS: dict[str, str] = {
    "Xi": "CHN", "Jinping": "CHN", "Li Qiang": "CHN", "Wang Yi": "CHN", "Putin": "RUS", "Lavrov": "RUS",
    "Medvedev": "RUS", "Mishustin": "RUS", "Biden": "USA", "Harris": "USA", "Blinken": "USA", "Trump": "USA",
    "Obama": "USA", "Japarov": "KGZ", "Zhaparov": "KGZ", "Zaparov": "KGZ", "Mirziyoyev": "UZB", "Tokayev": "KAZ",
    "Rahmon": "TJK", "Berdimuhamedov": "TKM", "Lukashenko": "BLR", "Modi": "IND", "Erdogan": "TUR",
    "Erdoğan": "TUR", "Guterres": "UN", "Zelensky": "UKR", "Zelenskyy": "UKR", "Kishida": "JPN", "Yoon": "KOR",
    "Lula": "BRA", "Macron": "FRA", "Scholz": "DEU", "Raisi": "IRN", "Aliyev": "AZE", "Pashinyan": "ARM",
    "Vucic": "SRB", "Vučić": "SRB", "Khurelsukh": "MNG", "Lee Hsien Loong": "SGP", "Nguyen Phu Trong": "VNM",
}
