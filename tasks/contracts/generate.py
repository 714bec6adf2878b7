#!/usr/bin/env python3
"""Generate the synthetic `contracts` extraction task (standard library only).

Run from the repository root:

    python tasks/contracts/generate.py

It rewrites, byte-for-byte identically on every run,

    tasks/contracts/data/train.jsonl        (600 examples)
    tasks/contracts/data/validation.jsonl   (100 examples)
    tasks/contracts/data/test.jsonl         (150 examples)
    tasks/contracts/corpus/documents.jsonl  (RAG corpus)

Everything is fictional: parties, addresses, numbers and the "house"
jurisdiction codes are invented. See DATA_CARD.md for the field rules.
"""
from __future__ import annotations

import json
import os
import random
import re
from datetime import date

SEED = 4127
HERE = os.path.dirname(os.path.abspath(__file__))
SPLITS = (("train", 600), ("validation", 100), ("test", 150))
KEYS = ("parties", "contract_type", "effective_date", "governing_law", "term_months", "auto_renewal")
TYPES = ("nda", "msa", "lease", "employment", "license", "supply")

# ---------------------------------------------------------------------------
# Jurisdictions. `laws`: noun phrases used after "governed by"; `short`: forms used on
# cover pages ("Governing law: ..."); `courts`: forum wording (also used as a distractor
# for other jurisdictions' excerpts); `extra`: spellings that appear only in the corpus.
# tier: common / medium / rare (few train examples) / heldout (validation + test only).
# ---------------------------------------------------------------------------
J = [
    dict(key="new-york", name="New York", country="United States", region="us", code="LAW-NY-017", tier="common",
         laws=["the laws of the State of New York", "New York law", "the laws of New York",
               "the internal laws of the State of New York", "the law of the State of New York"],
         short=["New York", "State of New York", "New York law"],
         courts=["the state and federal courts located in New York County, New York",
                 "the courts of the State of New York sitting in the Borough of Manhattan"],
         extra=["the substantive law of New York State", "N.Y. law"],
         note="Do not confuse the State of New York with New York City ordinances; a party's New York office address does not select New York law."),
    dict(key="delaware", name="Delaware", country="United States", region="us", code="LAW-DE-342", tier="common",
         laws=["the laws of the State of Delaware", "Delaware law", "the laws of Delaware",
               "the internal laws of the State of Delaware"],
         short=["Delaware", "State of Delaware", "Delaware law"],
         courts=["the Court of Chancery of the State of Delaware",
                 "the state or federal courts located in Wilmington, Delaware"],
         extra=["the law of the State of Delaware (U.S.A.)", "Del. law"],
         note="Many parties are described as 'a Delaware corporation' or 'a Delaware limited liability company'. That describes where the party is organised, not the governing law; only a governing-law clause counts."),
    dict(key="california", name="California", country="United States", region="us", code="LAW-CA-205", tier="common",
         laws=["the laws of the State of California", "California law", "the laws of California"],
         short=["California", "State of California", "California law"],
         courts=["the state and federal courts in Santa Clara County, California",
                 "the courts located in San Francisco, California"],
         extra=["the substantive laws of the State of California", "Cal. law"],
         note="California-based parties are common in the excerpts; an address in California is not a choice of California law."),
    dict(key="england-and-wales", name="England and Wales", country="United Kingdom", region="uk", code="LAW-EW-118", tier="common",
         laws=["the laws of England and Wales", "English law", "the law of England and Wales", "the laws of England"],
         short=["England and Wales", "England & Wales", "English law"],
         courts=["the courts of England and Wales", "the English courts"],
         extra=["the law of England", "the laws of England & Wales"],
         note="England and Wales is one legal system with one code. Scotland is a separate jurisdiction with its own code (see jur-scotland); 'UK law' or 'British law' is not used in the excerpts."),
    dict(key="texas", name="Texas", country="United States", region="us", code="LAW-TX-561", tier="common",
         laws=["the laws of the State of Texas", "Texas law", "the laws of Texas"],
         short=["Texas", "State of Texas", "Texas law"],
         courts=["the state and federal courts of Travis County, Texas", "the courts located in Harris County, Texas"],
         extra=["the substantive law of the State of Texas"],
         note="Texas clauses often add 'without regard to conflict of laws principles'; the code is the same."),
    dict(key="illinois", name="Illinois", country="United States", region="us", code="LAW-IL-073", tier="medium",
         laws=["the laws of the State of Illinois", "Illinois law", "the internal laws of Illinois"],
         short=["Illinois", "State of Illinois"],
         courts=["the state and federal courts located in Cook County, Illinois"],
         extra=["the laws of Illinois"],
         note="Chicago addresses are common for Illinois parties; the address alone selects nothing."),
    dict(key="massachusetts", name="Massachusetts", country="United States", region="us", code="LAW-MA-436", tier="medium",
         laws=["the laws of the Commonwealth of Massachusetts", "Massachusetts law", "the laws of Massachusetts"],
         short=["Massachusetts", "Commonwealth of Massachusetts"],
         courts=["the state and federal courts sitting in Suffolk County, Massachusetts"],
         extra=["the internal laws of the Commonwealth of Massachusetts"],
         note="Massachusetts is a 'Commonwealth', not a 'State', in formal wording; both spellings map to this code."),
    dict(key="washington", name="Washington (State)", country="United States", region="us", code="LAW-WA-289", tier="medium",
         laws=["the laws of the State of Washington", "Washington State law", "the laws of Washington State"],
         short=["Washington State", "State of Washington"],
         courts=["the state and federal courts located in King County, Washington"],
         extra=["the laws of the State of Washington, U.S.A."],
         note="This is the US state (Seattle, King County), not Washington, D.C.; the District of Columbia is not in the code table."),
    dict(key="florida", name="Florida", country="United States", region="us", code="LAW-FL-152", tier="medium",
         laws=["the laws of the State of Florida", "Florida law", "the laws of Florida"],
         short=["Florida", "State of Florida"],
         courts=["the state and federal courts located in Miami-Dade County, Florida"],
         extra=["the substantive laws of Florida"],
         note="Florida leases and employment agreements are frequent in the excerpts."),
    dict(key="georgia", name="Georgia (US State)", country="United States", region="us", code="LAW-GA-804", tier="medium",
         laws=["the laws of the State of Georgia", "Georgia law", "the laws of the State of Georgia, USA"],
         short=["Georgia (USA)", "State of Georgia"],
         courts=["the state and federal courts located in Fulton County, Georgia"],
         extra=["the laws of Georgia, United States of America"],
         note="The US state of Georgia (Atlanta, Fulton County). The country Georgia does not occur in the excerpts."),
    dict(key="colorado", name="Colorado", country="United States", region="us", code="LAW-CO-627", tier="medium",
         laws=["the laws of the State of Colorado", "Colorado law", "the laws of Colorado"],
         short=["Colorado", "State of Colorado"],
         courts=["the state and federal courts located in Denver, Colorado"],
         extra=["the internal laws of the State of Colorado"],
         note="Denver and Boulder addresses are common for Colorado parties."),
    dict(key="ontario", name="Ontario", country="Canada", region="ca", code="LAW-ON-390", tier="medium",
         laws=["the laws of the Province of Ontario and the federal laws of Canada applicable therein", "Ontario law",
               "the laws of Ontario"],
         short=["Ontario", "Province of Ontario", "Ontario, Canada"],
         courts=["the courts of the Province of Ontario sitting in Toronto"],
         extra=["the laws of the Province of Ontario"],
         note="Canadian law is provincial: Ontario and British Columbia have different codes. 'The federal laws of Canada applicable therein' does not change the code."),
    dict(key="germany", name="Germany", country="Germany", region="de", code="LAW-BD-233", tier="medium",
         laws=["the laws of the Federal Republic of Germany", "German law", "the laws of Germany"],
         short=["Germany", "German law", "Federal Republic of Germany"],
         courts=["the courts of Munich, Germany", "the competent courts in Frankfurt am Main"],
         extra=["the substantive law of the Federal Republic of Germany", "deutsches Recht"],
         note="The code letters are BD (Bundesrepublik Deutschland), not DE, which is Delaware. Clauses often exclude the UN Convention on Contracts for the International Sale of Goods (CISG); the exclusion does not change the code."),
    dict(key="singapore", name="Singapore", country="Singapore", region="sg", code="LAW-SG-951", tier="medium",
         laws=["the laws of Singapore", "Singapore law", "the laws of the Republic of Singapore"],
         short=["Singapore", "Republic of Singapore"],
         courts=["the courts of Singapore"],
         extra=["the law of the Republic of Singapore"],
         note="Arbitration seated in Singapore (for example under SIAC rules) is a forum choice, not a choice of Singapore law."),
    dict(key="ireland", name="Ireland", country="Ireland", region="ie", code="LAW-IE-046", tier="medium",
         laws=["the laws of Ireland", "Irish law", "the laws of the Republic of Ireland"],
         short=["Ireland", "Irish law"],
         courts=["the courts of Ireland", "the Irish courts"],
         extra=["the law of Ireland"],
         note="Ireland means the Republic of Ireland. Northern Ireland does not occur in the excerpts."),
    dict(key="netherlands", name="The Netherlands", country="Netherlands", region="nl", code="LAW-NL-718", tier="medium",
         laws=["the laws of the Netherlands", "Dutch law", "the laws of the Kingdom of the Netherlands"],
         short=["The Netherlands", "Dutch law", "Netherlands"],
         courts=["the competent court in Amsterdam"],
         extra=["Netherlands law", "the law of the Netherlands"],
         note="Dutch law and Netherlands law are the same system."),
    dict(key="france", name="France", country="France", region="fr", code="LAW-FR-564", tier="medium",
         laws=["the laws of France", "French law", "the laws of the French Republic"],
         short=["France", "French law"],
         courts=["the Commercial Court of Paris (Tribunal de commerce de Paris)"],
         extra=["le droit français", "the law of France"],
         note="French clauses may name the Paris commercial court; the forum does not change the code."),
    dict(key="new-south-wales", name="New South Wales", country="Australia", region="au", code="LAW-NW-127", tier="medium",
         laws=["the laws of New South Wales", "the law in force in New South Wales", "New South Wales law",
               "the laws of the State of New South Wales, Australia"],
         short=["New South Wales", "NSW", "New South Wales, Australia"],
         courts=["the courts of New South Wales and courts of appeal from them"],
         extra=["the laws in force in NSW", "NSW law"],
         note="Australian law is chosen state by state: New South Wales and Victoria have different codes. The abbreviation NSW appears on some cover pages."),
    dict(key="scotland", name="Scotland", country="United Kingdom", region="uk", code="LAW-SC-882", tier="rare",
         laws=["the law of Scotland", "Scots law", "the laws of Scotland"],
         short=["Scotland", "Scots law"],
         courts=["the Scottish courts", "the Court of Session in Edinburgh"],
         extra=["Scottish law"],
         note="Scotland is a separate legal system from England and Wales and has its own code. A company 'registered in Scotland' is not a choice of Scots law."),
    dict(key="virginia", name="Virginia", country="United States", region="us", code="LAW-VA-309", tier="rare",
         laws=["the laws of the Commonwealth of Virginia", "Virginia law", "the laws of Virginia"],
         short=["Virginia", "Commonwealth of Virginia"],
         courts=["the state and federal courts located in Fairfax County, Virginia"],
         extra=["the internal laws of the Commonwealth of Virginia"],
         note="Virginia is a 'Commonwealth'. West Virginia is a different state and is not in the code table."),
    dict(key="british-columbia", name="British Columbia", country="Canada", region="ca", code="LAW-BC-475", tier="rare",
         laws=["the laws of the Province of British Columbia", "British Columbia law",
               "the laws of British Columbia and the federal laws of Canada applicable therein"],
         short=["British Columbia", "Province of British Columbia", "B.C."],
         courts=["the courts of British Columbia sitting in Vancouver"],
         extra=["B.C. law", "the laws of the Province of B.C."],
         note="A Canadian province with its own code, distinct from Ontario."),
    dict(key="victoria", name="Victoria (Australia)", country="Australia", region="au", code="LAW-VC-660", tier="rare",
         laws=["the laws of Victoria, Australia", "the laws in force in the State of Victoria", "Victorian law"],
         short=["Victoria, Australia", "State of Victoria"],
         courts=["the courts of Victoria, Australia"],
         extra=["the law of the State of Victoria"],
         note="The Australian state (Melbourne), distinct from New South Wales. 'Victoria' as a street or building name is not a jurisdiction."),
    dict(key="switzerland", name="Switzerland", country="Switzerland", region="ch", code="LAW-CH-197", tier="rare",
         laws=["Swiss law", "the substantive laws of Switzerland", "the laws of Switzerland"],
         short=["Switzerland", "Swiss law"],
         courts=["the ordinary courts of the City of Zurich"],
         extra=["the substantive law of the Swiss Confederation"],
         note="Swiss clauses often exclude the Vienna Sales Convention (CISG) and name Zurich or Geneva courts; the code is the same."),
    dict(key="hong-kong", name="Hong Kong", country="Hong Kong SAR", region="hk", code="LAW-HK-743", tier="rare",
         laws=["the laws of the Hong Kong Special Administrative Region", "Hong Kong law", "the laws of Hong Kong"],
         short=["Hong Kong", "Hong Kong SAR"],
         courts=["the courts of the Hong Kong Special Administrative Region"],
         extra=["the laws of the HKSAR"],
         note="Hong Kong has its own common-law system and code; it is not mapped to any mainland code."),
    dict(key="pennsylvania", name="Pennsylvania", country="United States", region="us", code="LAW-PA-518", tier="rare",
         laws=["the laws of the Commonwealth of Pennsylvania", "Pennsylvania law", "the laws of Pennsylvania"],
         short=["Pennsylvania", "Commonwealth of Pennsylvania"],
         courts=["the state and federal courts located in Philadelphia County, Pennsylvania"],
         extra=["the internal laws of the Commonwealth of Pennsylvania"],
         note="A 'Commonwealth' in formal wording, like Massachusetts and Virginia."),
    dict(key="new-jersey", name="New Jersey", country="United States", region="us", code="LAW-NJ-036", tier="rare",
         laws=["the laws of the State of New Jersey", "New Jersey law", "the laws of New Jersey"],
         short=["New Jersey", "State of New Jersey"],
         courts=["the state and federal courts located in Essex County, New Jersey"],
         extra=["N.J. law"],
         note="Not to be confused with New York; the two codes are unrelated."),
    dict(key="sweden", name="Sweden", country="Sweden", region="se", code="LAW-SE-904", tier="heldout",
         laws=["the laws of Sweden", "Swedish law", "the substantive law of Sweden"],
         short=["Sweden", "Swedish law"],
         courts=["the Stockholm District Court (Stockholms tingsrätt)"],
         extra=["the laws of the Kingdom of Sweden", "svensk rätt"],
         note="Swedish clauses sometimes choose arbitration under the SCC Rules in Stockholm; the forum does not change the code."),
    dict(key="new-zealand", name="New Zealand", country="New Zealand", region="nz", code="LAW-NZ-271", tier="heldout",
         laws=["the laws of New Zealand", "New Zealand law", "the law of New Zealand"],
         short=["New Zealand", "NZ law"],
         courts=["the courts of New Zealand"],
         extra=["NZ law", "the laws in force in New Zealand"],
         note="New Zealand is a separate country with its own code; it is not part of any Australian state."),
    dict(key="luxembourg", name="Luxembourg", country="Luxembourg", region="lu", code="LAW-LU-613", tier="heldout",
         laws=["the laws of the Grand Duchy of Luxembourg", "Luxembourg law", "the laws of Luxembourg"],
         short=["Luxembourg", "Grand Duchy of Luxembourg"],
         courts=["the courts of the City of Luxembourg"],
         extra=["Luxembourgish law", "the law of the Grand Duchy of Luxembourg"],
         note="Luxembourg-incorporated holding companies (S.A., S.à r.l.) are common; only the governing-law clause counts."),
    dict(key="north-carolina", name="North Carolina", country="United States", region="us", code="LAW-NC-158", tier="heldout",
         laws=["the laws of the State of North Carolina", "North Carolina law", "the laws of North Carolina"],
         short=["North Carolina", "State of North Carolina"],
         courts=["the state and federal courts located in Mecklenburg County, North Carolina"],
         extra=["the internal laws of the State of North Carolina", "N.C. law"],
         note="Distinct from South Carolina, which is not in the code table."),
]
JBYKEY = {j["key"]: j for j in J}

# Exact per-split counts of governing-law values (None = no governing-law clause).
COUNTS = {
    "train": {"new-york": 80, "delaware": 62, "england-and-wales": 70, "california": 55, "texas": 40,
              "illinois": 18, "massachusetts": 16, "washington": 15, "florida": 15, "georgia": 12,
              "colorado": 12, "ontario": 20, "germany": 18, "singapore": 18, "ireland": 14,
              "netherlands": 14, "france": 12, "new-south-wales": 14,
              "scotland": 3, "virginia": 2, "british-columbia": 3, "victoria": 2, "switzerland": 2,
              "hong-kong": 3, "pennsylvania": 2, "new-jersey": 2, None: 76},
    "validation": {"new-york": 13, "delaware": 10, "england-and-wales": 11, "california": 8, "texas": 6,
                   "illinois": 2, "massachusetts": 2, "washington": 2, "florida": 2, "georgia": 2,
                   "colorado": 1, "ontario": 3, "germany": 3, "singapore": 3, "ireland": 2,
                   "netherlands": 2, "france": 2, "new-south-wales": 2,
                   "scotland": 1, "british-columbia": 1, "switzerland": 1,
                   "sweden": 2, "new-zealand": 2, "luxembourg": 2, "north-carolina": 2, None: 13},
    "test": {"new-york": 19, "delaware": 14, "england-and-wales": 16, "california": 13, "texas": 8,
             "illinois": 3, "massachusetts": 3, "washington": 3, "florida": 3, "georgia": 3,
             "colorado": 2, "ontario": 4, "germany": 4, "singapore": 4, "ireland": 3,
             "netherlands": 3, "france": 3, "new-south-wales": 3,
             "scotland": 1, "virginia": 1, "victoria": 1, "hong-kong": 1, "pennsylvania": 1, "new-jersey": 1,
             "sweden": 3, "new-zealand": 3, "luxembourg": 3, "north-carolina": 3, None: 21},
}
TYPE_SHARE = {"nda": 0.18, "msa": 0.19, "lease": 0.16, "employment": 0.15, "license": 0.16, "supply": 0.16}

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORD = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
       9: "ninth", 10: "tenth", 15: "fifteenth", 20: "twentieth"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
MON_ABBR = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."]


def words(n: int) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return TENS[t] + ("-" + ONES[o] if o else "")
    if n < 1000:
        h, r = divmod(n, 100)
        return ONES[h] + " hundred" + (" and " + words(r) if r else "")
    raise ValueError(n)


def day_ord(d: int) -> str:
    if 11 <= d % 100 <= 13:
        return f"{d}th"
    return f"{d}" + {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")


def num(rng, n: int, unit: str | None = None, cap: bool = False) -> str:
    """'thirty (30) days' / 'thirty days' / '30 days'."""
    style = rng.random()
    if style < 0.45:
        s = f"{words(n)} ({n})"
    elif style < 0.75:
        s = words(n)
    else:
        s = str(n)
    if cap:
        s = s[0].upper() + s[1:]
    if unit:
        s += " " + (unit if n != 1 else unit.rstrip("s"))
    return s


def notice(rng, n: int) -> str:
    """'thirty (30) days' written notice'."""
    return num(rng, n, "days") + "'" + rng.choice([" written notice", " prior written notice", " notice in writing", " notice"])


def money(cur: str, amount: int) -> str:
    amount = int(amount * {"SEK": 10, "HK$": 8, "S$": 1.3, "A$": 1.5, "C$": 1.3, "NZ$": 1.6}.get(cur, 1))
    if amount > 1000:
        amount = round(amount, -1 if amount < 10000 else -2)
    sep = f"{amount:,}"
    if cur in ("CHF", "SEK", "EUR-de"):
        return ("EUR " if cur == "EUR-de" else cur + " ") + sep.replace(",", "'" if cur == "CHF" else " ")
    return cur + sep


def fmt_date(rng, d: date, style: str) -> str:
    m = MONTHS[d.month - 1]
    if style == "us":
        return f"{m} {d.day}, {d.year}"
    if style == "uk":
        return f"{d.day} {m} {d.year}"
    if style == "ord_day":
        return f"the {day_ord(d.day)} day of {m}, {d.year}" if rng.random() < 0.6 else f"the {day_ord(d.day)} day of {m} {d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "us_num":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == "eu_num":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "de_num":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "first":
        return f"the first day of {m} {d.year}" if rng.random() < 0.5 else f"the first day of {m}, {d.year}"
    if style == "abbr_us":
        return f"{MON_ABBR[d.month - 1]} {d.day}, {d.year}"
    if style == "abbr_uk":
        return f"{d.day} {MON_ABBR[d.month - 1].rstrip('.')} {d.year}"
    if style == "ord_us":
        return f"{m} {day_ord(d.day)}, {d.year}"
    if style == "ord_uk":
        return f"{day_ord(d.day)} {m} {d.year}"
    raise ValueError(style)


def pick_date(rng, region: str, lo=2016, hi=2026):
    """Return (date, rendered) with a format that is never ambiguous."""
    y = rng.randint(lo, hi)
    mo = rng.randint(1, 12)
    d = rng.randint(1, 28)
    if region == "us":
        styles = ["us", "us", "us", "ord_day", "iso", "us_num", "abbr_us", "ord_us", "first"]
    elif region == "de" or region == "ch" or region == "lu":
        styles = ["uk", "uk", "de_num", "iso", "ord_uk", "first", "ord_day"]
    else:
        styles = ["uk", "uk", "uk", "ord_day", "iso", "eu_num", "abbr_uk", "ord_uk", "first", "us"]
    st = rng.choice(styles)
    if st in ("us_num", "eu_num", "de_num"):
        d = rng.randint(13, 28)
    if st == "first":
        d = 1
    dt = date(y, mo, d)
    return dt, fmt_date(rng, dt, st)


def fmt_any(rng, dt: date, region: str) -> str:
    if region == "us":
        styles = ["us", "us", "ord_day", "iso", "us_num", "abbr_us", "ord_us"]
    elif region in ("de", "ch", "lu"):
        styles = ["uk", "uk", "de_num", "iso", "ord_uk"]
    else:
        styles = ["uk", "uk", "ord_day", "iso", "eu_num", "abbr_uk", "ord_uk", "us"]
    st = rng.choice(styles)
    if st in ("us_num", "eu_num", "de_num") and dt.day <= 12:
        st = "iso"
    return fmt_date(rng, dt, st)


def rel_date(rng, c, kind):
    """A distractor date relative to the effective date (or to a hidden base date)."""
    base = c.date or c.base_date
    o = date.fromordinal
    for _ in range(20):
        if kind == "before":
            dt = o(base.toordinal() - rng.randint(20, 900))
        elif kind == "after":
            dt = o(base.toordinal() + rng.randint(30, 800))
        elif kind == "review":
            dt = o(base.toordinal() + 365 * rng.choice([1, 2, 3]) + rng.randint(-3, 3))
        else:  # near: signatures
            dt = o(base.toordinal() + rng.randint(-25, 6))
        if dt != c.date:
            return dt, fmt_any(rng, dt, c.date_region)
    raise RuntimeError


def cap1(s: str) -> str:
    return s[0].upper() + s[1:] if s else s


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
FIRST = ["Amara", "Jonas", "Priya", "Mateo", "Sofia", "Liam", "Chiara", "Kwame", "Yuki", "Elena", "Tomasz",
         "Fatima", "Oliver", "Ingrid", "Rahul", "Chloe", "Diego", "Hannah", "Ahmed", "Mei", "Lucas", "Aoife",
         "Nikolai", "Zara", "Samuel", "Leila", "Finn", "Valentina", "Kenji", "Grace", "Olumide", "Sienna",
         "Hugo", "Anika", "Marcus", "Isabel", "Tariq", "Freya", "Daniel", "Noor", "Pablo", "Astrid", "Ravi",
         "Emma", "Jae-won", "Lena", "Callum", "Beatriz", "Ibrahim", "Ruth", "Stefan", "Ama", "Connor", "Mariam",
         "Andrés", "Helga", "Vikram", "Siobhan", "Thabo", "Camille", "Ewan", "Nadia", "Rory", "Keiko", "Joaquín",
         "Maeve", "Dmitri", "Ayesha", "Tobias", "Lucía", "Gareth", "Hye-jin", "Bram", "Carmen", "Declan",
         "Esther", "Femi", "Greta", "Henrik", "Imogen", "Jamal", "Katarzyna", "Leon", "Magnus", "Nia", "Orla",
         "Pieter", "Quinn", "Rosa", "Sven", "Tamsin", "Uma", "Wei", "Xavier", "Yasmin", "Zoltan"]
LAST = ["Okafor", "Lindqvist", "Raman", "Alvarez", "Moreau", "Brennan", "Rossi", "Mensah", "Tanaka", "Petrova",
        "Kowalski", "Haddad", "Whitfield", "Solberg", "Iyer", "Dubois", "Castillo", "Becker", "Farouk", "Chen",
        "Silva", "Ní Bhriain", "Volkov", "Hussain", "Adeyemi", "Karimi", "O'Sullivan", "Romano", "Watanabe",
        "Fairbairn", "Nwosu", "Hartley", "Laurent", "Sharma", "Delgado", "Novak", "Abernethy", "MacLeod",
        "van der Berg", "Kapoor", "Oyelaran", "Schulz", "Marchetti", "Lindgren", "Park", "Esposito", "Dunmore",
        "Ferreira", "Gallagher", "Holmberg", "Jovanović", "Khumalo", "Larsen", "Mbeki", "Nakamura", "Osei",
        "Pellegrini", "Quigley", "Rahman", "Sørensen", "Thornton", "Urquhart", "Vasquez", "Wójcik", "Yildiz",
        "Zimmermann", "Achterberg", "Bianchi", "Cárdenas", "Devlin", "Ekström", "Fitzgerald", "Gonzaga",
        "Hirano", "Ivanova", "Jefferson", "Kaur", "Lemaire", "Molina", "Nakashima", "Oduya", "Prescott",
        "Quintero", "Rasmussen", "Saito", "Trevelyan", "Underhill", "Varga", "Whitlock", "Xu", "Yamamoto"]
WORD_A = ["Northwind", "Bluepeak", "Ironbridge", "Silverline", "Redwood", "Harbor", "Kestrel", "Meridian",
          "Copperleaf", "Brightwater", "Oakhurst", "Granite", "Lumen", "Vantage", "Cobalt", "Tidewater", "Summit",
          "Juniper", "Falcon", "Crescent", "Evergreen", "Pinecrest", "Stonegate", "Halcyon", "Aurora", "Atlas",
          "Beacon", "Cedar", "Driftwood", "Foxglove", "Glenmore", "Hollow Creek", "Kingsley", "Larkspur", "Marlow",
          "Nimbus", "Orchard", "Pembroke", "Quarry", "Riverside", "Saffron", "Thornbury", "Valemont", "Westbrook",
          "Yarrow", "Zephyr", "Alder", "Bramble", "Calder", "Ellery", "Fairhaven", "Greyfield", "Hawthorne",
          "Linden", "Moorgate", "Otterburn", "Rowan", "Sable", "Tamarind", "Upland", "Verity", "Wexford",
          "Ashgrove", "Birchwood", "Clearview", "Eastgate", "Fernhill", "Goldcrest", "Highmoor", "Blackthorn",
          "Seven Oaks", "Red Kite", "Blue Heron", "North Star", "Old Mill", "Lakeshore", "Copper Canyon",
          "Harrow", "Ember", "Polaris", "Sundial", "Keystone", "Monarch", "Osprey", "Pioneer", "Sextant"]
SYL1 = ["Ve", "Lo", "Tri", "Ka", "Zen", "Or", "Mi", "Ar", "No", "Su", "Da", "Pel", "Cor", "Lum", "Syn", "Tal",
        "Vir", "Xe", "Qua", "Bri", "Fen", "Gal", "Hel", "Ito", "Jun", "Kor", "Mer", "Nex", "Ost", "Pra"]
SYL2 = ["tra", "via", "nex", "lio", "mora", "cast", "vex", "rion", "tek", "ora", "lyn", "dia", "gen", "sys",
        "nova", "lux", "quent", "mar", "vant", "zio", "bel", "dex", "ris", "tova"]
INDUSTRY = ["Analytics", "Logistics", "Software", "Systems", "Holdings", "Partners", "Labs", "Manufacturing",
            "Foods", "Biotech", "Pharmaceuticals", "Robotics", "Energy", "Capital", "Media", "Health",
            "Textiles", "Components", "Solutions", "Technologies", "Consulting", "Networks", "Packaging",
            "Materials", "Studios", "Brands", "Retail", "Ventures", "Industries", "Medical", "Data", "Security",
            "Engineering", "Interiors", "Beverages", "Apparel", "Devices", "Instruments", "Marine", "Agritech",
            "Publishing", "Semiconductors", "Diagnostics", "Furniture", "Composites", "Cloud", "Games",
            "Hospitality", "Aerospace", "Optics"]
PROPERTY = ["Properties", "Estates", "Realty", "Property Holdings", "Real Estate", "Land Company", "Developments",
            "Commercial Property", "Investments"]
SUFFIX = {
    "us": ["Inc.", ", Inc.", "LLC", "LLC", ", LLC", "Corp.", "Corporation", "Co.", "L.P.", "Incorporated", "L.L.C."],
    "uk": ["Ltd", "Limited", "Limited", "plc", "LLP", "Ltd."],
    "ca": ["Inc.", "Ltd.", "Corp.", "Limited"],
    "de": ["GmbH", "GmbH", "AG", "GmbH & Co. KG", "SE"],
    "fr": ["S.A.", "SAS", "S.A.R.L.", "SA"],
    "nl": ["B.V.", "B.V.", "N.V."],
    "sg": ["Pte. Ltd.", "Pte Ltd", "Private Limited"],
    "au": ["Pty Ltd", "Pty Ltd", "Pty. Limited", "Limited"],
    "ie": ["Limited", "Designated Activity Company", "DAC", "Ltd"],
    "ch": ["AG", "SA", "GmbH", "Sàrl"],
    "hk": ["Limited", "Company Limited", "(Hong Kong) Limited"],
    "se": ["AB", "AB (publ)"],
    "nz": ["Limited", "Ltd"],
    "lu": ["S.A.", "S.à r.l.", "SCA"],
}
REGION_DESC = {
    "us": ["{a_st} corporation", "{a_st} limited liability company", "{a_st} corporation", "{a_st} limited partnership",
           "a corporation organized under the laws of the State of {st}"],
    "uk": ["a company incorporated in England and Wales with company number {crn}",
           "a company registered in England and Wales (No. {crn})",
           "a company registered in Scotland under number SC{crn6}",
           "a private limited company incorporated in England (company no. {crn})"],
    "ca": ["a corporation incorporated under the laws of the Province of {prov}", "{a_prov} corporation",
           "a corporation amalgamated under the laws of {prov}"],
    "de": ["a limited liability company registered with the commercial register of the local court of {city} under HRB {hrb}",
           "a company organised under German law with its seat in {city}"],
    "fr": ["a société par actions simplifiée registered with the RCS of {city} under number {siren}",
           "a French company with its registered office in {city}"],
    "nl": ["a private limited liability company incorporated under Dutch law, having its seat in {city}",
           "a company registered with the Dutch Chamber of Commerce under number {kvk}"],
    "sg": ["a company incorporated in Singapore (UEN {uen})", "a Singapore private company limited by shares"],
    "au": ["ABN {abn}", "a company registered in {aust} (ACN {acn})"],
    "ie": ["a company incorporated in Ireland with registered number {cro}", "an Irish private company limited by shares"],
    "ch": ["a stock corporation organised under Swiss law with its seat in {city}", "a Swiss company registered in {city}"],
    "hk": ["a company incorporated in Hong Kong (CR No. {crn})"],
    "se": ["a Swedish limited liability company with corporate identity number 556{crn6}"],
    "nz": ["a New Zealand company (company number {crn})"],
    "lu": ["a société anonyme incorporated under the laws of Luxembourg, registered with the RCS under number B{hrb}",
           "a Luxembourg private limited liability company"],
}
US_STATES = ["Delaware", "Delaware", "Delaware", "New York", "California", "Texas", "Nevada", "Washington",
             "Massachusetts", "Illinois", "Colorado", "Florida", "Georgia", "Oregon", "Ohio", "Minnesota"]
CITIES = {
    "us": ["San Francisco, California", "Austin, Texas", "Chicago, Illinois", "Boston, Massachusetts",
           "Seattle, Washington", "Denver, Colorado", "Atlanta, Georgia", "Miami, Florida", "New York, New York",
           "Wilmington, Delaware", "Portland, Oregon", "Columbus, Ohio", "Minneapolis, Minnesota",
           "Raleigh, North Carolina", "Philadelphia, Pennsylvania", "Jersey City, New Jersey", "Richmond, Virginia"],
    "uk": ["London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Glasgow", "Cardiff", "Birmingham",
           "Cambridge", "Aberdeen"],
    "ca": ["Toronto, Ontario", "Ottawa, Ontario", "Vancouver, British Columbia", "Victoria, British Columbia"],
    "de": ["Munich", "Hamburg", "Berlin", "Stuttgart", "Cologne", "Frankfurt am Main", "Düsseldorf"],
    "fr": ["Paris", "Lyon", "Toulouse", "Nantes", "Lille"],
    "nl": ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"],
    "sg": ["Singapore"],
    "au": ["Sydney, New South Wales", "Melbourne, Victoria", "Parramatta, New South Wales", "Geelong, Victoria"],
    "ie": ["Dublin", "Cork", "Galway"],
    "ch": ["Zurich", "Geneva", "Basel", "Zug"],
    "hk": ["Hong Kong"],
    "se": ["Stockholm", "Gothenburg", "Malmö"],
    "nz": ["Auckland", "Wellington", "Christchurch"],
    "lu": ["Luxembourg"],
}
STREETS = ["Market Street", "King Street", "Harbour Road", "Elm Avenue", "Station Road", "Queen's Parade",
           "Industrial Way", "Mill Lane", "Park Avenue", "Bridge Street", "Canal Side", "Commerce Drive",
           "Riverside Walk", "Orchard Road", "Victoria Street", "Church Road", "Lakeview Boulevard", "High Street",
           "Cannery Row", "Foundry Lane", "Wharf Street", "Maple Drive", "Cedar Court", "Granary Yard"]
CURRENCY = {"us": "$", "uk": "£", "ca": "C$", "de": "EUR-de", "fr": "€", "nl": "€", "sg": "S$", "au": "A$",
            "ie": "€", "ch": "CHF", "hk": "HK$", "se": "SEK", "nz": "NZ$", "lu": "€"}
UK_SPELLING = {"uk", "ie", "au", "nz", "sg", "hk"}


def rand_digits(rng, n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


class Namer:
    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def _core(self, kind="any"):
        r = self.rng
        x = r.random()
        if kind == "property":
            base = r.choice([r.choice(WORD_A), r.choice(LAST), r.choice(SYL1) + r.choice(SYL2)])
            return f"{base} {r.choice(PROPERTY)}"
        if x < 0.42:
            return f"{r.choice(WORD_A)} {r.choice(INDUSTRY)}"
        if x < 0.62:
            return f"{r.choice(SYL1)}{r.choice(SYL2)} {r.choice(INDUSTRY)}"
        if x < 0.72:
            return f"{r.choice(SYL1)}{r.choice(SYL2)}"
        if x < 0.82:
            a, b = r.sample(LAST, 2)
            return f"{a} & {b}" if r.random() < 0.7 else f"{a}, {b} & {r.choice(LAST)}"
        if x < 0.90:
            return f"{r.choice(LAST)} {r.choice(INDUSTRY)}"
        acro = "".join(r.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(r.choice([2, 3, 3, 4])))
        return f"{acro} {r.choice(INDUSTRY)}"

    def company(self, region, kind="any"):
        r = self.rng
        for _ in range(100):
            core = self._core(kind)
            if region == "de" and r.random() < 0.3:
                core = r.choice([f"{r.choice(LAST)} Maschinenbau", f"{r.choice(WORD_A)} Logistik",
                                 f"{r.choice(SYL1)}{r.choice(SYL2)} Technik", f"{r.choice(LAST)} Verwaltungs"])
            if region == "fr" and r.random() < 0.3:
                core = r.choice([f"Ateliers {r.choice(LAST)}", f"Groupe {r.choice(SYL1)}{r.choice(SYL2)}",
                                 f"Société {r.choice(WORD_A)}"])
            if region == "nl" and r.random() < 0.3:
                core = f"{r.choice(WORD_A)} Holding"
            suf = r.choice(SUFFIX[region])
            name = core + suf if suf.startswith(",") else f"{core} {suf}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("names exhausted")

    def person(self):
        r = self.rng
        for _ in range(100):
            first, last = r.choice(FIRST), r.choice(LAST)
            x = r.random()
            if x < 0.15:
                name = f"{first} {r.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
            elif x < 0.22:
                name = f"{first} {r.choice(FIRST)} {last}"
            else:
                name = f"{first} {last}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("names exhausted")


def descriptor(rng, region, kind):
    if kind == "person":
        city = rng.choice(CITIES[region])
        return rng.choice([f"an individual residing at {rng.randint(2, 480)} {rng.choice(STREETS)}, {city}",
                           f"of {rng.randint(2, 480)} {rng.choice(STREETS)}, {city}", "an individual"])
    tpl = rng.choice(REGION_DESC[region])
    st = rng.choice(US_STATES)
    return tpl.format(st=st, a_st=("an " if st[0] in "AEIOU" else "a ") + st,
                      crn=rand_digits(rng, 8), crn6=rand_digits(rng, 6),
                      prov=rng.choice(["Ontario", "British Columbia", "Alberta"]),
                      city=rng.choice(CITIES[region]).split(",")[0], hrb=rand_digits(rng, 6),
                      siren=rand_digits(rng, 9), kvk=rand_digits(rng, 8), uen="20" + rand_digits(rng, 7) + "K",
                      abn=" ".join([rand_digits(rng, 2), rand_digits(rng, 3), rand_digits(rng, 3), rand_digits(rng, 3)]),
                      acn=" ".join([rand_digits(rng, 3), rand_digits(rng, 3), rand_digits(rng, 3)]),
                      aust=rng.choice(["New South Wales", "Victoria", "Queensland"]), cro=rand_digits(rng, 6),
                      a_prov=rng.choice(["an Ontario", "a British Columbia", "an Alberta"]))


def address(rng, region):
    return f"{rng.randint(1, 900)} {rng.choice(STREETS)}, {rng.choice(CITIES[region])}"


# ---------------------------------------------------------------------------
# Contract-type vocabulary
# ---------------------------------------------------------------------------
TITLES = {
    "nda": ["Mutual Non-Disclosure Agreement", "Non-Disclosure Agreement", "Confidentiality Agreement",
            "Mutual Confidentiality Agreement", "Confidential Disclosure Agreement", "Unilateral Non-Disclosure Agreement",
            "Confidentiality Undertaking", "Secrecy Agreement", "NDA"],
    "msa": ["Master Services Agreement", "Professional Services Agreement", "Services Agreement",
            "Consulting Agreement", "Independent Contractor Agreement", "Master Consulting Services Agreement",
            "Framework Services Agreement", "Managed Services Agreement"],
    "lease": ["Commercial Lease", "Lease Agreement", "Office Lease", "Lease of Retail Premises", "Warehouse Lease",
              "Tenancy Agreement", "Sublease Agreement", "Licence to Occupy", "Industrial Lease"],
    "employment": ["Employment Agreement", "Executive Employment Agreement", "Contract of Employment",
                   "Statement of Main Terms of Employment", "Employment Contract", "Fixed-Term Employment Agreement"],
    "license": ["Software License Agreement", "Trademark License Agreement", "Patent License Agreement",
                "Technology License Agreement", "Content Licensing Agreement", "Brand Licensing Agreement",
                "Know-How License Agreement", "Software Licence Agreement", "Trade Mark Licence"],
    "supply": ["Supply Agreement", "Master Supply Agreement", "Component Supply Agreement",
               "Manufacturing and Supply Agreement", "Distribution and Supply Agreement", "Long-Term Supply Contract",
               "Master Purchase and Supply Agreement", "Product Supply Agreement"],
}
AMBIG_TITLES = ["Agreement", "Memorandum of Agreement", "Letter Agreement", "Terms of Agreement", "Heads of Agreement",
                "Contract", "Agreement and Terms"]
ROLES = {
    "nda": [("Disclosing Party", "Receiving Party"), ("Discloser", "Recipient"), ("Company", "Recipient"), (None, None)],
    "msa": [("Client", "Service Provider"), ("Customer", "Provider"), ("Company", "Contractor"),
            ("Client", "Consultant"), ("Customer", "Vendor"), ("Client", "Supplier")],
    "lease": [("Landlord", "Tenant"), ("Landlord", "Tenant"), ("Lessor", "Lessee"), ("Sublandlord", "Subtenant")],
    "employment": [("Company", "Employee"), ("Employer", "Employee"), ("Company", "Executive"), ("Employer", "Employee")],
    "license": [("Licensor", "Licensee")],
    "supply": [("Supplier", "Buyer"), ("Seller", "Purchaser"), ("Manufacturer", "Distributor"),
               ("Supplier", "Customer"), ("Vendor", "Purchaser"), ("Supplier", "Purchaser")],
}

FIELDS = ["industrial sensor calibration", "a proposed joint venture for cold-chain logistics",
          "the possible acquisition of a minority stake in the Company", "a potential supply relationship for battery separators",
          "a pilot of the Discloser's fraud-scoring models", "the evaluation of a co-development programme for wound dressings",
          "a possible distribution arrangement in the Nordic region", "the integration of the parties' payment platforms",
          "a prospective licence of the Discloser's crop-imaging software", "discussions about a data-centre cooling retrofit",
          "the assessment of a potential merger", "a feasibility study for recycled packaging film"]
SERVICES = ["cloud migration and managed hosting services", "payroll outsourcing services", "data engineering and analytics services",
            "facilities management services", "clinical trial monitoring services", "digital marketing services",
            "software development and maintenance services", "security operations centre monitoring",
            "translation and localisation services", "fleet telematics integration services",
            "accounting and bookkeeping services", "UX research and design services"]
PRODUCTS = ["injection-moulded housings", "lithium iron phosphate battery cells", "organic oat flour",
            "printed circuit board assemblies", "stainless steel fasteners", "recycled PET flakes",
            "medical-grade silicone tubing", "roasted coffee beans", "LED driver modules", "corrugated shipping cartons",
            "hydraulic seals", "frozen bakery products", "solar inverter units", "cosmetic-grade glycerin"]
LICENSED = [("software", "the Licensed Software (the {x} platform, including updates)", ["PlanGrid", "LedgerLoom", "RouteMind", "ClaimStream", "VisionQC"]),
            ("marks", "the Licensed Marks (the {x} word mark and logo)", ["Alpenrose", "Kiwi & Clay", "NORTHMADE", "Sunhaven", "Tallboy"]),
            ("patents", "the Licensed Patents (including patent family {x})", ["EP 3 412 887", "US 10,982,114", "WO 2019/118230", "GB 2571234"]),
            ("content", "the Licensed Content (the {x} photo and video library)", ["Wildcoast", "Metro Archive", "Harvest Table"]),
            ("knowhow", "the Know-How relating to the {x} process", ["cold-press extraction", "low-temperature sintering", "enzymatic bleaching"])]
JOBS = [("Senior Data Engineer", "Head of Data"), ("Chief Financial Officer", "Chief Executive Officer"),
        ("Regional Sales Manager", "VP Sales"), ("Laboratory Technician", "Laboratory Manager"),
        ("Product Designer", "Design Director"), ("Warehouse Supervisor", "Operations Manager"),
        ("General Counsel", "Board of Directors"), ("Customer Success Lead", "Director of Customer Success"),
        ("Site Reliability Engineer", "Engineering Manager"), ("Marketing Coordinator", "Head of Marketing"),
        ("Head Chef", "Group Operations Director"), ("Registered Nurse", "Clinical Services Manager")]
USES = ["general office use", "retail sale of homewares", "light industrial and warehouse use", "a dental clinic",
        "a café and bakery", "a fitness studio", "research laboratory use", "a veterinary practice",
        "storage and distribution", "a co-working space"]


# ---------------------------------------------------------------------------
# Clause builders. Each returns (kind, text). Roles are written with straight double quotes
# and later converted to the document's quotation style.
# ---------------------------------------------------------------------------
class Ctx:
    pass


def term_phrase(rng, months, period=True):
    """Render a term length. period=False: no 'a period of' (for use after 'a term of')."""
    if months % 12 == 0:
        y = months // 12
        opts = [num(rng, y, "years"), num(rng, y, "years"), f"{months} months", f"{words(months)} ({months}) months"]
        if y == 1:
            opts += ["one (1) year", "one year", "twelve months"]
    else:
        opts = [num(rng, months, "months"), num(rng, months, "months")]
        if months == 18:
            opts.append("eighteen months")
    s = rng.choice(opts)
    if period and rng.random() < 0.3:
        s = "a period of " + s
    return s


def renewal_period(rng):
    return rng.choice(["successive one (1) year periods", "successive twelve (12) month periods",
                       "further periods of one year each", "additional one-year terms", "successive two (2) year periods",
                       "consecutive renewal terms of twelve months", "further terms of equal length",
                       "successive periods of 24 months", "additional terms of six (6) months"])


def build_term(c, rng, compact):
    """Term + renewal sentences. Returns list of (kind, text)."""
    out = []
    anchor = c.anchor
    Ag = c.ag
    if c.term is not None:
        T = term_phrase(rng, c.term, True)
        T0 = term_phrase(rng, c.term, False)
        if rng.random() < 0.12 and c.term % 12 == 0 and c.term // 12 in ORD and c.term <= 120:
            tt = [f"{Ag} commences on the {anchor} and shall continue until the {ORD[c.term // 12]} anniversary of the {anchor}",
                  f"{Ag} shall remain in force from the {anchor} until the {ORD[c.term // 12]} anniversary of the {anchor}"]
        elif c.type == "lease":
            tt = [f"The term of this {c.agw} is {T} commencing on the {anchor} (the \"Term\")",
                  f"{c.r1} lets the Premises to {c.r2} for a term of {T0} from and including the {anchor}",
                  f"The {c.agw} shall be for a term of {T0} beginning on the {anchor}",
                  f"The Term is {T0} from the {anchor}"]
        elif c.type == "employment":
            tt = [f"{c.r2}'s employment is for a fixed term of {T0} starting on the {anchor}",
                  f"This is a fixed-term appointment of {T0}, beginning on the {anchor}",
                  f"{c.r2} is engaged for a fixed term of {T0}",
                  f"The employment shall continue for {T} from the {anchor} unless terminated earlier under Clause {rng.randint(9, 17)}"]
        else:
            tt = [f"{Ag} commences on the {anchor} and continues for {T} (the \"Initial Term\")",
                  f"The term of this {c.agw} is {T} from the {anchor}",
                  f"Unless terminated earlier in accordance with its terms, this {c.agw} shall remain in force for {T}",
                  f"{Ag} shall be effective on the {anchor} and shall continue in effect for an initial term of {T0}",
                  f"The Initial Term of this {c.agw} is {T}",
                  f"{Ag} will run for {T} starting on the {anchor}"]
        s = rng.choice(tt)
        defined_initial = "Initial Term" in s
        if c.renew is True:
            N = rng.choice([30, 60, 90, 45, 120])
            P = renewal_period(rng)
            rr = [f"Thereafter, this {c.agw} shall automatically renew for {P} unless either party gives written notice of non-renewal at least {num(rng, N, 'days')} before the end of the then-current term.",
                  f"On expiry of the Initial Term it will renew automatically for {P}, unless terminated by either party on {notice(rng, N)} prior to expiry.",
                  f"This {c.agw} shall be extended automatically for {P} unless one party objects in writing no later than {num(rng, N, 'days')} before the expiry date.",
                  f"The term renews automatically for {P} (each a \"Renewal Term\") unless a party serves notice of non-renewal not less than {num(rng, N, 'days')} before the renewal date.",
                  f"Unless either party notifies the other at least {num(rng, N, 'days')} before expiry that it does not wish to renew, the term shall automatically be renewed for {P}."]
            if c.type == "lease":
                rr.append(f"If neither party gives at least {num(rng, max(N // 30, 1), 'months')}' notice before expiry, the tenancy will automatically continue for {P} on the same terms.")
            if compact:
                rr = [f"It renews automatically for {P} unless either party gives {notice(rng, N)} before expiry.",
                      f"Auto-renews for {P} unless notice of non-renewal is given {num(rng, N, 'days')} in advance."]
            s = s + ". " + rng.choice(rr)
        elif c.renew is False:
            rr = [f"This {c.agw} shall expire at the end of the Initial Term and shall not renew automatically.",
                  f"There is no automatic renewal; any extension must be agreed in writing by both parties.",
                  f"Upon expiry of the term this {c.agw} terminates without further action unless the parties sign a written renewal.",
                  f"The parties may extend the term only by written amendment; absent such amendment the {c.agw} expires at the end of the term.",
                  f"This {c.agw} will not be renewed automatically."]
            if c.type == "employment":
                rr = [f"The employment will end automatically on expiry of the fixed term without the need for notice, and it will not be renewed unless a new written contract is signed.",
                      f"The fixed term will not be extended or renewed automatically.",
                      f"There is no expectation of renewal; any further engagement requires a new written agreement."]
            if c.type == "lease":
                N = rng.choice([3, 6, 9, 12])
                rr += [f"{c.r2} may renew this {c.agw} for one further term of {num(rng, rng.choice([2, 3, 5]), 'years')} by giving {c.r1} not less than {num(rng, N, 'months')}' written notice before the end of the Term; otherwise the {c.agw} expires at the end of the Term.",
                       f"{c.r2} shall have an option to extend the Term for a further period of {num(rng, rng.choice([3, 5]), 'years')}, exercisable by written notice given at least {num(rng, N, 'months')} before expiry."]
            if compact:
                rr = ["No automatic renewal.", f"It will not renew automatically.", "It expires at the end of the term and does not auto-renew."]
            s = s + ". " + rng.choice(rr)
        else:
            s = s + "."
        if not defined_initial:
            s = s.replace("the Initial Term", "the term")
        out.append(("term", s))
    else:
        reason = c.null_term
        if reason == "until_terminated":
            N = rng.choice([14, 30, 60, 90, 180])
            tt = [f"{Ag} commences on the {anchor} and continues until terminated by either party on {notice(rng, N)}.",
                  f"This {c.agw} shall remain in effect until terminated by either party giving the other not less than {notice(rng, N)}.",
                  f"This {c.agw} has no fixed term; it continues until either party ends it by giving {notice(rng, N)}.",
                  f"This {c.agw} shall continue indefinitely, subject to termination by either party upon {notice(rng, N)}."]
            out.append(("term", rng.choice(tt)))
        elif reason == "perpetual":
            tt = [f"The licence granted under this {c.agw} is perpetual and irrevocable, except for termination for breach as set out below.",
                  f"Subject to the termination rights below, this {c.agw} and the licence shall continue in perpetuity.",
                  f"The rights granted herein are granted in perpetuity, and this {c.agw} has no fixed expiry date."]
            out.append(("term", rng.choice(tt)))
        elif reason == "at_will":
            N = rng.choice([7, 14, 30])
            tt = [f"{c.r2}'s employment is at will, meaning that either {c.r2} or {c.r1} may end it at any time, with or without cause or notice.",
                  f"Employment with {c.r1} is \"at-will\" and is not for any specified period.",
                  f"Nothing in this {c.agw} creates employment for a definite term; the employment is at will and may be terminated by either party at any time, although {c.r1} requests {num(rng, N, 'days')}' notice of resignation."]
            out.append(("term", rng.choice(tt)))
        elif reason == "indefinite_emp":
            N = rng.choice([1, 2, 3, 6])
            tt = [f"The employment is permanent and continues until terminated by either party giving not less than {num(rng, N, 'months')}' written notice.",
                  f"The employment will continue until terminated by either party on {num(rng, N, 'months')}' notice in writing.",
                  f"Your employment is open-ended; either party may terminate it by giving {num(rng, N, 'months')}' notice."]
            out.append(("term", rng.choice(tt)))
        elif reason == "nda_survival":
            S = rng.choice([2, 3, 5, 7])
            tt = [f"This {c.agw} remains in effect until terminated by either party in writing; the obligations of confidentiality survive for {num(rng, S, 'years')} after termination.",
                  f"Either party may terminate this {c.agw} at any time by written notice. The Recipient's obligations shall survive any termination for a period of {num(rng, S, 'years')}."]
            out.append(("term", rng.choice(tt)))
        # "unstated": nothing
    return out


def conflict_suffix(rng, j):
    if j["region"] == "us":
        return rng.choice(["", "", ", without regard to its conflict of laws principles",
                           ", without giving effect to any choice-of-law or conflict-of-law rules",
                           " (excluding its conflict of laws rules)"])
    if j["region"] in ("de", "ch", "nl", "fr", "se", "lu"):
        return rng.choice(["", "", ", excluding the United Nations Convention on Contracts for the International Sale of Goods",
                           ", to the exclusion of its conflict-of-law rules", " (excluding the CISG)"])
    return rng.choice(["", "", "", ", excluding its conflict of laws rules"])


def build_law(c, rng, compact):
    """Governing-law clause, or a forum-only clause, or nothing."""
    j = c.jur
    out = []
    if j is None:
        if c.forum_only is not None:
            fj = c.forum_only
            out.append(("forum", rng.choice([
                f"The parties submit to the exclusive jurisdiction of {rng.choice(fj['courts'])} in respect of any dispute arising under this {c.agw}.",
                f"Any action arising out of this {c.agw} shall be brought only in {rng.choice(fj['courts'])}.",
                f"Any dispute shall be finally resolved by arbitration seated in {fj['name'].split(' (')[0]} before a sole arbitrator."])))
        return out
    NP = rng.choice(j["laws"])
    suf = conflict_suffix(rng, j)
    Ag = c.ag
    opts = [f"This {c.agw} shall be governed by and construed in accordance with {NP}{suf}.",
            f"{Ag} and any dispute or claim arising out of or in connection with it are governed by {NP}{suf}.",
            f"The parties agree that {NP} {'apply' if re.match(r'the (internal |substantive )?laws', NP) else 'applies'} to this {c.agw} and to any non-contractual obligations arising from it.",
            f"All matters relating to this {c.agw} are subject to {NP}{suf}.",
            f"This {c.agw} shall be interpreted and enforced under {NP}{suf}.",
            f"The validity, construction and performance of this {c.agw} shall be governed by {NP}{suf}.",
            f"This {c.agw} is made under, and shall be governed by, {NP}."]
    if NP[0].isupper() and not NP.startswith("The"):
        opts.append(f"{NP} governs this {c.agw}{suf}.")
    if compact:
        opts = [f"Governed by {NP}.", f"This {c.agw} is governed by {NP}.", f"{Ag} is subject to {NP}."]
        if NP[0].isupper():
            opts.append(f"{NP} applies.")
    s = rng.choice(opts)
    x = rng.random()
    if c.forum_mismatch is not None:
        fj = c.forum_mismatch
        s += " " + rng.choice([f"Notwithstanding the foregoing, the parties submit to the exclusive jurisdiction of {rng.choice(fj['courts'])}.",
                               f"Any proceedings shall be brought in {rng.choice(fj['courts'])}, and each party waives any objection to that venue.",
                               f"Disputes shall be finally settled by arbitration seated in {fj['name'].split(' (')[0]}."])
    elif x < 0.35 and not compact:
        s += " " + rng.choice([f"Each party irrevocably submits to the exclusive jurisdiction of {rng.choice(j['courts'])}.",
                               f"The parties submit to the non-exclusive jurisdiction of {rng.choice(j['courts'])}.",
                               f"Any suit shall be brought in {rng.choice(j['courts'])}."])
    out.append(("law", s))
    return out


def eff_sentence(c, rng):
    """A body sentence stating the effective date (used when not in the preamble)."""
    D = c.date_txt
    if c.type == "lease":
        return ("date", rng.choice([f"The \"Commencement Date\" is {D}.", f"The Term commences on {D} (the \"Commencement Date\").",
                                    f"This Lease takes effect on {D}."]))
    if c.type == "employment":
        return ("date", rng.choice([f"Your employment with {c.r1} will begin on {D}.", f"{c.r2}'s employment commences on {D}.",
                                    f"The start date of employment is {D}."]))
    return ("date", rng.choice([f"\"Effective Date\" means {D}.", f"This {c.agw} takes effect on {D} (the \"Effective Date\").",
                                f"This {c.agw} is effective as of {D}.", f"The Effective Date of this {c.agw} is {D}."]))


# ---- filler clauses -------------------------------------------------------
def f_notices(c, rng):
    n = rng.choice([1, 2, 3, 5])
    return ("notices", rng.choice([
        f"All notices under this {c.agw} shall be in writing and delivered by hand, by courier or by email to the addresses set out above. A notice sent by email is deemed received on the next Business Day.",
        f"Notices must be in writing and sent to the address of the receiving party stated in this {c.agw}, or to any other address notified in writing. Notices sent by post are deemed received {num(rng, n, 'Business Days')} after posting.",
        f"Any notice to {c.r1 or 'a party'} shall be sent to {address(rng, c.region_b)}, marked for the attention of the {rng.choice(['General Counsel', 'Legal Department', 'Company Secretary', 'Managing Director'])}."]))


def f_assign(c, rng):
    return ("assignment", rng.choice([
        f"Neither party may assign or transfer this {c.agw} without the prior written consent of the other party, such consent not to be unreasonably withheld.",
        f"Either party may assign this {c.agw} to an Affiliate or to a successor to all or substantially all of its business, on written notice to the other party; any other assignment requires consent.",
        f"{c.r2 or 'A party'} shall not assign, sub-contract or otherwise deal with its rights under this {c.agw} without the written consent of {c.r1 or 'the other party'}."]))


def f_entire(c, rng):
    if rng.random() < 0.45:
        dt, ds = rel_date(rng, c, "before")
        prior = rng.choice(["letter of intent", "term sheet", "memorandum of understanding", "prior agreement between the parties",
                            "heads of terms", "confidentiality letter"])
        return ("entire", f"This {c.agw} constitutes the entire agreement between the parties and supersedes the {prior} dated {ds}.")
    return ("entire", rng.choice([
        f"This {c.agw} constitutes the entire agreement between the parties relating to its subject matter and supersedes all prior negotiations, representations and understandings.",
        f"This {c.agw}, together with its schedules, is the whole agreement of the parties; no party relies on any statement not set out in it."]))


def f_amend(c, rng):
    if rng.random() < 0.5:
        dt, ds = rel_date(rng, c, "after")
        return ("amend", rng.choice([f"Schedule {rng.randint(1, 4)} was last amended on {ds}. No other amendment is effective unless in writing and signed by both parties.",
                                     f"This {c.agw}, as amended on {ds}, may be further varied only by a written instrument signed by authorised representatives of both parties."]))
    return ("amend", f"No variation of this {c.agw} is effective unless it is in writing and signed by or on behalf of each party.")


def f_counterparts(c, rng):
    return ("counterparts", rng.choice([
        f"This {c.agw} may be executed in any number of counterparts, including by electronic signature, each of which is an original and all of which together constitute one instrument.",
        f"Signatures delivered by PDF or through an e-signature platform are binding as originals."]))


def f_sever(c, rng):
    return ("severability", rng.choice([
        f"If any provision of this {c.agw} is held invalid or unenforceable, the remaining provisions continue in full force and effect.",
        f"Should any term be found unenforceable, it shall be modified to the minimum extent necessary and the rest of this {c.agw} shall remain valid."]))


def f_force(c, rng):
    n = rng.choice([30, 60, 90, 120])
    return ("force", rng.choice([
        f"Neither party is liable for any delay or failure caused by events beyond its reasonable control. If such an event continues for more than {num(rng, n, 'days')}, the unaffected party may terminate this {c.agw} by written notice.",
        f"A party affected by a Force Majeure Event shall notify the other promptly and use reasonable efforts to mitigate; if the event lasts longer than {num(rng, n // 30, 'months')}, either party may terminate on written notice."]))


def f_breach(c, rng):
    n = rng.choice([10, 14, 15, 20, 30, 45])
    return ("breach", rng.choice([
        f"Either party may terminate this {c.agw} immediately by written notice if the other party commits a material breach that is not remedied within {num(rng, n, 'days')} of being notified of it.",
        f"Either party may terminate this {c.agw} on written notice if the other becomes insolvent, or fails to cure a material breach within {num(rng, n, 'days')} after receipt of a notice describing the breach.",
        f"{c.payee or 'Either party'} may terminate this {c.agw} with immediate effect if {c.payer or 'the other party'} fails to pay any undisputed amount within {num(rng, n, 'days')} of its due date."]))


def f_convenience(c, rng):
    n = rng.choice([30, 60, 90, 180])
    return ("convenience", rng.choice([
        f"Either party may terminate this {c.agw} for convenience on {notice(rng, n)}.",
        f"{c.r1 or 'Either party'} may terminate this {c.agw} at any time without cause by giving {notice(rng, n)} to {c.r2 or 'the other party'}."]))


def f_conf(c, rng):
    s = rng.choice([2, 3, 5, 7, 10])
    return ("confidentiality", rng.choice([
        f"Each party shall keep confidential all information of the other party marked or reasonably understood to be confidential. This obligation survives termination of this {c.agw} for {num(rng, s, 'years')}.",
        f"The parties shall not disclose the terms of this {c.agw} to any third party except their professional advisers. The confidentiality obligations in this clause continue for {num(rng, s, 'years')} after expiry or termination.",
        f"Confidential Information shall be used only for the purposes of this {c.agw}; the obligations in this section survive for a period of {num(rng, s, 'years')} following termination."]))


def f_liability(c, rng):
    m = rng.choice([12, 12, 6, 24])
    return ("liability", rng.choice([
        f"Except for liability for fraud, death or personal injury, each party's total liability under this {c.agw} shall not exceed the fees paid or payable in the {num(rng, m, 'months')} preceding the event giving rise to the claim.",
        f"Neither party shall be liable for any indirect, consequential or special loss, or for loss of profit or goodwill, howsoever arising.",
        f"The aggregate liability of either party shall be limited to {money(c.cur, rng.choice([50, 100, 250, 500, 1000]) * 1000)}."]))


def f_insurance(c, rng):
    return ("insurance", f"{c.prov or 'Each party'} shall maintain public liability insurance of not less than {money(c.cur, rng.choice([1, 2, 5, 10]) * 1000000)} per occurrence for the duration of this {c.agw} and for {num(rng, rng.choice([1, 2, 3]), 'years')} afterwards.")


def f_nonsolicit(c, rng):
    m = rng.choice([6, 12, 18, 24])
    return ("nonsolicit", f"During the term and for {num(rng, m, 'months')} thereafter, neither party shall solicit for employment any employee of the other party who was involved in the performance of this {c.agw}.")


def f_independent(c, rng):
    return ("independent", f"The parties are independent contractors. Nothing in this {c.agw} creates a partnership, joint venture, agency or employment relationship between them.")


def f_affiliate(c, rng):
    aff = c.namer.company(rng.choice(["us", "uk", "ie", "nl"]))
    if c.type == "nda":
        return ("affiliate", f"{c.recp} may disclose Confidential Information to its affiliate {aff} on a need-to-know basis, provided that it remains responsible for that affiliate's compliance.")
    if c.type in ("msa", "supply"):
        return ("affiliate", rng.choice([
            f"Parts of the work may be performed by {aff}, an affiliate of {c.prov}, which is not a party to this {c.agw}.",
            f"{c.prov} may subcontract manufacturing or delivery to {aff}, but remains liable for its subcontractors as for itself."]))
    return ("affiliate", f"{aff} is a third-party beneficiary of Section {rng.randint(3, 12)} only and is not a party to this {c.agw}.")


# NDA
def n_def(c, rng):
    return ("definition", rng.choice([
        f"\"Confidential Information\" means all non-public information disclosed by {c.disc} to {c.recp}, whether oral, written or electronic, including business plans, source code, pricing and customer lists.",
        f"Confidential Information includes any technical, financial or commercial information disclosed in connection with {rng.choice(FIELDS)}, in whatever form, that is marked confidential or would reasonably be regarded as confidential."]))


def n_purpose(c, rng):
    return ("purpose", rng.choice([
        f"{cap1(c.recp)} shall use the Confidential Information solely for the purpose of {rng.choice(FIELDS)} (the \"Purpose\") and for no other purpose.",
        f"The parties wish to exchange information in connection with {rng.choice(FIELDS)} (the \"Purpose\")."]))


def n_excl(c, rng):
    return ("exclusions", f"The obligations above do not apply to information that is or becomes public through no fault of {c.recp}, was lawfully known to {c.recp} before disclosure, is independently developed, or is received from a third party without restriction.")


def n_return(c, rng):
    n = rng.choice([5, 10, 14, 15, 30])
    return ("return", rng.choice([
        f"Within {num(rng, n, 'days')} of a written request, {c.recp} shall return or destroy all Confidential Information and certify the destruction in writing.",
        f"On request, {c.recp} shall promptly destroy all copies of the Confidential Information, save for copies retained in automatic back-up systems, which remain subject to this {c.agw}."]))


def n_remedy(c, rng):
    return ("remedies", f"Damages alone may not be an adequate remedy for breach of this {c.agw}, and {c.disc} is entitled to seek injunctive relief without proof of special damage.")


def n_nolicense(c, rng):
    return ("nolicence", f"No licence under any patent, copyright or other intellectual property right is granted by this {c.agw}, and neither party is obliged to proceed with any transaction.")


def n_compelled(c, rng):
    return ("compelled", f"If {c.recp} is required by law or a regulator to disclose Confidential Information, it shall, where lawful, give {c.disc} prompt notice so that it may seek a protective order.")


# MSA
def m_services(c, rng):
    return ("services", rng.choice([
        f"{c.r2} shall provide {rng.choice(SERVICES)} as described in one or more statements of work executed by the parties (each, an \"SOW\"). Each SOW forms part of and is governed by this {c.agw}.",
        f"{c.r2} will perform the Services and deliver the Deliverables set out in each Statement of Work. In case of conflict, this {c.agw} prevails over an SOW unless the SOW expressly states otherwise.",
        f"The scope of the {rng.choice(SERVICES)} is set out in Statement of Work No. {rng.randint(1, 9)}; further Statements of Work may be agreed in writing from time to time."]))


def m_fees(c, rng):
    n = rng.choice([15, 30, 30, 45, 60])
    return ("fees", rng.choice([
        f"{c.r1} shall pay the fees set out in each SOW. {c.r2} will invoice monthly in arrears and invoices are payable within {num(rng, n, 'days')} of receipt.",
        f"Fees are charged on a time-and-materials basis at the rates in Schedule {rng.randint(1, 3)}; undisputed invoices are due net {n}. Late payments bear interest at {rng.choice(['1%', '1.5%', '2%'])} per month.",
        f"{c.r2}'s daily rate is {money(c.cur, rng.choice([650, 800, 950, 1200, 1450]))}, exclusive of VAT, invoiced at the end of each month and payable within {num(rng, n, 'days')}."]))


def m_accept(c, rng):
    n = rng.choice([5, 10, 15])
    return ("acceptance", f"{c.r1} shall have {num(rng, n, 'Business Days')} after delivery to test each Deliverable and either accept it or notify {c.r2} of any material non-conformity.")


def m_personnel(c, rng):
    return ("personnel", f"{c.r2} shall assign suitably qualified personnel, shall not replace key personnel named in an SOW without {c.r1}'s consent, and remains responsible for any subcontractors.")


def m_warranty(c, rng):
    n = rng.choice([30, 60, 90])
    return ("warranty", f"{c.r2} warrants that the Services will be performed in a professional and workmanlike manner and will re-perform any non-conforming Services reported within {num(rng, n, 'days')} of performance.")


def m_sla(c, rng):
    return ("sla", f"{c.r2} shall meet the service levels in Schedule {rng.randint(2, 5)}, including {rng.choice(['99.5%', '99.9%', '99.95%'])} monthly availability; service credits are {c.r1}'s sole remedy for availability failures.")


def m_ip(c, rng):
    return ("ip", f"All Deliverables created specifically for {c.r1} shall vest in {c.r1} on payment in full; {c.r2} retains its pre-existing materials and grants {c.r1} a licence to use them as part of the Deliverables.")


# Lease
def l_premises(c, rng):
    return ("premises", rng.choice([
        f"{c.r1} leases to {c.r2} the premises known as Unit {rng.randint(1, 40)}{rng.choice(['', 'A', 'B', 'C'])}, {address(rng, c.region_a)}, comprising approximately {rng.randint(8, 90) * 100:,} square feet (the \"Premises\").",
        f"The Premises are the {rng.choice(['ground floor', 'second floor', 'whole of the fourth floor', 'warehouse and yard', 'retail unit'])} at {address(rng, c.region_a)}, shown edged red on the attached plan.",
        f"The \"Premises\" means Suite {rng.randint(100, 950)} of the building at {address(rng, c.region_a)}, together with the right to use {rng.randint(2, 20)} parking spaces."]))


def l_rent(c, rng):
    amt = rng.choice([1850, 2400, 3200, 4750, 6900, 8200, 12500, 18400, 26000])
    return ("rent", rng.choice([
        f"{c.r2} shall pay base rent of {money(c.cur, amt)} per month, in advance, on the first day of each calendar month.",
        f"The annual rent is {money(c.cur, amt * 12)}, payable by equal quarterly instalments in advance on the usual quarter days.",
        f"The rent is {money(c.cur, amt)} per calendar month, payable monthly in advance by standing order, plus a service charge of {money(c.cur, amt // 10)}."]))


def l_deposit(c, rng):
    n = rng.choice([14, 30, 45, 60])
    amt = rng.choice([3, 5, 6, 9, 12]) * 1000
    return ("deposit", f"On signing, {c.r2} shall pay a security deposit of {money(c.cur, amt)}, which {c.r1} shall return, less any lawful deductions, within {num(rng, n, 'days')} after the end of the Term.")


def l_use(c, rng):
    return ("use", f"{c.r2} shall use the Premises only for {rng.choice(USES)} and shall comply with all applicable zoning, health and safety requirements.")


def l_review(c, rng):
    return ("review", rng.choice([
        f"The rent shall be reviewed every {num(rng, rng.choice([2, 3, 5]), 'years')} and increased by the greater of {rng.choice(['2%', '3%', '3.5%'])} and the increase in the consumer price index.",
        f"On each anniversary of the Commencement Date the monthly rent shall increase by {rng.choice(['2.5%', '3%', '4%'])}.",
        f"The first rent review date is {rel_date(rng, c, 'review')[1]}; subsequent reviews take place every {num(rng, rng.choice([24, 36, 60]), 'months')}."]))


def l_repairs(c, rng):
    return ("repairs", rng.choice([
        f"{c.r2} shall keep the interior of the Premises in good repair and condition, fair wear and tear excepted; {c.r1} is responsible for the roof, structure and common parts.",
        f"{c.r2} shall not make structural alterations without {c.r1}'s prior written consent and shall reinstate any alterations at the end of the Term if requested."]))


def l_break(c, rng):
    n = rng.choice([3, 6])
    a = rng.choice([2, 3, 5])
    return ("break", f"{c.r2} may terminate this Lease on the {ORD[a]} anniversary of the Commencement Date by giving {c.r1} at least {num(rng, n, 'months')}' written notice, provided the rent is fully paid.")


# Employment
def e_position(c, rng):
    job, boss = rng.choice(JOBS)
    return ("position", rng.choice([
        f"{c.r2} is employed as {job} and reports to the {boss}. {c.r2} shall devote full working time and attention to {c.r1}'s business.",
        f"Position: {job}. You will report to the {boss} and may be required to undertake other reasonable duties consistent with your role.",
        f"{c.r1} employs {c.r2} in the position of {job}, based at its {rng.choice(CITIES[c.region_a]).split(',')[0]} office with up to {rng.choice(['two', 'three'])} days per week of remote working."]))


def e_salary(c, rng):
    amt = rng.choice([42, 55, 68, 74, 85, 96, 110, 128, 145, 180, 210]) * 1000
    return ("salary", rng.choice([
        f"{c.r2} shall receive a base salary of {money(c.cur, amt)} per annum, payable in {rng.choice(['equal monthly instalments', 'arrears on the last working day of each month', 'bi-weekly instalments'])}, subject to applicable withholdings.",
        f"Your annual gross salary will be {money(c.cur, amt)}, reviewed annually without obligation to increase.",
        f"Base compensation: {money(c.cur, amt)} per year, plus eligibility for a discretionary annual bonus of up to {rng.choice(['10%', '15%', '20%', '25%'])} of base salary."]))


def e_probation(c, rng):
    m = rng.choice([3, 6, 6])
    return ("probation", f"The first {num(rng, m, 'months')} of employment are a probationary period, during which either party may terminate the employment on {num(rng, rng.choice([1, 2]), 'weeks')}' notice.")


def e_notice(c, rng):
    m = rng.choice([1, 2, 3, 6])
    return ("notice_emp", f"After the probationary period, either party may terminate the employment by giving the other {num(rng, m, 'months')}' written notice, or {c.r1} may pay salary in lieu of notice.")


def e_holiday(c, rng):
    return ("holiday", f"{c.r2} is entitled to {num(rng, rng.choice([20, 25, 28, 30]), 'days')}' paid holiday in each holiday year in addition to public holidays.")


def e_noncompete(c, rng):
    m = rng.choice([6, 9, 12, 18])
    return ("noncompete", f"For {num(rng, m, 'months')} after the termination date {c.r2} shall not be engaged in any business competing with {c.r1} within {rng.choice(['50 miles of any office', 'the European Economic Area', 'the United States', 'a 25 km radius of the place of work'])}.")


def e_equity(c, rng):
    return ("equity", f"Subject to board approval, {c.r2} will be granted options over {rng.choice([2500, 5000, 10000, 20000, 40000]):,} ordinary shares, vesting over {num(rng, 4, 'years')} with a one-year cliff.")


def e_benefits(c, rng):
    return ("benefits", f"{c.r2} may participate in {c.r1}'s health insurance plan and pension scheme, to which {c.r1} contributes {rng.choice(['3%', '5%', '6%', '8%'])} of base salary.")


# License
def li_grant(c, rng):
    kind, tpl, xs = c.licensed
    obj = tpl.format(x=rng.choice(xs))
    terr = rng.choice(["worldwide", "in the Territory", "in the European Union", "in North America", "in Australia and New Zealand", "in the United Kingdom"])
    scope = {"software": "install and use for its internal business purposes", "marks": "use on and in relation to the Products",
             "patents": "make, use and sell Licensed Products", "content": "reproduce and display in its publications",
             "knowhow": "use in the manufacture of the Products"}[kind]
    excl = rng.choice(["a non-exclusive, non-transferable", "an exclusive", "a non-exclusive, royalty-bearing", "a sole"])
    return ("grant", rng.choice([
        f"{c.r1} grants to {c.r2} {excl} {c.lic} to {scope} {obj} {terr}.",
        f"Subject to the terms of this {c.agw}, {c.r1} hereby grants {c.r2} {excl} {c.lic} under {obj} to {scope} {terr}."]))


def li_royalty(c, rng):
    return ("royalty", rng.choice([
        f"{c.r2} shall pay {c.r1} a royalty of {rng.choice(['3%', '4.5%', '5%', '6%', '8%', '12%'])} of Net Sales, payable quarterly within {num(rng, rng.choice([30, 45, 60]), 'days')} after the end of each calendar quarter.",
        f"In consideration of the {c.lic}, {c.r2} shall pay an upfront fee of {money(c.cur, rng.choice([10, 25, 40, 75, 150]) * 1000)} and an annual licence fee of {money(c.cur, rng.choice([5, 12, 20, 36]) * 1000)}.",
        f"Royalties accrue at {rng.choice(['2%', '5%', '7.5%'])} of the net invoiced price of each Licensed Product sold, subject to a minimum annual royalty of {money(c.cur, rng.choice([10, 20, 50]) * 1000)}."]))


def li_audit(c, rng):
    return ("audit", f"{c.r2} shall keep complete records of sales for at least {num(rng, rng.choice([3, 5, 6]), 'years')}, and {c.r1} may audit those records once in any calendar year on {num(rng, rng.choice([10, 15, 30]), 'days')}' notice.")


def li_restrict(c, rng):
    if c.licensed[0] == "marks":
        return ("restrictions", f"{c.r2} shall use the Licensed Marks only in accordance with {c.r1}'s brand guidelines and shall submit samples of each Product for approval before first sale.")
    return ("restrictions", rng.choice([
        f"{c.r2} shall not sublicense, reverse engineer, decompile or modify the licensed materials except as expressly permitted by this {c.agw}.",
        f"{c.r2} shall not grant sublicences or challenge the validity of the licensed rights, and shall mark all products as required by {c.r1}."]))


def li_owner(c, rng):
    return ("ownership", f"{c.r1} retains all right, title and interest in the licensed intellectual property. Improvements made by {c.r2} shall be {rng.choice(['owned by ' + c.r2 + ' and licensed back to ' + c.r1, 'assigned to ' + c.r1, 'jointly owned'])}.")


def li_support(c, rng):
    return ("support", f"{c.r1} shall provide maintenance releases and email support during business hours for the first {num(rng, rng.choice([6, 12, 24]), 'months')}, after which support is available at its then-current rates.")


# Supply
def s_orders(c, rng):
    return ("orders", rng.choice([
        f"{c.r2} may order {rng.choice(PRODUCTS)} (the \"Products\") by issuing purchase orders. Each purchase order accepted by {c.r1} forms a separate contract incorporating these terms.",
        f"{c.r1} shall manufacture and supply the Products listed in Schedule 1 in the quantities set out in purchase orders issued by {c.r2} from time to time.",
        f"This {c.agw} governs the supply of {rng.choice(PRODUCTS)} by {c.r1} to {c.r2}; no purchase order terms shall apply unless agreed in writing."]))


def s_forecast(c, rng):
    m = rng.choice([3, 6, 12])
    b = rng.choice([1, 2, 3])
    bind = "the first month of each forecast is binding" if b == 1 else f"the first {num(rng, b, 'months')} of each forecast are binding"
    return ("forecast", f"{c.r2} shall provide a rolling {words(m)}-month forecast on the first business day of each month; {bind}.")


def s_delivery(c, rng):
    inc = rng.choice(["DAP", "FCA", "EXW", "DDP", "CIF"])
    return ("delivery", rng.choice([
        f"Delivery shall be {inc} {rng.choice(CITIES[c.region_b]).split(',')[0]} (Incoterms 2020) within {num(rng, rng.choice([4, 6, 8, 12]), 'weeks')} of acceptance of each purchase order.",
        f"{c.r1} shall deliver the Products to {c.r2}'s warehouse at {address(rng, c.region_b)}; title and risk pass on delivery.",
        f"Lead time is {num(rng, rng.choice([20, 30, 45, 60]), 'days')} from order acceptance. Late delivery entitles {c.r2} to liquidated damages of {rng.choice(['0.5%', '1%', '2%'])} of the order value per week of delay."]))


def s_price(c, rng):
    return ("price", rng.choice([
        f"Prices are set out in Schedule 2 and are fixed for the first {num(rng, rng.choice([6, 12, 18]), 'months')}; thereafter {c.r1} may adjust them once per year on {num(rng, rng.choice([60, 90]), 'days')}' notice.",
        f"The unit price is {money(c.cur, rng.choice([2, 4, 7, 12, 18, 35, 140]))} per {rng.choice(['unit', 'kilogram', 'carton', 'metre'])}, exclusive of taxes, payable within {num(rng, rng.choice([30, 45, 60]), 'days')} of invoice."]))


def s_warranty(c, rng):
    m = rng.choice([12, 18, 24, 36])
    return ("warranty_goods", f"{c.r1} warrants that the Products will conform to the Specifications and be free from defects in materials and workmanship for {num(rng, m, 'months')} from delivery.")


def s_minimum(c, rng):
    return ("minimum", f"{c.r2} shall purchase at least {rng.choice([5, 10, 20, 50, 100]) * 1000:,} {rng.choice(['units', 'kilograms', 'cartons'])} of Products in each contract year, failing which it shall pay the shortfall at {rng.choice(['50%', '30%', '25%'])} of the unit price.")


def s_inspect(c, rng):
    return ("inspection", f"{c.r2} shall inspect each delivery within {num(rng, rng.choice([5, 7, 10, 14]), 'days')} and may reject non-conforming Products by written notice to {c.r1}.")


FILLERS = {
    "nda": [n_def, n_purpose, n_excl, n_return, n_remedy, n_nolicense, n_compelled],
    "msa": [m_services, m_fees, m_accept, m_personnel, m_warranty, m_sla, m_ip],
    "lease": [l_premises, l_rent, l_deposit, l_use, l_review, l_repairs, l_break],
    "employment": [e_position, e_salary, e_probation, e_notice, e_holiday, e_noncompete, e_equity, e_benefits],
    "license": [li_grant, li_royalty, li_audit, li_restrict, li_owner, li_support],
    "supply": [s_orders, s_forecast, s_delivery, s_price, s_warranty, s_minimum, s_inspect],
}
TYPE_KINDS = {
    "nda": {"definition", "purpose", "exclusions", "return", "remedies", "nolicence", "compelled"},
    "msa": {"services", "fees", "acceptance", "personnel", "warranty", "sla", "ip"},
    "lease": {"premises", "rent", "deposit", "use", "review", "repairs", "break"},
    "employment": {"position", "salary", "probation", "notice_emp", "holiday", "noncompete", "equity", "benefits"},
    "license": {"grant", "royalty", "audit", "restrictions", "ownership", "support"},
    "supply": {"orders", "forecast", "delivery", "price", "warranty_goods", "minimum", "inspection"},
}
GENERAL = [f_notices, f_assign, f_entire, f_amend, f_counterparts, f_sever, f_force, f_breach, f_convenience,
           f_conf, f_liability, f_insurance, f_nonsolicit, f_independent, f_affiliate]
GENERAL_OK = {  # which general fillers suit which type
    "nda": {f_notices, f_assign, f_entire, f_amend, f_counterparts, f_sever, f_affiliate, f_nonsolicit},
    "msa": set(GENERAL),
    "lease": {f_notices, f_assign, f_entire, f_amend, f_counterparts, f_sever, f_force, f_breach, f_insurance},
    "employment": {f_notices, f_entire, f_amend, f_counterparts, f_sever, f_conf},
    "license": {f_notices, f_assign, f_entire, f_amend, f_counterparts, f_sever, f_force, f_breach, f_conf, f_liability, f_convenience},
    "supply": set(GENERAL) - {f_independent},
}
HEADINGS = {
    "term": ["Term", "Duration", "Term and Renewal", "Term of Agreement", "Commencement and Duration"],
    "law": ["Governing Law", "Applicable Law", "Governing Law and Jurisdiction", "Choice of Law", "Law and Jurisdiction"],
    "forum": ["Jurisdiction", "Disputes", "Dispute Resolution", "Venue"],
    "date": ["Effective Date", "Commencement", "Effective Date"],
    "date_lease": ["Commencement Date", "Commencement"], "date_employment": ["Start Date", "Commencement of Employment"],
    "notices": ["Notices"], "assignment": ["Assignment"], "entire": ["Entire Agreement", "Whole Agreement"],
    "amend": ["Amendments", "Variation"], "counterparts": ["Counterparts"], "severability": ["Severability"],
    "force": ["Force Majeure"], "breach": ["Termination", "Termination for Breach"],
    "convenience": ["Termination for Convenience", "Termination"], "confidentiality": ["Confidentiality"],
    "liability": ["Limitation of Liability", "Liability"], "insurance": ["Insurance"],
    "nonsolicit": ["Non-Solicitation"], "independent": ["Relationship of the Parties"], "affiliate": ["Affiliates", "Third Parties"],
    "definition": ["Confidential Information", "Definitions"], "purpose": ["Purpose"], "exclusions": ["Exclusions"],
    "return": ["Return of Materials"], "remedies": ["Remedies"], "nolicence": ["No Licence", "No Obligation"],
    "compelled": ["Compelled Disclosure"], "services": ["Services", "Statements of Work"], "fees": ["Fees and Payment", "Payment"],
    "acceptance": ["Acceptance"], "personnel": ["Personnel"], "warranty": ["Warranty"], "sla": ["Service Levels"],
    "ip": ["Intellectual Property"], "premises": ["Premises"], "rent": ["Rent"], "deposit": ["Security Deposit", "Deposit"],
    "use": ["Use", "Permitted Use"], "review": ["Rent Review"], "repairs": ["Repairs", "Alterations"], "break": ["Break Option"],
    "position": ["Position and Duties", "Role"], "salary": ["Remuneration", "Salary", "Compensation"],
    "probation": ["Probation"], "notice_emp": ["Notice", "Termination"], "holiday": ["Holidays", "Annual Leave"],
    "noncompete": ["Restrictive Covenants", "Non-Competition"], "equity": ["Equity"], "benefits": ["Benefits"],
    "grant": ["Grant of Licence", "License Grant"], "royalty": ["Royalties", "Fees"], "audit": ["Records and Audit"],
    "restrictions": ["Restrictions", "Quality Control"], "ownership": ["Ownership"], "support": ["Support"],
    "orders": ["Orders", "Purchase Orders"], "forecast": ["Forecasts"], "delivery": ["Delivery"], "price": ["Prices", "Price and Payment"],
    "warranty_goods": ["Product Warranty", "Warranty"], "minimum": ["Minimum Purchase"], "inspection": ["Inspection and Rejection"],
    "recitals": ["Background", "Recitals"], "signature": [""],
}


# ---------------------------------------------------------------------------
# Preamble / party wording
# ---------------------------------------------------------------------------
def role_label(rng, role, style):
    if role is None:
        return ""
    return {
        0: f" (\"{role}\")", 1: f" (the \"{role}\")", 2: f" (hereinafter referred to as the \"{role}\")",
        3: f" (hereinafter \"{role}\")", 4: f" (the \"{role}\")", 5: f" (as {role})",
    }[style]


def party_text(rng, p, role, label_style, with_desc):
    s = p["shown"]
    if with_desc and p.get("desc"):
        s += ", " + p["desc"]
    return s + role_label(rng, role, label_style)


def build_preamble(c, rng, compact):
    """Returns (text, date_in_preamble: bool)."""
    ps = c.parties
    ls = rng.choice([0, 0, 1, 1, 2, 3, 4]) if rng.random() < 0.9 else 5
    wd = (not compact) and rng.random() < 0.55
    roles = c.p_roles
    texts = [party_text(rng, p, r, ls, wd and (rng.random() < 0.8)) for p, r in zip(ps, roles)]
    if c.three_style == "licensors":
        # two co-licensors grouped
        a = ps[0]["shown"] + ((", " + ps[0]["desc"]) if wd and ps[0].get("desc") else "")
        b = ps[1]["shown"] + ((", " + ps[1]["desc"]) if wd and ps[1].get("desc") else "")
        texts = [a, b + f" (together, the \"{c.role1}s\")", texts[2]]
    if len(texts) == 2:
        joined = f"{texts[0]} and {texts[1]}"
        joined_enum = f"\n(1) {texts[0]}; and\n(2) {texts[1]}"
    else:
        joined = f"{texts[0]}, {texts[1]} and {texts[2]}" if rng.random() < 0.5 else f"{texts[0]}, {texts[1]}, and {texts[2]}"
        joined_enum = f"\n(1) {texts[0]};\n(2) {texts[1]}; and\n(3) {texts[2]}"
    among = "among" if len(texts) == 3 and rng.random() < 0.7 else "between"
    D = c.date_txt
    date_here = c.date is not None and c.date_in_preamble
    title = c.title
    ref = f"This {title}" if title and title.lower() not in ("agreement", "contract") else "This Agreement"
    if title and rng.random() < 0.3:
        ref = "This agreement"
    ag_def = rng.choice([" (the \"Agreement\")", " (this \"Agreement\")", ""]) if ref != "This Agreement" else ""
    head = ""
    if title and not c.letter:
        head = (title.upper() if rng.random() < 0.5 else title) + "\n\n"
    if c.letter:
        # employment offer letter
        letter_date = rel_date(rng, c, "before")[1]
        first = ps[1]["shown"].split()[0]
        if ps[1]["shown"].isupper():
            first = first.capitalize()
        start = f" Your employment will commence on {D}." if date_here else ""
        body = rng.choice([
            f"{ps[0]['shown']}\n{address(rng, c.region_a)}\n\n{letter_date}\n\nDear {first},\n\nWe are pleased to offer you, {ps[1]['shown']}, employment with {ps[0]['shown']} (the \"{c.role1}\") on the terms below.{start}",
            f"{ps[0]['shown']}\n\n{letter_date}\n\nPrivate and confidential\nDear {first},\n\nFollowing your interview, {ps[0]['shown']} (the \"{c.role1}\") is delighted to confirm the offer of employment to you, {ps[1]['shown']} (\"you\").{start}"])
        return body, date_here
    if c.kv:
        return None, date_here
    if date_here:
        dp = rng.choice([f"is entered into as of {D} (the \"Effective Date\")", f"is made and entered into effective {D}",
                         f"is dated {D}", f"is made on {D}", f"is entered into with effect from {D}",
                         f"is effective as of {D} (the \"Effective Date\")"])
    elif c.date_blank:
        dp = rng.choice(["is dated as of ____________, 20__", "is made on [●]", "is entered into as of the date of the last signature below (the \"Effective Date\")",
                         "is dated the ____ day of ____________ 20__"])
    else:
        dp = rng.choice(["is made", "is entered into", "is made and entered into"])
    x = rng.random()
    if x < 0.34:
        s = f"{head}{ref}{ag_def} {dp} by and {among} {joined}."
    elif x < 0.56:
        intro = (f"THIS {title.upper()}" if title and rng.random() < 0.5 else ref)
        dp2 = dp.replace("is entered into as of", "is made as of")
        s = f"{intro} {dp2}\n\nBETWEEN:{joined_enum}\n\n(each a \"Party\" and together the \"Parties\")."
        if head and not intro.startswith("THIS"):
            s = head + s
    elif x < 0.7:
        dd = f", effective {D}," if date_here else ""
        s = f"{head}{joined[0].upper() + joined[1:]}{dd} agree as follows{':' if rng.random() < 0.5 else '.'}"
        if date_here and rng.random() < 0.4:
            s = f"{head}Dated {D}.\n\n{joined[0].upper() + joined[1:]} agree as follows:"
    elif x < 0.84:
        dd = f" dated {D}" if date_here else ""
        word = (title or "Agreement")
        if word.isupper():
            word = word.title()
        s = f"{word.upper() if rng.random() < 0.4 else word}{dd} {among} {joined}."
    else:
        dd = f" with effect from {D}" if date_here else ""
        s = f"{head}The parties to this {c.agw}{dd} are {joined}."
    return s, date_here


def build_kv(c, rng):
    """Cover-page / term-sheet style excerpt: one field per line."""
    lines = []
    clue_needed = c.title not in TITLES[c.type]
    title = c.title or rng.choice(["Key Terms", "Agreement Summary", "Cover Page", "Particulars", "Term Sheet (binding)"])
    lines.append(title.upper() if rng.random() < 0.4 else title)
    rl = [r or "Party" for r in c.p_roles]
    for i, (p, r) in enumerate(zip(c.parties, rl)):
        lab = r if r != "Party" else f"Party {'ABC'[i]}"
        if c.three_style == "licensors" and i < 2:
            lab = f"{c.role1} {i + 1}"
        lines.append(f"{lab}: {p['shown']}" + (f" ({p['desc']})" if p.get('desc') and rng.random() < 0.25 else ""))
    extra = []
    if c.date is not None:
        lab = {"lease": ["Commencement Date", "Lease Start"], "employment": ["Start Date", "Commencement of Employment"]}.get(c.type, ["Effective Date", "Commencement Date", "Effective"])
        extra.append(f"{rng.choice(lab)}: {c.date_txt}")
    elif rng.random() < 0.3:
        extra.append(rng.choice(["Effective Date: on signature", "Effective Date: [to be inserted]", "Date: ____________"]))
    if c.term is not None:
        extra.append(f"{rng.choice(['Term', 'Initial Term', 'Duration'])}: {term_phrase(rng, c.term, False)}")
    elif c.null_term in ("until_terminated", "indefinite_emp", "nda_survival"):
        extra.append(f"{rng.choice(['Term', 'Duration'])}: {rng.choice(['until terminated on notice', 'indefinite, terminable on ' + str(rng.choice([30, 60, 90])) + ' days’ notice', 'open-ended'])}")
    elif c.null_term == "perpetual":
        extra.append("Term: perpetual")
    elif c.null_term == "at_will":
        extra.append("Term: at-will employment")
    if c.renew is True:
        extra.append(f"{rng.choice(['Renewal', 'Auto-renewal'])}: {rng.choice(['automatic, ' + renewal_period(rng), 'yes, unless ' + str(rng.choice([30, 60, 90])) + ' days’ notice of non-renewal', 'renews automatically'])}")
    elif c.renew is False:
        extra.append(f"{rng.choice(['Renewal', 'Auto-renewal'])}: {rng.choice(['none', 'no automatic renewal', 'not applicable – expires at end of term', 'by written agreement only'])}")
    if c.jur is not None:
        extra.append(f"{rng.choice(['Governing Law', 'Governing law', 'Law'])}: {rng.choice(c.jur['short'] + [rng.choice(c.jur['laws'])])}")
    elif c.forum_only is not None:
        extra.append(f"Jurisdiction: {rng.choice(c.forum_only['courts'])}")
    if c.type == "lease" and (rng.random() < 0.6 or clue_needed):
        extra.append(f"Premises: {address(rng, c.region_a)}")
        extra.append(f"Rent: {money(c.cur, rng.choice([1900, 2750, 4100, 7300]))} per month")
    if c.type == "employment" and (rng.random() < 0.6 or clue_needed):
        extra.append(f"Position: {rng.choice(JOBS)[0]}")
    if c.type == "supply" and (rng.random() < 0.6 or clue_needed):
        extra.append(f"Products: {rng.choice(PRODUCTS)}")
    if c.type == "license" and (rng.random() < 0.6 or clue_needed):
        k, tpl, xs = c.licensed
        extra.append(f"Licensed Rights: {tpl.format(x=rng.choice(xs)).split(' (')[0].replace('the ', '', 1)}; royalty {rng.choice(['4%', '6%', '10%'])} of Net Sales")
    if c.type == "msa" and (rng.random() < 0.6 or clue_needed):
        extra.append(f"Services: {rng.choice(SERVICES)} under SOWs")
    if c.type == "nda" and (rng.random() < 0.6 or clue_needed):
        extra.append(f"Purpose: {rng.choice(FIELDS)}")
    rng.shuffle(extra)
    lines += extra
    sep = "\n" if rng.random() < 0.8 else "; "
    if sep == "; ":
        return lines[0] + " — " + "; ".join(lines[1:]) + "."
    return "\n".join(lines)


def build_signature(c, rng):
    dt, ds = rel_date(rng, c, "near")
    who = c.namer.person()
    p = rng.choice(c.parties)
    if p["kind"] == "person":
        return ("signature", f"Signed by {p['shown']} on {ds}.")
    return ("signature", rng.choice([
        f"Signed for and on behalf of {p['shown']} by {who}, {rng.choice(['Director', 'CEO', 'Authorised Signatory', 'General Manager', 'VP Finance'])}, on {ds}.",
        f"IN WITNESS WHEREOF, the parties have executed this {c.agw}. For {p['shown']}: {who}, {rng.choice(['Director', 'Chief Operating Officer', 'Managing Director'])}. Date: {ds}"]))


# ---------------------------------------------------------------------------
# Assemble one excerpt
# ---------------------------------------------------------------------------
def make_parties(c, rng, namer, caps):
    t = c.type
    ja = c.jur
    home = ja["region"] if ja is not None and rng.random() < 0.65 else rng.choice(
        ["us", "us", "us", "uk", "uk", "de", "ca", "au", "sg", "ie", "nl", "fr", "ch", "hk", "se", "nz", "lu"])
    other = home if rng.random() < 0.6 else rng.choice(["us", "uk", "de", "ca", "au", "sg", "ie", "nl", "fr"])
    c.region_a, c.region_b = home, other
    roles = rng.choice(ROLES[t])
    if t == "lease" and c.title == "Licence to Occupy":
        roles = ("Licensor", "Licensee")
    if t == "lease" and c.title == "Sublease Agreement":
        roles = ("Sublandlord", "Subtenant")
    kinds = ["company", "company"]
    if t == "employment":
        kinds = ["company", "person"]
    elif t == "lease":
        kinds = [rng.choice(["company"] * 4 + ["person"]), rng.choice(["company"] * 3 + ["person"])]
    elif t == "msa" and roles[1] == "Consultant":
        kinds = ["company", rng.choice(["person", "company"])]
    elif t == "license":
        kinds = [rng.choice(["company"] * 5 + ["person"]), "company"]
    elif t == "nda":
        kinds = ["company", rng.choice(["company"] * 6 + ["person"])]
    parties = []
    for i, k in enumerate(kinds):
        reg = home if i == 0 else other
        if k == "person":
            name = namer.person()
        else:
            kind = "property" if (t == "lease" and i == 0 and rng.random() < 0.6) else "any"
            name = namer.company(reg, kind)
        parties.append(dict(name=name, kind=k, region=reg))
    p_roles = list(roles)
    c.three_style = None
    if c.n_parties == 3:
        if t == "license" and kinds[0] == "company" and rng.random() < 0.5:
            extra = dict(name=namer.company(home), kind="company", region=home)
            parties = [parties[0], extra, parties[1]]
            p_roles = [None, None, roles[1]]
            c.three_style = "licensors"
        elif t == "nda" and roles[0] is None:
            parties.append(dict(name=namer.company(rng.choice(["us", "uk", "de"])), kind="company", region=other))
            p_roles = [None, None, None]
        else:
            if rng.random() < 0.7:
                g = dict(name=namer.company(home), kind="company", region=home)
            else:
                g = dict(name=namer.person(), kind="person", region=home)
            parties.append(g)
            p_roles.append("Guarantor")
    # swap order sometimes (not for employment letters / licensor groups)
    if c.n_parties == 2 and rng.random() < 0.3 and not c.letter:
        parties = parties[::-1]
        p_roles = p_roles[::-1]
    c.role1, c.role2 = roles
    art = rng.random() < 0.45

    def ref(role):
        if role is None:
            return None
        if t == "employment" or role in ("Company", "Receiving Party", "Disclosing Party", "Employer") or art:
            return "the " + role
        return role
    c.r1, c.r2 = ref(roles[0]), ref(roles[1])
    # who pays / who provides (for general clauses)
    c.payer, c.payee = (c.r1, c.r2) if t == "msa" else (c.r2, c.r1)
    c.prov = c.r2 if t in ("msa", "lease") else c.r1
    # display forms
    for p in parties:
        the = False
        if p["kind"] == "company" and t in ("nda", "lease", "license", "msa") and rng.random() < 0.035:
            the = True
            p["name"] = rng.choice([f"{rng.choice(LAST)} Family Trust", f"Board of Trustees of {rng.choice(WORD_A)} College",
                                    f"{rng.choice(WORD_A)} Foundation", f"{rng.choice(LAST)} Charitable Trust",
                                    f"Regents of {rng.choice(WORD_A)} University"])
            namer.used.add(p["name"])
        name = p["name"]
        shown = name.upper() if caps else name
        if the:
            shown = ("THE " if caps else rng.choice(["The ", "the "])) + shown
        p["shown"] = shown
        p["target"] = name.upper() if caps else name
        p["desc"] = descriptor(rng, p["region"], p["kind"]) if rng.random() < 0.85 else None
    c.parties = parties
    c.p_roles = p_roles


def make_example(rng, namer, t, jkey, length_class):
    c = Ctx()
    c.namer = namer
    c.type = t
    c.jur = JBYKEY[jkey] if jkey else None
    c.letter = t == "employment" and rng.random() < 0.18
    c.kv = (length_class == "short" and rng.random() < 0.75) or (length_class == "normal" and rng.random() < 0.07)
    # title
    tr = rng.random()
    if c.letter:
        c.title = None
    elif tr < 0.58:
        c.title = rng.choice(TITLES[t])
    elif tr < 0.72:
        c.title = rng.choice(AMBIG_TITLES)
    else:
        c.title = None
    caps = rng.random() < 0.12
    c.quote_style = rng.choice(["straight"] * 6 + ["curly"] * 3 + ["single"])
    c.n_parties = 3 if (rng.random() < 0.1 and t != "employment") else 2
    c.date_in_preamble = rng.random() < 0.7
    make_parties(c, rng, namer, caps)
    uk = c.region_a in UK_SPELLING or (c.jur is not None and c.jur["region"] in UK_SPELLING)
    c.lic = "licence" if uk else "license"
    if c.title in ("Software Licence Agreement", "Trade Mark Licence", "Licence to Occupy"):
        c.lic = "licence"
    c.cur = CURRENCY[c.region_a]
    c.licensed = rng.choice(LICENSED)
    title_kind = {"Trademark License Agreement": "marks", "Trade Mark Licence": "marks", "Brand Licensing Agreement": "marks",
                  "Patent License Agreement": "patents", "Software License Agreement": "software", "Software Licence Agreement": "software",
                  "Content Licensing Agreement": "content", "Know-How License Agreement": "knowhow",
                  "Technology License Agreement": rng.choice(["patents", "knowhow", "software"])}.get(c.title)
    if title_kind:
        c.licensed = next(x for x in LICENSED if x[0] == title_kind)
    c.agw = {"lease": "Lease", "employment": "Agreement"}.get(t, "Agreement")
    if t == "lease" and c.title and "Licence" in c.title:
        c.agw = "Licence"
    if t == "lease" and c.title == "Tenancy Agreement":
        c.agw = "Agreement"
    if c.letter:
        c.agw = "letter"
    c.ag = f"This {c.agw}"
    c.anchor = {"lease": "Commencement Date", "employment": "Start Date"}.get(t, "Effective Date")
    if c.letter:
        c.anchor = "start date"
    # NDA side labels for fillers
    if t == "nda":
        c.disc = c.r1 or "the Disclosing Party"
        c.recp = c.r2 or "the Receiving Party"
    # fields
    has_date = rng.random() < 0.84
    c.date = None
    c.date_txt = None
    c.date_blank = False
    c.date_region = c.jur["region"] if (c.jur and rng.random() < 0.7) else c.region_a
    c.base_date = date(rng.randint(2016, 2026), rng.randint(1, 12), rng.randint(1, 28))
    if has_date:
        c.date, c.date_txt = pick_date(rng, c.date_region)
    else:
        c.date_blank = rng.random() < 0.5
    if c.letter and c.date is not None:
        c.date_in_preamble = True
    # term and renewal
    p_term = {"nda": 0.62, "msa": 0.72, "lease": 0.9, "employment": 0.35, "license": 0.6, "supply": 0.78}[t]
    if rng.random() < p_term:
        c.term = rng.choice({"nda": [12, 24, 24, 36, 60, 18], "msa": [12, 24, 36, 36, 48, 60, 18, 30],
                             "lease": [12, 24, 36, 60, 60, 84, 120, 18, 180], "employment": [6, 9, 12, 12, 18, 24, 36],
                             "license": [12, 24, 36, 60, 120, 84, 48], "supply": [12, 24, 36, 48, 60, 18, 30]}[t])
        c.null_term = None
        x = rng.random()
        if t == "employment":
            c.renew = False if x < 0.5 else None
        elif t == "lease":
            c.renew = True if x < 0.28 else (False if x < 0.68 else None)
        else:
            c.renew = True if x < 0.47 else (False if x < 0.74 else None)
    else:
        c.term = None
        c.renew = None
        c.null_term = rng.choice({"nda": ["until_terminated", "nda_survival", "nda_survival", "unstated"],
                                  "msa": ["until_terminated", "until_terminated", "unstated"],
                                  "lease": ["unstated"],
                                  "employment": ["at_will", "at_will", "indefinite_emp", "indefinite_emp", "unstated"],
                                  "license": ["perpetual", "perpetual", "until_terminated", "unstated"],
                                  "supply": ["until_terminated", "unstated"]}[t])
    # law distractors
    c.forum_only = None
    c.forum_mismatch = None
    pool = [j for j in J if j["tier"] != "heldout"]
    if c.jur is None and rng.random() < 0.25:
        c.forum_only = rng.choice(pool)
    if c.jur is not None and rng.random() < 0.1:
        c.forum_mismatch = rng.choice([j for j in pool if j["key"] != c.jur["key"]])

    compact = length_class == "short" or (length_class == "normal" and rng.random() < 0.25)
    if c.kv:
        text = build_kv(c, rng)
        text = stylise(c, rng, text)
    else:
        pre, date_here = build_preamble(c, rng, compact)
        core = []
        if c.date is not None and not date_here:
            core.append(eff_sentence(c, rng))
        core += build_term(c, rng, compact)
        core += build_law(c, rng, compact)
        if length_class == "short":
            target = rng.randint(24, 42)
        elif length_class == "long":
            target = rng.randint(200, 310)
        else:
            target = int(rng.triangular(45, 160, 95))
        pool_f = FILLERS[t] + [f for f in GENERAL if f in GENERAL_OK[t]]
        rng.shuffle(pool_f)
        # make sure type-specific clues appear early in the pool
        spec = [f for f in pool_f if f in FILLERS[t]]
        gen = [f for f in pool_f if f not in FILLERS[t]]
        ordered = spec[:2] + sorted(spec[2:] + gen, key=lambda _: rng.random())
        body = list(core)
        wc = len(pre.split()) + sum(len(x[1].split()) for x in body)
        # distractor dates / signature
        if c.date is not None and rng.random() < 0.3 and length_class != "short":
            sig = build_signature(c, rng)
        else:
            sig = None
        if sig:
            wc += len(sig[1].split())
        for f in ordered:
            if wc >= target:
                break
            k, txt = f(c, rng)
            n = len(txt.split())
            if wc + n > target + 15 and length_class != "long":
                continue
            body.append((k, txt))
            wc += n
        # without a type-revealing title, make sure at least one type-specific clause is present
        if c.title not in TITLES[t] and not ({k for k, _ in body} & TYPE_KINDS[t]):
            body.append(spec[0](c, rng))
        rng.shuffle(body)
        # governing law tends to sit near the end in real documents
        if rng.random() < 0.5:
            body.sort(key=lambda kt: kt[0] in ("law", "forum"))
        if sig:
            body.append(sig)
        text = assemble(c, rng, pre, body, compact)
    return c, text


def stylise(c, rng, text):
    text = re.sub(r"\b(month|week|day|year)' ", r"\1's ", text)  # "one (1) month' notice" -> "month's"
    text = re.sub(r'(^|[.!?:]\s+|\n\s*|\(\w\)\s|\d\.\d+\s)the ', lambda m: m.group(1) + "The ", text)
    qs = c.quote_style
    if qs == "curly":
        text = re.sub(r'"([^"\n]*)"', "“\\1”", text)
    elif qs == "single":
        text = re.sub(r'"([^"\n]*)"', "‘\\1’", text)
    return text


def roman(n):
    vals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    s = ""
    for v, r in vals:
        while n >= v:
            s += r
            n -= v
    return s


def assemble(c, rng, pre, body, compact):
    style = rng.choice(["num", "num", "section", "clause", "caps", "colon", "plain", "plain", "article", "sub", "letters"])
    if compact and rng.random() < 0.6:
        style = rng.choice(["plain", "run", "run"])
    start = rng.randint(1, 15)
    parts = []
    sub_major = rng.randint(2, 19)
    for i, (k, txt) in enumerate(body):
        if k == "signature":
            parts.append(txt)
            continue
        if k == "date" and c.type in ("lease", "employment"):
            k = "date_" + c.type
        h = rng.choice(HEADINGS.get(k, [""]))
        n = start + i
        if style == "num":
            parts.append(f"{n}. {h}. {txt}" if h else f"{n}. {txt}")
        elif style == "section":
            parts.append(f"Section {n}. {h}. {txt}" if h else f"Section {n}. {txt}")
        elif style == "clause":
            parts.append(f"Clause {n} – {h}: {txt}" if h else f"Clause {n}: {txt}")
        elif style == "caps":
            parts.append(f"{h.upper()}. {txt}" if h else txt)
        elif style == "colon":
            parts.append(f"{h}: {txt}" if h else txt)
        elif style == "article":
            parts.append(f"ARTICLE {roman(n)} – {h.upper()}\n{txt}" if h else txt)
        elif style == "sub":
            parts.append(f"{sub_major}.{i + 1} {txt}")
        elif style == "letters":
            parts.append(f"({'abcdefghijklmnopqrstuvwxyz'[i]}) {txt}")
        else:
            parts.append(txt)
    joiner = " " if style == "run" else rng.choice(["\n\n", "\n", "\n\n"])
    gap = ""
    if rng.random() < 0.22:
        gap = rng.choice(["[...]", "…", "* * *", "[Sections omitted]", "(...)"])
    if style == "sub":
        h = rng.choice(["GENERAL", "TERM AND TERMINATION", "MISCELLANEOUS", "Boilerplate", "General Provisions"])
        parts = [f"{sub_major}. {h}"] + parts
    out = pre
    if gap:
        out += "\n\n" + gap
    out += ("\n\n" if joiner != " " else " ") + joiner.join(parts)
    return stylise(c, rng, out.strip())


# ---------------------------------------------------------------------------
# Targets, splits, corpus
# ---------------------------------------------------------------------------
def target_of(c):
    parties = []
    for p in c.parties:
        parties.append(p["target"])
    obj = {
        "parties": parties,
        "contract_type": c.type,
        "effective_date": c.date.isoformat() if c.date is not None else None,
        "governing_law": c.jur["code"] if c.jur is not None else None,
        "term_months": c.term,
        "auto_renewal": c.renew,
    }
    assert list(obj) == list(KEYS)
    return obj


def quota(rng, n, shares):
    keys = list(shares)
    raw = {k: n * shares[k] for k in keys}
    counts = {k: int(raw[k]) for k in keys}
    rest = n - sum(counts.values())
    for k in sorted(keys, key=lambda k: -(raw[k] - counts[k]))[:rest]:
        counts[k] += 1
    out = [k for k in keys for _ in range(counts[k])]
    rng.shuffle(out)
    return out


def shingles(text):
    w = re.findall(r"[a-z0-9]+", text.lower())
    return {" ".join(w[i:i + 3]) for i in range(max(len(w) - 2, 1))}


def too_similar(sh, accepted, thr=0.42):
    for o in accepted:
        inter = len(sh & o)
        if inter and inter / (len(sh) + len(o) - inter) > thr:
            return True
    return False


def generate_examples():
    rng = random.Random(SEED)
    namer = Namer(rng)
    all_rows = {}
    accepted = []
    seen = set()
    next_id = 1
    for split, n in SPLITS:
        counts = COUNTS[split]
        assert sum(counts.values()) == n, (split, sum(counts.values()))
        jlist = [k for k in counts for _ in range(counts[k])]
        rng.shuffle(jlist)
        tlist = quota(rng, n, TYPE_SHARE)
        lens = quota(rng, n, {"short": 0.05, "normal": 0.85, "long": 0.10})
        rows = []
        for i in range(n):
            for attempt in range(60):
                c, text = make_example(rng, namer, tlist[i], jlist[i], lens[i])
                wc = len(text.split())
                if wc < 18 or wc > 320 or (lens[i] != "long" and wc > 185):
                    continue
                key = " ".join(text.lower().split())
                if key in seen:
                    continue
                sh = shingles(text)
                if too_similar(sh, accepted):
                    continue
                break
            else:
                raise RuntimeError("could not build a distinct example")
            seen.add(key)
            accepted.append(sh)
            tgt = target_of(c)
            gold = ([f"jur-{c.jur['key']}"] if c.jur is not None else []) + [f"type-{c.type}"]
            rows.append({"id": f"ctr-{next_id:05d}",
                         "messages": [{"role": "user", "content": text},
                                      {"role": "assistant", "content": json.dumps(tgt, ensure_ascii=False)}],
                         "gold_doc_ids": gold})
            next_id += 1
        all_rows[split] = rows
    return all_rows


TYPE_DOCS = {
    "nda": ("Contract type: nda (non-disclosure / confidentiality agreements)",
            "Canonical value: \"nda\". Use it for agreements whose main purpose is to protect information exchanged between the parties: "
            "non-disclosure agreements, confidentiality agreements or undertakings, secrecy agreements and confidential disclosure agreements (CDAs). "
            "Typical party roles: Disclosing Party / Receiving Party, Discloser / Recipient, or two parties that are each simply \"a Party\" in a mutual NDA. "
            "Clue words: Confidential Information, Purpose, return or destruction of materials, exclusions for public information, injunctive relief, no licence granted. "
            "Near neighbours: a master services, supply or licence agreement usually contains a confidentiality clause too; that does not make it an NDA. "
            "Choose nda only when confidentiality is the subject of the whole excerpt. Survival periods for the confidentiality obligations are not the term of the NDA."),
    "msa": ("Contract type: msa (master services, consulting and professional services agreements)",
            "Canonical value: \"msa\". Use it for agreements under which one party performs services for the other: master services agreements, professional or managed services "
            "agreements, framework services agreements, consulting agreements and independent contractor agreements (even when the contractor is an individual). "
            "Typical roles: Client or Customer versus Service Provider, Provider, Contractor, Consultant, Vendor or Supplier (of services). "
            "Clue words: Services, Statement of Work (SOW), Deliverables, acceptance testing, day rates, time-and-materials, service levels, service credits, key personnel. "
            "Near neighbours: a supply agreement sells goods (Products, purchase orders, delivery, Incoterms); an employment agreement makes the individual an employee with salary "
            "and holiday. A consultant paid fees under an SOW is msa, not employment."),
    "lease": ("Contract type: lease (leases, tenancies, subleases, licences to occupy)",
              "Canonical value: \"lease\". Use it for agreements giving a right to occupy real property: commercial and office leases, retail and warehouse leases, tenancy agreements, "
              "subleases and licences to occupy. Typical roles: Landlord / Tenant, Lessor / Lessee, Sublandlord / Subtenant, and for a licence to occupy Licensor / Licensee. "
              "Clue words: Premises, Rent, security deposit, service charge, rent review, permitted use, repairs, break option, Commencement Date. "
              "Near neighbours: a 'Licence to Occupy' uses the words Licensor and Licensee but concerns premises and a fee for occupation, so it is a lease, not a license. "
              "An option to renew or extend the lease that the tenant must exercise is not an automatic renewal."),
    "employment": ("Contract type: employment (employment contracts and offer letters)",
                   "Canonical value: \"employment\". Use it for contracts under which an individual becomes an employee: employment agreements, executive employment agreements, "
                   "contracts of employment, statements of main terms of employment, fixed-term employment contracts and offer letters. "
                   "Typical roles: Company or Employer versus Employee or Executive; the employee is always a natural person. "
                   "Clue words: position and duties, reports to, base salary per annum, bonus, holiday or annual leave, probationary period, pension, stock options, at-will employment, restrictive covenants. "
                   "Near neighbours: consulting and independent contractor agreements are msa. Probation, notice and non-compete periods are not the term; at-will or open-ended employment has term_months null."),
    "license": ("Contract type: license (intellectual-property licences)",
                "Canonical value: \"license\" (US spelling, even when the excerpt writes 'licence'). Use it for agreements that grant rights to use intellectual property: software licences, "
                "trademark and brand licences, patent licences, technology and know-how licences, content licensing agreements. "
                "Typical roles: Licensor / Licensee, sometimes two co-owners together called the Licensors. "
                "Clue words: grant of licence, exclusive or non-exclusive, Territory, royalties on Net Sales, minimum annual royalty, licence fee, sublicensing, Licensed Marks, Licensed Patents, Licensed Software. "
                "Near neighbours: a 'Licence to Occupy' premises is a lease. A perpetual licence has term_months null."),
    "supply": ("Contract type: supply (supply, manufacturing and distribution of goods)",
               "Canonical value: \"supply\". Use it for agreements to sell and deliver goods over time: supply agreements, master supply or purchase-and-supply agreements, component supply, "
               "manufacturing and supply agreements, and distribution agreements under which the distributor buys products from the manufacturer. "
               "Typical roles: Supplier, Seller, Manufacturer or Vendor versus Buyer, Purchaser, Customer or Distributor. "
               "Clue words: Products, Specifications, purchase orders, forecasts, lead time, delivery, Incoterms (EXW, FCA, DAP, DDP, CIF), unit price, minimum purchase quantity, inspection and rejection, product warranty. "
               "Near neighbours: services under statements of work are msa. A product warranty period (for example 18 months from delivery) is not the term."),
}

RULES_DOC = ("rules-fields", "Field rules for contract extraction (output format, dates, term, renewal)",
             "Output one JSON object with keys in this order: parties, contract_type, effective_date, governing_law, term_months, auto_renewal. "
             "parties: the contracting parties as named in the party wording, in order of appearance, without descriptors (', a Delaware corporation'), without role labels ('(\"Licensee\")'), "
             "and without a leading 'the'; keep the excerpt's capitalisation (ALL CAPS stays ALL CAPS). Signatories, affiliates and third parties mentioned elsewhere are not parties; a guarantor named in the party wording is. "
             "effective_date: ISO YYYY-MM-DD. Use the date the agreement is made, dated or takes effect, or the stated commencement / start date. Never use signature-block dates, dates of prior agreements, "
             "amendment dates, offer-letter dates, rent review dates or blanks such as '____ 20__'; if no such date is stated, null. "
             "governing_law: the house code of the jurisdiction whose law governs the agreement; a forum, court or arbitration seat alone, or a party's place of incorporation or address, is not a governing-law choice (null). "
             "term_months: the initial fixed duration in months (years x 12; 'until the third anniversary' = 36). Null for at-will, open-ended, until-terminated or perpetual agreements and when no duration is stated. "
             "Notice periods, survival periods, renewal periods, probation, non-compete, warranty, rent-review and vesting periods never count. "
             "auto_renewal: true when the agreement renews or continues automatically unless a party gives notice; false when it states that it expires, will not renew automatically, "
             "or can be renewed only by a party exercising an option or signing a written extension; null when renewal is not addressed.")


def corpus_docs():
    docs = []
    for j in J:
        spell = j["laws"] + [s for s in j["short"] if s not in j["laws"]] + j["extra"]
        place = j["name"] if j["country"] in j["name"] else f"{j['name']} ({j['country']})"
        text = (f"Jurisdiction: {place}. House governing-law code: {j['code']}. "
                f"Output {j['code']} as governing_law whenever the governing-law clause selects this jurisdiction's law. "
                f"Spellings and phrasings that mean this jurisdiction: " + "; ".join(f"'{s}'" for s in spell) + ". "
                f"Qualifiers such as 'without regard to its conflict of laws principles' or an exclusion of the CISG do not change the code. "
                f"Courts and forum wording often seen with it: " + "; ".join(j["courts"]) + ". A forum or arbitration clause on its own is not a choice of law. "
                f"Note: {j['note']}")
        docs.append({"id": f"jur-{j['key']}", "title": f"Governing law code {j['code']}: {j['name']}", "text": text})
    for t in TYPES:
        title, text = TYPE_DOCS[t]
        docs.append({"id": f"type-{t}", "title": title, "text": text})
    docs.append({"id": RULES_DOC[0], "title": RULES_DOC[1], "text": RULES_DOC[2]})
    code_table = "House governing-law code table (jurisdiction: code): " + "; ".join(
        f"{j['name']}: {j['code']}" for j in J) + ". Codes are internal identifiers; the number part carries no meaning and cannot be derived from the name."
    docs.append({"id": "codes-index", "title": "Index of house governing-law codes", "text": code_table})
    return docs


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    rows = generate_examples()
    for split, _ in SPLITS:
        write_jsonl(os.path.join(HERE, "data", f"{split}.jsonl"), rows[split])
    write_jsonl(os.path.join(HERE, "corpus", "documents.jsonl"), corpus_docs())
    for split, _ in SPLITS:
        print(f"{split}: {len(rows[split])}")


if __name__ == "__main__":
    main()
