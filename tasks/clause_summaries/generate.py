#!/usr/bin/env python3
"""Generate the synthetic `clause_summaries` generation task (standard library only).

Run from the repository root:

    python tasks/clause_summaries/generate.py

It rewrites, byte-for-byte identically on every run,

    tasks/clause_summaries/data/train.jsonl       (240 examples)
    tasks/clause_summaries/data/validation.jsonl  (40 examples)
    tasks/clause_summaries/data/test.jsonl        (80 examples)

Each example pairs one contract clause with a one- or two-sentence plain-language
summary. Clause and summary are generated from the same parameters (parties, notice
periods, amounts, caps), so every number in the summary matches the clause.
"""
from __future__ import annotations

import json
import os
import random
import re
import sys

SEED = 77031
HERE = os.path.dirname(os.path.abspath(__file__))
SPLITS = (("train", 240), ("validation", 40), ("test", 80))

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return TENS[t] + ("-" + ONES[o] if o else "")
    h, r = divmod(n, 100)
    return ONES[h] + " hundred" + (" and " + words(r) if r else "")


def legal(rng, n, unit):
    """Clause style: 'thirty (30) days', 'thirty days' or '30 days'."""
    u = unit if n != 1 else unit[:-1]
    x = rng.random()
    if x < 0.5:
        return f"{words(n)} ({n}) {u}"
    if x < 0.75:
        return f"{words(n)} {u}"
    return f"{n} {u}"


def plain(n, unit):
    """Summary style: '30 days', 'one month'."""
    u = unit if n != 1 else unit[:-1]
    if n <= 10 and unit in ("months", "years", "weeks"):
        return f"{words(n)} {u}"
    return f"{n} {u}"


def cap(s):
    return s[0].upper() + s[1:]


# party pairs: (provider-side role, customer-side role)
PAIRS = [("Supplier", "Customer"), ("Service Provider", "Client"), ("Licensor", "Licensee"), ("Contractor", "Company"),
         ("Vendor", "Purchaser"), ("Consultant", "Client"), ("Provider", "Customer"), ("Seller", "Buyer"),
         ("Agency", "Client"), ("Processor", "Controller"), ("Distributor", "Manufacturer"), ("Developer", "Customer")]
CURS = [("$", "USD"), ("£", "GBP"), ("€", "EUR")]


class P:
    def __init__(self, rng, pair=None):
        self.rng = rng
        a, b = pair or rng.choice(PAIRS)
        self.A, self.B = a, b
        art = rng.random() < 0.7
        self.tA = ("the " if art else "") + a   # as written in the clause
        self.tB = ("the " if art else "") + b
        self.a = "the " + a.lower()             # as written in the summary
        self.b = "the " + b.lower()
        self.cur = rng.choice(CURS)[0]
        self.agr = rng.choice(["Agreement", "Agreement", "Contract", "Master Agreement"])

    def money(self, n):
        return f"{self.cur}{n:,}"


def fmt(text, p):
    return text.replace("{A}", p.tA).replace("{B}", p.tB).replace("{Agr}", p.agr)


# ---------------------------------------------------------------------------
# Clause families. Each returns (clause, summary).
# ---------------------------------------------------------------------------
def termination_convenience(rng):
    p = P(rng)
    n = rng.choice([14, 30, 30, 45, 60, 90, 120, 180])
    unit_days = rng.random() < 0.75 or n % 30
    nd = legal(rng, n, "days") if unit_days else legal(rng, n // 30, "months")
    pn = plain(n, "days") if unit_days else plain(n // 30, "months")
    who = rng.choice(["either", "B", "A"])
    fees = rng.random() < 0.5
    refund = rng.random() < 0.35
    subj = {"either": "Either party", "B": cap(p.tB), "A": cap(p.tA)}[who]
    other = {"either": "the other party", "B": p.tA, "A": p.tB}[who]
    t = rng.choice([
        f"{subj} may terminate this {{Agr}} for convenience at any time by giving {nd}' prior written notice to {other}.",
        f"{subj} may terminate this {{Agr}} without cause upon {nd}' written notice to {other}.",
        f"Notwithstanding any other provision of this {{Agr}}, {subj[0].lower() + subj[1:] if who == 'either' else subj} shall be entitled to terminate this {{Agr}}, in whole or in part, for any reason or no reason, by serving not less than {nd}' notice in writing on {other}.",
        f"This {{Agr}} may be terminated by {subj[0].lower() + subj[1:] if who == 'either' else subj} at its discretion on {nd}' notice in writing, such termination to take effect on the expiry of the notice period."])
    if fees:
        t += " " + rng.choice([f"{cap(p.tB)} shall pay all fees accrued up to the effective date of termination.",
                               f"Termination shall not relieve {p.tB} of its obligation to pay for Services performed before the termination date."])
    if refund:
        t += " " + f"{cap(p.tA)} shall refund any fees paid in advance for the period after termination."
    who_s = {"either": "Either side", "B": cap(p.b), "A": cap(p.a)}[who]
    s = rng.choice([f"{who_s} can end the agreement at any time, without giving a reason, by giving {pn}' written notice.",
                    f"{who_s} may cancel the contract for any reason with {pn}' notice in writing."])
    if fees:
        s += rng.choice([f" {cap(p.b)} still has to pay for work done up to the end date.", f" Fees owed up to the termination date must still be paid."])
    if refund:
        s += f" Prepaid fees for the period after termination are refunded."
    return fmt(t, p), s


def payment_terms(rng):
    p = P(rng)
    n = rng.choice([14, 15, 30, 30, 45, 60, 90])
    sched = rng.choice(["monthly in arrears", "monthly in advance", "quarterly in advance", "on completion of each milestone", "annually in advance"])
    interest = rng.choice([None, "1% per month", "1.5% per month", "4% per annum above the base rate", "8% per annum"])
    dispute = rng.choice([None, 10, 15, 30])
    susp = rng.choice([None, None, 15, 30, 45])
    t = rng.choice([
        f"{{A}} shall invoice {{B}} {sched}. {cap(p.tB)} shall pay each undisputed invoice within {legal(rng, n, 'days')} of the date of invoice.",
        f"Fees are invoiced {sched} and are payable in full, without set-off or deduction, within {legal(rng, n, 'days')} after receipt of a valid invoice.",
        f"All amounts due under this {{Agr}} shall be paid by {{B}} within {legal(rng, n, 'days')} from the invoice date. Invoices will be issued {sched}."])
    s = rng.choice([f"{cap(p.a)} bills {sched} and {p.b} must pay within {plain(n, 'days')} of the invoice.",
                    f"Invoices are sent {sched} and are due {plain(n, 'days')} after they are issued."])
    if dispute:
        t += f" If {{B}} disputes an invoice in good faith, it must notify {{A}} in writing within {legal(rng, dispute, 'days')} of receipt, and pay the undisputed portion when due."
        s += f" Any dispute about an invoice must be raised within {plain(dispute, 'days')}, and the undisputed part still has to be paid on time."
    if interest:
        t += f" Late payments shall bear interest at {interest} from the due date until paid."
        s += f" Late payments attract interest of {interest}."
    if susp:
        t += f" {cap(p.tA)} may suspend performance if any amount remains unpaid more than {legal(rng, susp, 'days')} after its due date."
        s += f" If a payment is more than {plain(susp, 'days')} overdue, {p.a} can suspend the service."
    return fmt(t, p), s


def confidentiality(rng):
    p = P(rng)
    yrs = rng.choice([2, 3, 5, 5, 7, 10])
    trade = rng.random() < 0.45
    advisers = rng.random() < 0.5
    ret = rng.random() < 0.4
    oneway = rng.random() < 0.35
    if oneway:
        t = rng.choice([
            f"{cap(p.tA)} shall treat as confidential all information relating to {p.tB}'s business, customers and finances that it obtains in performing this {{Agr}}, and shall not disclose it to any person or use it for any other purpose.",
            f"All information supplied by {p.tB} to {p.tA} in connection with this {{Agr}} is confidential, and {p.tA} shall protect it using no less than reasonable care."])
        s = rng.choice([f"{cap(p.a)} must keep {p.b}'s business information secret and use it only for this contract",
                        f"Anything {p.b} shares with {p.a} is confidential: {p.a} can't pass it on or use it for anything else"])
    else:
        t = rng.choice([
            "Each party shall keep confidential all Confidential Information of the other party and shall not use it except to perform its obligations under this {Agr}.",
            "The receiving party shall hold the disclosing party's Confidential Information in strict confidence, use it solely for the purposes of this {Agr}, and protect it with at least the same degree of care it uses for its own confidential information, and no less than reasonable care.",
            "Neither party shall disclose any Confidential Information received from the other party to any third party, or use it for any purpose other than the performance of this {Agr}.",
            "\"Confidential Information\" means all non-public information, in any form, disclosed by one party to the other, including pricing, know-how and customer lists. The recipient must not disclose it or use it outside this {Agr}.",
            "Both parties undertake to keep secret the terms of this {Agr} and any information about the other party's business obtained under it."])
        s = rng.choice(["Both sides must keep each other's confidential information secret and use it only for this contract",
                        "Each party has to keep the other's confidential information private and only use it to perform the agreement",
                        "Neither side can share the other's non-public information or use it for anything outside the contract"])
    if advisers:
        t += " " + rng.choice(["Disclosure is permitted to employees, officers and professional advisers who need to know it and are bound by equivalent obligations.",
                               "A party may share Confidential Information with its staff, auditors and legal advisers on a need-to-know basis, provided it remains responsible for their compliance."])
    if rng.random() < 0.35:
        t += " These restrictions do not apply to information that is or becomes public other than through a breach of this clause, or that must be disclosed by law."
        excl = True
    else:
        excl = False
    t += " " + rng.choice([f"These obligations continue for {legal(rng, yrs, 'years')} after termination of this {{Agr}}",
                           f"This clause survives for {legal(rng, yrs, 'years')} following the end of this {{Agr}}"]) + (", and indefinitely in respect of trade secrets." if trade else ".")
    if ret:
        t += " On request, the receiving party shall return or destroy all Confidential Information in its possession."
    s += f", for {plain(yrs, 'years')} after it ends" + (", and forever for trade secrets." if trade else ".")
    extra = []
    if advisers:
        extra.append("staff and advisers who need to know can see it")
    if excl:
        extra.append("public information and legally required disclosures are excluded")
    if ret:
        extra.append("it must be returned or destroyed on request")
    if extra:
        s += " " + cap("; ".join(extra)) + "."
    return fmt(t, p), s


def indemnity(rng):
    p = P(rng)
    scope = rng.choice(["ip", "breach", "negligence", "data"])
    conditions = rng.random() < 0.6
    what = {"ip": ("any claim that the Deliverables infringe the intellectual property rights of a third party", "third-party claims that its deliverables infringe someone else's intellectual property"),
            "breach": ("any breach of this {Agr} by {A} or its personnel", "losses caused by its own breach of the contract"),
            "negligence": ("death, personal injury or damage to property caused by the negligence of {A} or its subcontractors", "injury, death or property damage caused by its negligence or that of its subcontractors"),
            "data": ("any breach of {A}'s data protection obligations under this {Agr}", "breaches of its data protection obligations")}[scope]
    t = rng.choice([
        f"{cap(p.tA)} shall indemnify, defend and hold harmless {p.tB} and its officers and employees from and against all losses, damages, costs and expenses (including reasonable legal fees) arising out of {what[0]}.",
        f"{cap(p.tA)} agrees to indemnify {p.tB} against any and all liabilities, claims and costs resulting from {what[0]}.",
        f"{cap(p.tA)} will defend {p.tB} against {what[0]} and pay any damages and costs finally awarded or agreed in settlement."])
    if conditions:
        t += " " + rng.choice([f"This indemnity applies only if {p.tB} notifies {p.tA} promptly of the claim, allows {p.tA} to control the defence and settlement, and provides reasonable assistance.",
                               f"{cap(p.tB)} must give prompt written notice of any claim, must not admit liability, and must let {p.tA} conduct the defence."])
    s = rng.choice([f"{cap(p.a)} must cover {p.b}'s costs and losses from {what[1]}.",
                    f"{cap(p.a)} will protect {p.b} against, and pay for, {what[1]}."])
    if conditions:
        s += rng.choice([f" To rely on this, {p.b} must tell {p.a} about a claim promptly and let it handle the defence.",
                         f" {cap(p.b)} has to report any claim quickly and let {p.a} run the defence."])
    return fmt(t, p), s


def limitation(rng):
    p = P(rng)
    mode = rng.choice(["fees", "fees", "fixed", "multiple"])
    months = rng.choice([6, 12, 12, 24])
    amount = rng.choice([50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000])
    mult = rng.choice([1, 2, 3])
    carve = rng.random() < 0.6
    indirect = rng.random() < 0.7
    if mode == "fees":
        capc = f"the total fees paid or payable by {{B}} in the {legal(rng, months, 'months')} preceding the event giving rise to the claim"
        caps = f"the fees {p.b} paid in the {plain(months, 'months')} before the claim"
    elif mode == "fixed":
        capc = p.money(amount)
        caps = p.money(amount)
    else:
        capc = {1: "the annual fees", 2: "twice the annual fees", 3: "three times the annual fees"}[mult] + " payable under this {Agr}"
        caps = {1: "one year's fees", 2: "twice the annual fees", 3: "three times the annual fees"}[mult]
    t = rng.choice([
        f"Each party's total aggregate liability arising out of or in connection with this {{Agr}}, whether in contract, tort (including negligence) or otherwise, shall not exceed {capc}.",
        f"Subject to the exclusions below, the maximum liability of either party under this {{Agr}} shall be limited to {capc}.",
        f"In no event shall either party's cumulative liability under or in connection with this {{Agr}} exceed {capc}."])
    s = rng.choice([f"Each side's total liability under the contract is capped at {caps}.",
                    f"Neither party can be made to pay more than {caps} in total for claims under the agreement."])
    if indirect:
        t += " " + rng.choice(["Neither party shall be liable for any indirect or consequential loss, or for any loss of profits, revenue, data or goodwill.",
                               "In no event shall either party be liable for loss of profit, loss of business, or any special, indirect or consequential damages."])
        s += rng.choice([" Indirect losses such as lost profits can't be claimed at all.", " Lost profits and other indirect losses are excluded."])
    if carve:
        t += " " + rng.choice(["Nothing in this clause limits liability for fraud, death or personal injury caused by negligence, or any liability that cannot be limited by law.",
                               "These limits do not apply to breach of confidentiality, a party's indemnity obligations, or fraud."])
        s += rng.choice([" The cap doesn't apply to fraud, death or personal injury.", " Some claims, such as fraud, aren't capped."])
    return fmt(t, p), s


def assignment(rng):
    p = P(rng)
    aff = rng.random() < 0.55
    sub = rng.random() < 0.4
    unreasonable = rng.random() < 0.5
    t = rng.choice([
        "Neither party may assign, transfer or novate any of its rights or obligations under this {Agr} without the prior written consent of the other party",
        f"{cap(p.tB)} shall not assign or otherwise transfer this {{Agr}}, in whole or in part, without {p.tA}'s prior written consent",
        "This {Agr} may not be assigned by either party without the written consent of the other"])
    t += (", such consent not to be unreasonably withheld or delayed." if unreasonable else ".")
    if aff:
        t += " " + "However, either party may assign this {Agr} without consent to an affiliate or to a successor in connection with a merger, acquisition or sale of all or substantially all of its assets."
    if sub:
        t += " " + f"{cap(p.tA)} may subcontract any of its obligations, but remains fully responsible for the acts and omissions of its subcontractors."
    if "shall not assign or otherwise" in t:
        s = f"{cap(p.b)} can't transfer the contract to anyone else without {p.a}'s written permission"
    else:
        s = rng.choice(["Neither side can pass the contract on to someone else without the other's written agreement",
                        "You can't hand the contract over to another company unless the other side agrees in writing"])
    s += (", which can't be unreasonably refused." if unreasonable else ".")
    if aff:
        s += " Transfers to an affiliate or as part of a merger or sale of the business are allowed without consent."
    if sub:
        s += f" {cap(p.a)} may use subcontractors but stays responsible for their work."
    return fmt(t, p), s


def non_compete(rng):
    m = rng.choice([6, 9, 12, 12, 18, 24])
    area = rng.choice([("within 25 miles of any office of the Company", "within 25 miles of any company office"),
                       ("in the United Kingdom", "in the UK"), ("in any country in which the Company operates", "in any country where the company operates"),
                       ("within the Territory", "within the contract territory"), ("in the State of Texas", "in Texas"),
                       ("within a 10 km radius of the Premises", "within 10 km of the premises")])
    style = rng.choice(["employee", "employee2", "sale", "consultant", "franchise"])
    solicit = rng.random() < 0.45
    garden = rng.random() < 0.3
    if style == "employee":
        role = rng.choice(["Employee", "Executive"])
        t = f"For a period of {legal(rng, m, 'months')} after the termination of their employment, the {role} shall not, directly or indirectly, engage in or be employed by any business that competes with the Company {area[0]}."
        s = f"For {plain(m, 'months')} after leaving, the {role.lower()} can't work for or run a competing business {area[1]}."
        who = "they"
    elif style == "employee2":
        role = "Employee"
        t = f"You agree that for {legal(rng, m, 'months')} following the end of your employment you will not be engaged, concerned or interested in any business {area[0]} that competes with any part of the Company's business in which you worked during your last year of employment."
        s = f"For {plain(m, 'months')} after the job ends you can't be involved in a business {area[1]} that competes with the parts of the company you worked in during your last year."
        who = "you"
    elif style == "sale":
        yrs = rng.choice([2, 3, 5])
        role = "Seller"
        t = f"In consideration of the Purchase Price, the Seller covenants with the Buyer that it shall not, for {legal(rng, yrs, 'years')} after Completion, carry on or be interested in any business {area[0]} that competes with the Business."
        s = f"Having sold the business, the seller can't run or invest in a competing business {area[1]} for {plain(yrs, 'years')} after completion."
        who = "it"
    elif style == "consultant":
        role = "Consultant"
        t = f"During the Engagement and for {legal(rng, m, 'months')} after it ends, the Consultant shall not provide services to any of the competitors listed in Schedule {rng.randint(2, 5)} without the Client's prior written consent."
        s = f"While working for the client and for {plain(m, 'months')} afterwards, the consultant can't work for the competitors named in the schedule without written permission."
        who = "they"
    else:
        role = "Franchisee"
        t = f"The Franchisee shall not, during the term of the Franchise Agreement and for {legal(rng, m, 'months')} after its expiry or termination, operate any competing business {area[0]}."
        s = f"The franchisee can't run a competing business {area[1]} during the franchise or for {plain(m, 'months')} after it ends."
        who = "it"
    if solicit:
        t += f" During the same period the {role} shall not solicit or entice away any customer or employee of the {'Company' if style not in ('sale', 'consultant', 'franchise') else ('Business' if style == 'sale' else ('Client' if style == 'consultant' else 'Franchisor'))} with whom {who} had material dealings."
        t = t.replace("During the same period the Employee shall not solicit", "During the same period you shall not solicit") if style == "employee2" else t
        s += " During that time they also can't poach customers or staff they dealt with."
    if garden and style in ("employee", "employee2"):
        t += " The restricted period shall be reduced by any period spent on garden leave."
        s += " Any garden leave counts towards that period."
    return t, s


def limited_warranty(rng):
    p = P(rng, rng.choice([("Supplier", "Customer"), ("Seller", "Buyer"), ("Manufacturer", "Distributor"), ("Vendor", "Purchaser")]))
    m = rng.choice([3, 6, 12, 12, 18, 24, 36])
    notify = rng.choice([None, 14, 30])
    unit_days = m == 3 and rng.random() < 0.5
    per = legal(rng, 90, "days") if unit_days else legal(rng, m, "months")
    pper = "90 days" if unit_days else plain(m, "months")
    t = rng.choice([
        f"{cap(p.tA)} warrants that the Products will conform to the Specifications and be free from defects in materials and workmanship for {per} from the date of delivery.",
        f"For {per} after delivery (the \"Warranty Period\"), {p.tA} warrants that the Products will be free from material defects and will perform substantially in accordance with their documentation."])
    t += " " + rng.choice([f"{cap(p.tA)}'s sole obligation, and {p.tB}'s exclusive remedy, for breach of this warranty is, at {p.tA}'s option, to repair or replace the defective Products or refund the price paid for them.",
                           f"If a Product fails to comply with this warranty, {p.tA} shall repair or replace it free of charge."])
    exclusive = "exclusive remedy" in t
    s = f"{cap(p.a)} promises the products will be free of defects for {pper} after delivery" + (
        "; if not, it will repair, replace or refund them, and that is the buyer's only remedy." if exclusive else " and will repair or replace faulty ones for free.")
    if notify:
        t += f" {cap(p.tB)} must notify {p.tA} in writing of any defect within {legal(rng, notify, 'days')} of discovering it."
        s += f" Defects must be reported within {plain(notify, 'days')} of being found."
    if rng.random() < 0.4:
        t += " The warranty does not cover damage caused by misuse, accident or unauthorised modification."
        s += " Misuse and unauthorised changes aren't covered."
    return fmt(t, p), s


def survival(rng):
    p = P(rng)
    items = rng.sample(["confidentiality", "limitation of liability", "indemnities", "intellectual property", "payment of accrued fees",
                        "governing law and jurisdiction", "audit rights"], rng.choice([3, 4]))
    yrs = rng.choice([None, 2, 3, 5])
    t = f"Termination or expiry of this {{Agr}} shall not affect any rights or remedies that have accrued as at the date of termination. The clauses relating to {', '.join(items[:-1])} and {items[-1]} shall survive termination"
    s = f"Ending the contract doesn't cancel rights already built up, and the terms on {', '.join(items[:-1])} and {items[-1]} keep applying afterwards"
    if yrs:
        t += f" for a period of {legal(rng, yrs, 'years')}."
        s += f" for {plain(yrs, 'years')}."
    else:
        t += " and continue in full force and effect."
        s += "."
    return fmt(t, p), s


def force_majeure(rng):
    p = P(rng)
    notice = rng.choice([None, 2, 3, 5, 7, 10])
    term = rng.choice([None, 30, 60, 90, 120, 180])
    pay = rng.random() < 0.5
    events = rng.sample(["fire", "flood", "earthquake", "pandemic", "war", "terrorism", "riot", "government action",
                         "industry-wide strikes", "failure of public utilities", "cyber-attacks on third-party infrastructure"], 4)
    ev = ", ".join(events[:-1]) + " or " + events[-1]
    t = rng.choice([
        f"Neither party shall be liable for any failure or delay in performing its obligations to the extent caused by events beyond its reasonable control, including {ev}.",
        f"A party is not in breach of this {{Agr}} and is not liable for delay or non-performance caused by a Force Majeure Event, meaning any circumstance outside its reasonable control such as {ev}.",
        f"If a party is prevented or delayed in performing by {ev} or any other cause beyond its reasonable control, its affected obligations are suspended for as long as that cause continues.",
        f"\"Force Majeure Event\" means {ev} or any similar event beyond a party's reasonable control. A party affected by a Force Majeure Event shall be excused from performance to the extent it is prevented from performing."])
    s = rng.choice([f"Neither side is liable for delays or failures caused by events outside its control, such as {events[0]} or {events[1]}.",
                    f"If something outside a party's control (for example {events[2]} or {events[3]}) stops it performing, it isn't liable for the delay.",
                    f"Events beyond a party's control, like {events[0]} or {events[3]}, excuse it from performing while they last."])
    if notice:
        t += " " + rng.choice([f"The affected party shall notify the other within {legal(rng, notice, 'days')} of the event starting and use reasonable efforts to mitigate its effects.",
                               f"It must give written notice to the other party within {legal(rng, notice, 'days')}, stating the cause and the expected duration of the delay.",
                               f"Relief is available only if the affected party informs the other party in writing within {legal(rng, notice, 'days')}."])
        s += f" The affected party must tell the other side within {plain(notice, 'days')}."
    if term:
        t += " " + rng.choice([f"If the event continues for more than {legal(rng, term, 'days')}, either party may terminate this {{Agr}} by written notice.",
                               f"Should the Force Majeure Event last longer than {legal(rng, term, 'consecutive days')}, the unaffected party may end this {{Agr}} immediately on written notice.",
                               f"Where performance is suspended for a continuous period exceeding {legal(rng, term, 'days')}, either party may terminate without liability."])
        s += rng.choice([f" If it lasts more than {plain(term, 'days')}, the contract can be ended.", f" After {plain(term, 'days')} of disruption, either side can walk away."])
    if pay:
        t += " " + rng.choice(["This clause does not excuse any obligation to pay money when due.", "Payment obligations are not affected by this clause.",
                               f"{cap(p.tB)} remains obliged to pay for Services already performed."])
        s += rng.choice([" Payment obligations are not suspended.", " Money that is owed must still be paid."])
    return fmt(t, p), s


def warranty_disclaimer(rng):
    p = P(rng)
    caps = rng.random() < 0.5
    express = rng.random() < 0.5
    consumer = rng.random() < 0.3
    thing = rng.choice(["the Services and Software", "the Platform", "the Products", "any beta features", "the data feeds", "the Deliverables"])
    t = rng.choice([
        f"Except as expressly set out in this {{Agr}}, {thing} are provided \"as is\" and \"as available\", and {{A}} disclaims all other warranties, express or implied, including any implied warranties of merchantability, fitness for a particular purpose, title and non-infringement.",
        f"{cap(p.tA)} does not warrant that {thing} will be uninterrupted, secure or error-free, or that defects will be corrected.",
        f"All warranties, conditions and other terms implied by statute or common law in relation to {thing} are, to the fullest extent permitted by law, excluded from this {{Agr}}.",
        f"{cap(thing)} are supplied without warranty of any kind, and {p.tB} assumes all risk as to their quality, results and performance.",
        f"No representation or warranty is given by {{A}} as to the accuracy, completeness or suitability for any purpose of {thing}."])
    if express:
        t += " " + rng.choice([f"{cap(p.tA)} warrants only that the Services will be performed with reasonable skill and care.",
                               f"The only warranty given is that {thing} will substantially conform to the Documentation for ninety (90) days."])
    if consumer:
        t += " Nothing in this clause affects any statutory rights that cannot be excluded."
    if caps:
        t = t.upper()
    s = rng.choice([f"{cap(thing.replace('the ', 'the ', 1))} come 'as is': {p.a} gives no promises beyond what the contract expressly says.",
                    f"Apart from what's written in the contract, {p.a} makes no guarantees about {thing.lower()}, for example that they will be error-free or suit {p.b}'s needs.",
                    f"{cap(p.b)} uses {thing.lower()} at its own risk; {p.a} excludes all implied promises about quality and fitness for purpose."])
    if express:
        s += " The only promise is " + ("that the services will be done with reasonable skill and care." if "skill" in t.lower() else "that they will broadly match the documentation for 90 days.")
    if consumer:
        s += " Legal rights that can't be excluded still apply."
    if caps:
        return t.replace("{A}", p.tA.upper()).replace("{AGR}", p.agr.upper()), s
    return fmt(t, p), s


def governing_law(rng):
    p = P(rng)
    law = rng.choice([("the laws of England and Wales", "English law", "the courts of England and Wales", "English courts"),
                      ("the laws of the State of New York", "New York law", "the state and federal courts located in New York County", "New York courts"),
                      ("the laws of Ireland", "Irish law", "the Irish courts", "Irish courts"),
                      ("the laws of Singapore", "Singapore law", "the courts of Singapore", "Singapore courts"),
                      ("the laws of the Province of Ontario", "Ontario law", "the courts of Ontario sitting in Toronto", "Ontario courts"),
                      ("the laws of the State of Delaware", "Delaware law", "the state and federal courts located in Wilmington, Delaware", "Delaware courts"),
                      ("German law", "German law", "the courts of Munich", "courts in Munich"),
                      ("the laws of Scotland", "Scots law", "the Court of Session in Edinburgh", "Scottish courts"),
                      ("the laws of New South Wales", "New South Wales law", "the courts of New South Wales", "New South Wales courts"),
                      ("Dutch law", "Dutch law", "the competent court in Amsterdam", "Amsterdam courts")])
    mode = rng.choice(["exclusive", "non-exclusive", "arbitration", "escalation"])
    t = rng.choice([f"This {{Agr}} and any dispute or claim arising out of or in connection with it (including non-contractual disputes) shall be governed by and construed in accordance with {law[0]}.",
                    f"This {{Agr}} is governed by {law[0]}.",
                    f"The laws applicable to this {{Agr}}, its formation and interpretation shall be {law[0]}, without regard to conflict-of-law rules."])
    if mode == "exclusive":
        t += " " + rng.choice([f"Each party irrevocably agrees that {law[2]} shall have exclusive jurisdiction to settle any such dispute.",
                               f"The parties submit to the exclusive jurisdiction of {law[2]}."])
        s = rng.choice([f"The contract is governed by {law[1]}, and any dispute must be brought only in the {law[3]}.",
                        f"{cap(law[1])} applies and only the {law[3]} can hear disputes."])
    elif mode == "non-exclusive":
        t += f" The parties submit to the non-exclusive jurisdiction of {law[2]}."
        s = f"{cap(law[1])} applies to the contract; disputes can be taken to the {law[3]}, although other courts aren't ruled out."
    elif mode == "arbitration":
        seat = rng.choice(["London", "Singapore", "Paris", "Stockholm", "New York", "Geneva"])
        rules = rng.choice(["the LCIA Rules", "the ICC Rules", "the SIAC Rules", "the UNCITRAL Arbitration Rules"])
        n = rng.choice([1, 3])
        t += f" Any dispute shall be finally resolved by arbitration under {rules} by {'a sole arbitrator' if n == 1 else 'three arbitrators'}. The seat of arbitration shall be {seat} and the language English."
        s = f"{cap(law[1])} governs the contract, and disputes go to private arbitration in {seat} ({'one arbitrator' if n == 1 else 'three arbitrators'}) rather than to court."
    else:
        d = rng.choice([10, 14, 20, 30])
        t += (f" Before starting proceedings, the parties shall attempt to resolve any dispute by referring it to their senior executives, who shall meet within {legal(rng, d, 'days')} of a written request. "
              f"If the dispute is not resolved, either party may bring proceedings in {law[2]}.")
        s = f"{cap(law[1])} applies. Disputes first go to senior managers, who must meet within {plain(d, 'days')}; only if that fails can a party go to the {law[3]}."
    if rng.random() < 0.3:
        t += " Nothing in this clause prevents a party from seeking urgent injunctive relief in any court of competent jurisdiction."
        s += " Either side can still go to any court for urgent injunctions."
    return fmt(t, p), s


def audit(rng):
    p = P(rng, rng.choice([("Licensor", "Licensee"), ("Customer", "Supplier"), ("Controller", "Processor"), ("Franchisor", "Franchisee")]))
    notice = rng.choice([5, 10, 14, 15, 30])
    thresh = rng.choice([3, 5, 5, 10])
    keep = rng.choice([None, 3, 6, 7])
    freq = rng.choice([("no more than once in any twelve-month period", "once a year"), ("once per calendar year", "once a year"),
                       ("up to twice per contract year", "twice a year"), ("at any reasonable time", "at any reasonable time")])
    auditor = rng.random() < 0.5
    t = rng.choice([
        f"{cap(p.tA)} may, {freq[0]} and on at least {legal(rng, notice, 'days')}' written notice, audit {p.tB}'s books and records relating to this {{Agr}} during normal business hours.",
        f"{cap(p.tB)} shall permit {p.tA}{', or an independent auditor appointed by it,' if auditor else ''} to inspect its premises, systems and records relevant to this {{Agr}} {freq[0]}, on giving {legal(rng, notice, 'days')}' prior notice.",
        f"Upon {legal(rng, notice, 'days')}' notice, {p.tA} shall be entitled {freq[0]} to verify {p.tB}'s compliance with this {{Agr}} by examining its records."])
    s = f"{cap(p.a)} can check {p.b}'s records {freq[1]} with {plain(notice, 'days')}' notice" + (", using an independent auditor if it wants" if auditor and "independent" in t else "") + "."
    if rng.random() < 0.75:
        t += " " + rng.choice([f"{cap(p.tA)} shall bear the cost of the audit unless it reveals an underpayment or non-compliance of more than {thresh}%, in which case {p.tB} shall reimburse the reasonable audit costs.",
                               f"The audit is at {p.tA}'s expense, except that {p.tB} shall pay the costs if the audit shows that {p.tB} underpaid by more than {thresh}%."])
        s += f" {cap(p.a)} pays for the audit unless it uncovers a shortfall of more than {thresh}%, in which case {p.b} pays the costs."
    if keep:
        t += f" {cap(p.tB)} shall keep complete and accurate records for at least {legal(rng, keep, 'years')}."
        s += f" Records must be kept for {plain(keep, 'years')}."
    return fmt(t, p), s


def publicity(rng):
    p = P(rng)
    logo = rng.random() < 0.5
    case = rng.random() < 0.3
    t = rng.choice([
        "Neither party shall use the other party's name, logo or trade marks in any press release, advertisement or marketing material without the other party's prior written consent.",
        "No party may make any public announcement concerning this {Agr} or its subject matter without the prior written approval of the other party, except as required by law or the rules of a stock exchange.",
        f"{cap(p.tA)} shall not refer to {p.tB} or this {{Agr}} in any publicity, website content or social media post without {p.tB}'s written agreement.",
        "The parties shall agree the wording of any press release announcing this {Agr}; otherwise neither of them shall comment publicly on it."])
    if "announcement" in t:
        s = "Neither side can make public announcements about the contract without the other's written approval, unless the law or stock-exchange rules require it."
    elif "press release announcing" in t:
        s = "Any press release about the deal must be agreed by both sides, and otherwise neither may comment publicly."
    elif t.startswith(cap(p.tA)):
        s = f"{cap(p.a)} can't mention {p.b} or the contract in marketing, on its website or on social media without {p.b}'s written OK."
    else:
        s = rng.choice(["Neither side can use the other's name or logo in marketing without written permission.",
                        "Using the other party's name, logo or trade marks in advertising needs its written consent."])
    if logo:
        t += f" However, {p.tA} may identify {p.tB} as a customer, including by displaying {p.tB}'s logo on its website and in customer lists."
        s += f" However, {p.a} may list {p.b} as a customer and show its logo on its website."
    if case:
        t += f" Any case study requires {p.tB}'s approval of the final text."
        s += f" Case studies need {p.b}'s sign-off."
    return fmt(t, p), s


def notices(rng):
    p = P(rng)
    email = rng.choice(["valid", "invalid", "copy"])
    days = rng.choice([2, 3, 5])
    addr = rng.choice(["set out at the head of this {Agr}", "specified in Schedule 1", "of its registered office", "notified in writing for this purpose"])
    t = rng.choice([
        f"Any notice given under this {{Agr}} shall be in writing and delivered by hand, sent by pre-paid first-class post or recorded delivery, or sent by courier to the address {addr}.",
        f"Notices must be in writing and may be served personally, by courier or by registered post at the address {addr}.",
        f"All notices, consents and approvals under this {{Agr}} must be given in writing and sent to the other party at the address {addr}."])
    t += " " + rng.choice([f"A notice sent by post is deemed received on the {['', '', 'second', 'third', '', 'fifth'][days]} Business Day after posting.",
                           f"Notices sent by post are treated as received {legal(rng, days, 'Business Days')} after dispatch."])
    where = {"set out at the head of this {Agr}": "the address at the top of the contract", "specified in Schedule 1": "the address in Schedule 1",
             "of its registered office": "the other party's registered office", "notified in writing for this purpose": "the address each side has given for notices"}[addr]
    s = rng.choice([f"Formal notices must be in writing and sent to {where}; posted notices count as received {days} business days after posting.",
                    f"Notices have to be written and go to {where}. If posted, they're treated as arriving {days} business days later."])
    if email == "valid":
        t += " Notices may also be sent by email, in which case they are deemed received at the time of transmission if sent during business hours, and otherwise at 9.00 am on the next Business Day."
        s += " Email also works and counts as received when sent during business hours, or the next business morning otherwise."
    elif email == "invalid":
        t += " For the purposes of this clause, notice given by email is not valid."
        s += " Email is not a valid way to give notice."
    else:
        t += " A copy of any notice should also be sent by email, but the email copy does not itself constitute notice."
        s += " An email copy should be sent too, but the email on its own doesn't count."
    return fmt(t, p), s


def sla(rng):
    p = P(rng, rng.choice([("Provider", "Customer"), ("Service Provider", "Client"), ("Supplier", "Customer"), ("Host", "Customer")]))
    up = rng.choice(["99.5%", "99.9%", "99.95%", "99.0%", "99.8%"])
    credits = rng.sample([2, 5, 10, 15, 20, 25, 30], 2)
    credits.sort()
    maxc = rng.choice([25, 30, 50, 100])
    claim = rng.choice([None, 15, 30])
    sole = rng.random() < 0.6
    style = rng.choice(["step", "tier", "response"])
    if style == "step":
        t = (f"{cap(p.tA)} shall use commercially reasonable efforts to make the Service available {up} of the time in each calendar month, excluding scheduled maintenance. "
             f"For each full {rng.choice(['0.1%', '0.5%'])} below the target, {p.tB} is entitled to a service credit of {credits[0]}% of the monthly fee, up to a maximum of {maxc}% of that month's fee.")
        s = (f"{cap(p.a)} aims for {up} uptime each month (not counting planned maintenance). For each step below that, {p.b} gets a credit of {credits[0]}% of the monthly fee, "
             f"capped at {maxc}% of that month's fee.")
    elif style == "tier":
        t = (f"Monthly Availability Target: {up}. If Monthly Availability falls below the target, {p.tB} will receive a credit of {credits[0]}% of the monthly charges; "
             f"if it falls below {rng.choice(['99%', '98%', '97%'])}, the credit is {credits[1]}%.")
        low = re.search(r"below (9\d%), the credit", t).group(1)
        s = f"The target is {up} availability a month. Missing it earns {p.b} a {credits[0]}% credit on the monthly charges, rising to {credits[1]}% if availability drops below {low}."
    else:
        r1 = rng.choice([15, 30, 60])
        r2 = rng.choice([4, 8, 24])
        t = (f"{cap(p.tA)} shall respond to Priority 1 incidents within {legal(rng, r1, 'minutes')} and to Priority 2 incidents within {legal(rng, r2, 'hours')}, twenty-four hours a day. "
             f"Each missed response time entitles {p.tB} to a service credit of {credits[0]}% of the monthly support fee.")
        s = (f"{cap(p.a)} must respond to the most urgent incidents within {r1} minutes and to the next level within {r2} hours, around the clock; "
             f"each miss gives {p.b} a {credits[0]}% credit on the monthly support fee.")
    if claim:
        t += f" Service credits must be claimed in writing within {legal(rng, claim, 'days')} after the end of the relevant month."
        s += f" Credits must be claimed in writing within {plain(claim, 'days')} after the month ends."
    if sole:
        t += f" Service credits are {p.tB}'s sole and exclusive remedy for any failure to meet the service levels."
        s += " Credits are the only remedy for missing the service levels."
    return fmt(t, p), s


def employment_notice(rng):
    probation = rng.choice([3, 6, 6])
    pnotice = rng.choice([1, 2])
    notice = rng.choice([1, 2, 3, 3, 6])
    garden = rng.random() < 0.45
    pilon = rng.random() < 0.5
    emp = rng.choice(["the Employee", "the Executive"])
    co = rng.choice(["the Company", "the Employer"])
    t = rng.choice([
        (f"The first {legal(rng, probation, 'months')} of employment shall be a probationary period, during which either party may terminate the employment by giving {legal(rng, pnotice, 'weeks')}' written notice. "
         f"After successful completion of the probationary period, the employment may be terminated by either party giving not less than {legal(rng, notice, 'months')}' written notice."),
        (f"Your employment is subject to a probationary period of {legal(rng, probation, 'months')}, during which the notice period on either side is {legal(rng, pnotice, 'weeks')}. "
         f"Thereafter you must give us, and we must give you, {legal(rng, notice, 'months')}' notice in writing to end your employment."),
        (f"Either party may end the employment by giving the other {legal(rng, notice, 'months')}' written notice, save that during the probationary period of {legal(rng, probation, 'months')} the required notice is {legal(rng, pnotice, 'weeks')}.")])
    if t.startswith("Your employment"):
        emp, co = "you", "we"
    s = (f"During the first {plain(probation, 'months')} (probation), either side can end the job with {plain(pnotice, 'weeks')}' notice; "
         f"after that, {plain(notice, 'months')}' written notice is needed.")
    if pilon:
        t += " " + (f"{cap(co)} may, at {'its' if co != 'we' else 'our'} discretion, terminate the employment with immediate effect by paying {emp} basic salary in lieu of all or any part of the notice period.")
        s += rng.choice([" The employer can instead end it immediately by paying salary for the notice period.", " The employer may pay salary in lieu of notice and end the job at once."])
    if garden:
        t += " " + (f"During any notice period {co} may require {emp} not to attend work or contact clients (garden leave), while continuing to pay salary and benefits.")
        s += " It can also put the employee on paid garden leave during the notice period."
    if rng.random() < 0.3:
        t += " Nothing in this clause prevents summary dismissal for gross misconduct."
        s += " Gross misconduct can still lead to dismissal without notice."
    return t, s


def security_deposit(rng):
    cur = rng.choice(["$", "£", "€"])
    months = rng.choice([1, 2, 3, 6])
    fixed = rng.random() < 0.4
    amount = f"{cur}{rng.choice([2500, 4000, 6000, 9000, 15000, 24000]):,}"
    ret = rng.choice([14, 21, 30, 45, 60])
    interest = rng.random() < 0.35
    LL, TT = rng.choice([("Landlord", "Tenant"), ("Lessor", "Lessee"), ("Landlord", "Tenant")])
    what = f"a deposit of {amount}" if fixed else (f"a deposit equal to {legal(rng, months, 'months')}' rent" if months > 1 else "a deposit equal to one month's rent")
    pwhat = f"a deposit of {amount}" if fixed else (f"a deposit of {plain(months, 'months')}' rent" if months > 1 else "a deposit of one month's rent")
    t = rng.choice([
        f"On the date of this Lease the {TT} shall pay the {LL} {what} as security for the performance of the {TT}'s obligations.",
        f"The {TT} has paid {what} (the \"Deposit\") to be held by the {LL} for the duration of the Term.",
        f"As security, the {TT} shall lodge {what} with the {LL} before taking occupation of the Premises."])
    t += " " + rng.choice([f"The {LL} may deduct from the deposit any unpaid rent and the reasonable cost of making good any damage beyond fair wear and tear, and shall return the balance within {legal(rng, ret, 'days')} after the end of the Term.",
                           f"The balance of the Deposit, after any lawful deductions for arrears or dilapidations, will be repaid to the {TT} within {legal(rng, ret, 'days')} of the Term ending."])
    s = (f"The {TT.lower()} pays {pwhat}. The {LL.lower()} can use it to cover unpaid rent or damage beyond normal wear and tear, "
         f"and must return what's left within {plain(ret, 'days')} after the lease ends.")
    if interest:
        t += f" Any interest earned on the deposit shall belong to the {TT}."
        s += f" Interest on the deposit belongs to the {TT.lower()}."
    if rng.random() < 0.4:
        top = rng.choice([10, 14, 21])
        t += f" If the {LL} draws on the deposit during the Term, the {TT} shall top it up within {legal(rng, top, 'days')} of a written demand."
        s += f" If it is used during the lease, the {TT.lower()} must top it up within {plain(top, 'days')} of being asked."
    return t, s


def rent_review(rng):
    years = rng.choice([1, 2, 3, 5])
    mode = rng.choice(["fixed", "cpi", "market", "stepped"])
    pct = rng.choice([2, 2.5, 3, 4])
    upward = rng.random() < 0.6
    TT = rng.choice(["Tenant", "Lessee"])
    when = rng.choice(["On each anniversary of the Commencement Date", "With effect from each anniversary of the Term Commencement Date"]) if years == 1 else \
        rng.choice([f"On every {['', '', 'second', 'third', '', 'fifth'][years]} anniversary of the Commencement Date", f"At the end of every {legal(rng, years, 'years')} of the Term"])
    ps = "every year" if years == 1 else f"every {plain(years, 'years')}"
    if mode == "fixed":
        t = rng.choice([f"{when}, the annual rent shall increase by {pct}% over the rent payable immediately before that date.",
                        f"The rent payable by the {TT} shall be increased by {pct}% {('annually' if years == 1 else ps)}, compounded."])
        s = f"The rent goes up by {pct}% {ps}."
    elif mode == "cpi":
        t = f"{when} (a \"Review Date\"), the rent shall be adjusted in line with the percentage change in the Consumer Price Index over the preceding review period, subject to a minimum increase of {pct}%."
        s = f"The rent is reviewed {ps} and rises in line with inflation (CPI), by at least {pct}% each time."
    elif mode == "market":
        t = f"{when} the rent shall be reviewed to the open market rent agreed between the parties or, failing agreement within {legal(rng, 3, 'months')}, determined by an independent surveyor acting as an expert."
        s = f"The rent is reset to the market rate {ps}; if the parties can't agree within three months, an independent surveyor decides."
    else:
        a, b = rng.sample([18000, 21000, 24000, 26500, 30000, 36000], 2)
        a, b = min(a, b), max(a, b)
        cur = rng.choice(["$", "£", "€"])
        t = f"The annual rent shall be {cur}{a:,} for the first {legal(rng, years, 'years') if years > 1 else 'year'} of the Term and {cur}{b:,} for the remainder of the Term, payable monthly in advance."
        s = f"Rent is {cur}{a:,} a year for the first {plain(years, 'years') if years > 1 else 'year'} and {cur}{b:,} a year after that, paid monthly in advance."
        upward = False
    if upward and mode != "fixed":
        t += " The rent shall never be reduced on a review."
        s += " It can never go down at a review."
    if rng.random() < 0.3 and mode != "stepped":
        t += f" Until the reviewed rent is determined the {TT} shall continue paying the existing rent, with any balance due within {legal(rng, 14, 'days')} of determination."
        s += f" Until the new rent is set, the {TT.lower()} keeps paying the old rent and settles the difference within 14 days."
    return t, s


def subcontracting(rng):
    p = P(rng)
    consent = rng.random() < 0.6
    notice = rng.choice([10, 14, 30])
    if consent:
        t = rng.choice([f"{cap(p.tA)} shall not subcontract any of its obligations under this {{Agr}} without the prior written consent of {p.tB}.",
                        f"No part of the Services may be subcontracted by {p.tA} unless {p.tB} has first approved the subcontractor in writing.",
                        f"{cap(p.tA)} must obtain {p.tB}'s written consent before engaging any subcontractor to perform the Services."])
        s = rng.choice([f"{cap(p.a)} needs {p.b}'s written permission before using subcontractors.", f"Subcontracting requires {p.b}'s prior written approval."])
    else:
        t = rng.choice([f"{cap(p.tA)} may subcontract the performance of any of its obligations, provided it gives {p.tB} at least {legal(rng, notice, 'days')}' prior written notice identifying the subcontractor.",
                        f"{cap(p.tA)} is free to use subcontractors, but shall notify {p.tB} in writing of each new subcontractor at least {legal(rng, notice, 'days')} before it starts work."])
        s = f"{cap(p.a)} can use subcontractors as long as it tells {p.b} who they are at least {plain(notice, 'days')} in advance."
    t += " " + rng.choice([f"{cap(p.tA)} shall remain liable for all acts and omissions of its subcontractors as if they were its own.",
                           f"Any subcontracting does not relieve {p.tA} of its obligations, and it is responsible for its subcontractors' performance."])
    s += " It remains fully responsible for their work."
    if rng.random() < 0.4:
        t += " Subcontractors must be bound by written terms no less protective of Confidential Information than this Agreement."
        s += " Subcontractors must sign confidentiality terms at least as strict as the contract's."
    return fmt(t, p), s


def termination_cause(rng):
    p = P(rng)
    n = rng.choice([7, 10, 14, 15, 20, 30, 45, 60])
    nd = legal(rng, n, "days")
    insolv = rng.random() < 0.6
    who = rng.choice(["either", "either", "B"])
    if who == "either":
        t = rng.choice([
            f"Either party may terminate this {{Agr}} immediately by written notice if the other party commits a material breach of this {{Agr}} and, where the breach is capable of remedy, fails to remedy it within {nd} after receiving written notice requiring it to do so.",
            f"If a party materially breaches this {{Agr}} and does not cure the breach within {nd} of written notice describing it, the non-breaching party may terminate this {{Agr}} with immediate effect.",
            f"A party may end this {{Agr}} by notice in writing where the other party is in material breach and has not put the breach right within {nd} of being asked to do so.",
            f"Should either party fail to perform a material obligation and not rectify that failure within {nd} of a notice specifying it, the other party may terminate this {{Agr}} forthwith."])
        s = rng.choice([f"If one side seriously breaks the contract and doesn't fix the problem within {plain(n, 'days')} of being told, the other side can end it straight away.",
                        f"Either party can terminate immediately for a serious breach that the other party fails to fix within {plain(n, 'days')} of written notice."])
    else:
        t = rng.choice([f"{cap(p.tB)} may terminate this {{Agr}} with immediate effect by written notice if {p.tA} fails to meet the service levels in any three consecutive months or commits a material breach that it does not remedy within {nd}.",
                        f"{cap(p.tB)} may terminate this {{Agr}} on written notice if {p.tA} breaches any material term and the breach remains unremedied {nd} after {p.tB} has given notice of it."])
        s = f"{cap(p.b)} can end the contract immediately if {p.a} commits a serious breach and doesn't fix it within {plain(n, 'days')}" + (
            ", or misses the service levels three months in a row." if "three consecutive" in t else ".")
    if insolv:
        t += " " + rng.choice(["Either party may also terminate immediately if the other becomes insolvent, enters administration or liquidation, or ceases to carry on business.",
                               "The same right applies if the other party has a receiver appointed, makes an arrangement with its creditors or stops trading."])
        s += rng.choice([" Either side can also end it at once if the other goes insolvent or stops trading.",
                         " The same applies if the other party becomes insolvent."])
    return fmt(t, p), s


# ---- extra families --------------------------------------------------------
def non_solicit(rng):
    p = P(rng)
    m = rng.choice([6, 12, 12, 18, 24])
    fee = rng.random() < 0.45
    pct = rng.choice([15, 20, 25, 30])
    mutual = rng.random() < 0.5
    who = rng.choice(["employees", "employees and contractors", "key personnel named in any Statement of Work"])
    pwho = {"employees": "staff", "employees and contractors": "staff or contractors", "key personnel named in any Statement of Work": "key people named in a statement of work"}[who]
    if mutual:
        t = rng.choice([
            f"During the term of this {{Agr}} and for {legal(rng, m, 'months')} after it ends, neither party shall, without the other's prior written consent, solicit or employ any of the other party's {who} who were involved in the performance of this {{Agr}}.",
            f"Each party undertakes that it will not, while this {{Agr}} is in force and for a period of {legal(rng, m, 'months')} thereafter, directly or indirectly induce any of the other party's {who} to leave their employment or engagement.",
            f"For {legal(rng, m, 'months')} following termination, and throughout the term, the parties agree not to recruit, hire or engage each other's {who} with whom they had contact under this {{Agr}}."])
        s = rng.choice([f"Neither side may poach the other's {pwho} during the contract or for {plain(m, 'months')} after it ends",
                        f"For the length of the contract plus {plain(m, 'months')}, each party must not try to recruit or hire the other's {pwho}"])
    else:
        t = rng.choice([
            f"{cap(p.tB)} agrees not to hire or try to hire any of {p.tA}'s {who} who worked on the Services, during the term and for {legal(rng, m, 'months')} afterwards.",
            f"{cap(p.tB)} shall not, during the term of this {{Agr}} or within {legal(rng, m, 'months')} of its expiry, offer employment to or engage (directly or through an agency) any of {p.tA}'s {who}.",
            f"Without {p.tA}'s written consent, {p.tB} must not solicit for employment any of {p.tA}'s {who} until {legal(rng, m, 'months')} have passed after the end of this {{Agr}}."])
        s = rng.choice([f"{cap(p.b)} can't hire or try to hire {p.a}'s {pwho} during the contract and for {plain(m, 'months')} afterwards",
                        f"Until {plain(m, 'months')} after the contract ends, {p.b} must not recruit {p.a}'s {pwho}"])
    if fee:
        payer = "the hiring party" if mutual else p.tB
        t += " " + rng.choice([f"If this clause is breached, {payer} shall pay a placement fee equal to {pct}% of the individual's first-year gross salary.",
                               f"Any hire in breach of this clause shall be charged at {pct}% of the individual's annual remuneration, which the parties agree is a reasonable estimate of the loss."])
        s += f"; breaking this rule costs a fee of {pct}% of the person's first-year pay."
    else:
        s += "."
    if rng.random() < 0.4:
        t += " " + rng.choice(["General recruitment advertising not aimed at the other party's staff is not a breach.",
                               "Hiring someone who responds to a public job advertisement does not breach this clause."])
        s += " Hiring someone who answers a general job advert is allowed."
    return fmt(t, p), s


def ip_ownership(rng):
    p = P(rng, rng.choice([("Contractor", "Company"), ("Consultant", "Client"), ("Agency", "Client"), ("Developer", "Customer"), ("Supplier", "Customer"), ("Service Provider", "Client")]))
    mode = rng.choice(["client_owns", "client_owns", "provider_owns", "joint"])
    on_pay = rng.random() < 0.5
    background = rng.random() < 0.6
    moral = rng.random() < 0.3
    work = rng.choice([("the Deliverables", "the deliverables"), ("all designs, code and documentation", "the designs, code and documentation"),
                       ("the Work Product", "the work product"), ("all reports and materials", "the reports and materials")])
    if mode == "client_owns":
        t = rng.choice([
            f"All intellectual property rights in {work[0]} created by {{A}} specifically for {{B}} under this {{Agr}} shall vest in {{B}}" + (" upon payment in full of the applicable fees." if on_pay else " on creation."),
            f"{cap(p.tA)} hereby assigns to {p.tB}, with full title guarantee, all present and future rights in {work[0]} produced under each Statement of Work" + (", with effect from payment of the relevant invoice." if on_pay else "."),
            f"{cap(work[0])} prepared in the course of the Services shall be the exclusive property of {{B}}" + (" once the related fees have been paid." if on_pay else " from the moment they are created.")])
        s = f"{cap(p.b)} will own {work[1]} that {p.a} creates for it" + (" once it has paid for them." if on_pay else ".")
        if background:
            t += " " + rng.choice([f"{cap(p.tA)} retains ownership of its pre-existing materials and tools, and grants {p.tB} a non-exclusive, perpetual licence to use them as part of {work[0]}.",
                                   f"Background IP remains with {p.tA}; {p.tB} receives a royalty-free licence to use it to the extent needed to enjoy {work[0]}."])
            s += f" {cap(p.a)} keeps its pre-existing tools and know-how but lets {p.b} use them as needed."
        if moral:
            t += f" {cap(p.tA)} waives any moral rights in {work[0]}."
            s += " Moral rights are waived."
    elif mode == "provider_owns":
        t = rng.choice([
            f"{cap(p.tA)} retains all intellectual property rights in the software, documentation and any improvements or modifications to them, including those made at {p.tB}'s request.",
            f"Nothing in this {{Agr}} transfers ownership of any intellectual property of {{A}}; all rights in the platform, its outputs and any feedback provided by {{B}} remain with {{A}}.",
            f"As between the parties, {p.tA} owns {work[0]} and all related intellectual property rights, even where they were developed using information supplied by {p.tB}."])
        t += " " + rng.choice([f"{cap(p.tA)} grants {p.tB} a non-exclusive, non-transferable licence to use them for its internal business purposes during the term.",
                               f"{cap(p.tB)} receives only a limited right to use them in accordance with this {{Agr}}."])
        s = rng.choice([f"{cap(p.a)} keeps ownership of everything it provides, including improvements {p.b} asks for; {p.b} only gets a limited right to use it.",
                        f"Everything stays owned by {p.a}. {cap(p.b)} just gets a non-exclusive licence to use it for internal purposes."])
    else:
        t = rng.choice([f"Intellectual property rights in any results jointly developed by the parties under this {{Agr}} shall be owned jointly in equal shares.",
                        f"Where {work[0]} are developed jointly by {p.tA} and {p.tB}, they shall be jointly owned, and neither party may license them to a third party without the other's consent."])
        s = f"Anything the two sides develop together is owned jointly" + (", and neither can license it to others without the other's agreement." if "without the other's consent" in t else ", half each.")
        if rng.random() < 0.5:
            t += " Each party may use jointly owned results for its own internal purposes without accounting to the other."
            s += " Each can use it internally without paying the other."
    return fmt(t, p), s


def data_protection(rng):
    p = P(rng, rng.choice([("Processor", "Controller"), ("Supplier", "Customer"), ("Service Provider", "Client"), ("Provider", "Customer"), ("Vendor", "Company")]))
    hours = rng.choice([24, 36, 48, 72])
    subp = rng.choice([None, 14, 30])
    delete = rng.choice([None, 30, 60, 90])
    transfer = rng.random() < 0.35
    audit = rng.random() < 0.3
    t = rng.choice([
        f"{cap(p.tA)} shall process personal data only on the documented instructions of {p.tB} and shall implement appropriate technical and organisational measures to protect it.",
        f"In processing Customer Personal Data, {p.tA} shall act only as instructed by {p.tB} in writing, ensure its staff are bound by confidentiality, and keep the data secure against unauthorised access or loss.",
        f"The parties acknowledge that {p.tB} is the controller and {p.tA} the processor of any personal data processed under this {{Agr}}. {cap(p.tA)} shall process such data solely to provide the Services."])
    s = rng.choice([f"{cap(p.a)} may only use personal data as {p.b} instructs and must keep it secure",
                    f"{cap(p.a)} handles personal data purely on {p.b}'s behalf and instructions, and must protect it"])
    t += " " + rng.choice([f"{cap(p.tA)} shall notify {p.tB} without undue delay, and in any event within {legal(rng, hours, 'hours')}, after becoming aware of a personal data breach.",
                           f"Any personal data breach shall be reported to {p.tB} within {legal(rng, hours, 'hours')} of discovery.",
                           f"{cap(p.tA)} must inform {p.tB} of a security incident affecting personal data no later than {legal(rng, hours, 'hours')} after detecting it."])
    s += f"; any data breach must be reported within {hours} hours."
    if subp:
        t += " " + rng.choice([f"{cap(p.tA)} shall give at least {legal(rng, subp, 'days')}' notice before engaging a new sub-processor, and {p.tB} may object on reasonable grounds.",
                               f"New sub-processors may be appointed only after {legal(rng, subp, 'days')}' written notice to {p.tB}, which may object to the appointment."])
        s += f" New sub-processors need {plain(subp, 'days')}' notice, and {p.b} can object."
    if transfer:
        t += f" Personal data shall not be transferred outside the {rng.choice(['European Economic Area', 'United Kingdom', 'EEA and the UK'])} without appropriate safeguards such as standard contractual clauses."
        s += " Data can only leave the region with proper safeguards like standard contractual clauses."
    if audit:
        t += f" {cap(p.tA)} shall make available all information necessary to demonstrate compliance and allow audits by {p.tB}."
        s += f" {cap(p.b)} can audit compliance."
    if delete:
        t += " " + rng.choice([f"Within {legal(rng, delete, 'days')} after termination, {p.tA} shall delete or return all personal data, unless retention is required by law.",
                               f"On termination, {p.tA} shall, at {p.tB}'s choice, return or securely destroy all personal data within {legal(rng, delete, 'days')}."])
        s += f" All personal data must be deleted or returned within {plain(delete, 'days')} after the contract ends."
    return fmt(t, p), s


def auto_renewal(rng):
    p = P(rng)
    init = rng.choice([12, 12, 24, 36])
    ren = rng.choice([12, 12, 24, 6, 1])
    notice = rng.choice([30, 30, 60, 90])
    price = rng.choice([None, None, 3, 5, 7])
    style = rng.choice(["you", "formal1", "formal2", "formal3", "rolling"])
    if style == "you":
        t = rng.choice([(f"Your subscription starts on the date of your order and lasts for {legal(rng, init, 'months')}. It will then renew automatically for further periods of {legal(rng, ren, 'months') if ren > 1 else 'one month'} "
                         f"unless you tell us at least {legal(rng, notice, 'days')} before the renewal date that you want to cancel."),
                        (f"We will automatically renew your plan at the end of each {legal(rng, init, 'month') if init == 1 else str(init) + '-month'} term for another {legal(rng, ren, 'months') if ren > 1 else 'month'}. "
                         f"To stop the renewal, cancel in your account settings no later than {legal(rng, notice, 'days')} before the end of the current term.")])
        if "Your subscription" in t:
            s = f"Your subscription lasts {plain(init, 'months')} and then renews automatically for {plain(ren, 'months') if ren > 1 else 'a month'} at a time, unless you cancel at least {plain(notice, 'days')} before the renewal date."
        else:
            s = f"Your plan renews automatically for {plain(ren, 'months') if ren > 1 else 'a month'} at the end of each {plain(init, 'months')} term; cancel in your settings at least {plain(notice, 'days')} before the term ends to stop it."
        if price:
            t += f" We may increase the subscription fee on renewal by up to {price}%, and will let you know before the renewal date."
            s += f" The price can go up by as much as {price}% when it renews."
        return t, s
    rp = legal(rng, ren, "months") if ren > 1 else "one month"
    prp = plain(ren, "months") if ren > 1 else "a month"
    if style == "formal1":
        t = f"This {{Agr}} has an initial term of {legal(rng, init, 'months')} from the Effective Date and shall thereafter renew automatically for successive periods of {rp}, unless either party gives written notice of non-renewal at least {legal(rng, notice, 'days')} before the end of the then-current term."
    elif style == "formal2":
        t = f"Following the Initial Term of {legal(rng, init, 'months')}, the {{Agr}} will automatically extend for consecutive renewal terms of {rp} each unless terminated by either party on not less than {legal(rng, notice, 'days')}' written notice prior to the expiry of the current term."
    elif style == "formal3":
        t = f"Upon expiry of the Minimum Term ({legal(rng, init, 'months')}), this {{Agr}} shall continue for further periods of {rp} (each a \"Renewal Period\"). A party wishing to prevent renewal must serve written notice on the other at least {legal(rng, notice, 'days')} before the start of the next Renewal Period."
    else:
        t = f"After an initial period of {legal(rng, init, 'months')}, the Services will continue on a rolling basis of {rp} at a time. Either party may bring the rolling arrangement to an end by giving {legal(rng, notice, 'days')}' written notice expiring at the end of a renewal period."
    s = rng.choice([f"The contract runs for {plain(init, 'months')} and then renews automatically for {prp} at a time unless either side gives written notice at least {plain(notice, 'days')} before the current term ends.",
                    f"After the first {plain(init, 'months')}, the agreement rolls over automatically every {prp}; to stop it, a party must give {plain(notice, 'days')}' written notice before the term ends."])
    if price:
        t += " " + rng.choice([f"{cap(p.tA)} may increase the fees for any renewal term by no more than {price}% over the fees for the preceding term.",
                               f"Fees for each renewal period may be increased by up to {price}% on written notice."])
        s += f" Fees can rise by at most {price}% on each renewal."
    return fmt(t, p), s


def price_adjustment(rng):
    p = P(rng)
    notice = rng.choice([30, 45, 60, 90])
    capx = rng.choice([3, 4, 5, 6])
    mode = rng.choice(["cpi", "cap", "cost", "freeze"])
    exit_ = rng.random() < 0.5
    freeze = rng.choice([12, 18, 24])
    if mode == "cpi":
        t = rng.choice([f"{cap(p.tA)} may adjust the Fees once in each contract year by giving {p.tB} at least {legal(rng, notice, 'days')}' written notice. Any increase shall not exceed the lesser of the percentage change in the Consumer Price Index over the preceding twelve months and {capx}%.",
                        f"On each anniversary of the Effective Date, the Fees shall be indexed to the Consumer Price Index, provided that no annual increase shall exceed {capx}%. {cap(p.tA)} shall notify {p.tB} of the new Fees at least {legal(rng, notice, 'days')} in advance."])
        s = f"Prices can rise once a year in line with inflation (CPI), capped at {capx}%, with {plain(notice, 'days')}' written notice."
    elif mode == "cap":
        t = rng.choice([f"{cap(p.tA)} may increase the Fees by written notice given at least {legal(rng, notice, 'days')} in advance, but not more than once in any twelve-month period, and no single increase may exceed {capx}% of the Fees then in effect.",
                        f"Fees may be revised annually by {p.tA}. Revisions take effect {legal(rng, notice, 'days')} after written notice and are limited to {capx}% per year."])
        s = f"{cap(p.a)} can put prices up once a year, by at most {capx}%, after giving {plain(notice, 'days')}' written notice."
    elif mode == "cost":
        t = f"If the cost of raw materials, energy or freight increases by more than {capx}% in any quarter, {p.tA} may pass the documented increase on to {p.tB} by giving {legal(rng, notice, 'days')}' written notice, together with supporting evidence."
        s = f"If {p.a}'s material, energy or shipping costs rise by more than {capx}% in a quarter, it can pass the increase on with {plain(notice, 'days')}' written notice and evidence."
    else:
        t = f"The Fees are fixed for the first {legal(rng, freeze, 'months')} of this {{Agr}}. Thereafter {p.tA} may increase them by up to {capx}% per year on {legal(rng, notice, 'days')}' written notice."
        s = f"Prices are fixed for the first {plain(freeze, 'months')}; after that {p.a} can raise them by up to {capx}% a year with {plain(notice, 'days')}' notice."
    if exit_:
        t += " " + rng.choice([f"If {p.tB} does not accept an increase, it may terminate this {{Agr}} by notice given before the increase takes effect.",
                               f"{cap(p.tB)} may, within fourteen days of receiving notice of an increase, terminate the affected Services without penalty."])
        s += f" If {p.b} doesn't accept the rise, it can end the contract without penalty."
    return fmt(t, p), s


def insurance(rng):
    p = P(rng)
    kinds = rng.sample([("public liability", "public liability"), ("professional indemnity", "professional indemnity"),
                        ("employer's liability", "employer's liability"), ("product liability", "product liability"),
                        ("cyber liability", "cyber"), ("motor vehicle", "vehicle")], rng.choice([1, 2, 3]))
    amts = [rng.choice([1, 2, 5, 10]) for _ in kinds]
    yrs = rng.choice([None, 2, 3, 6])
    cert = rng.random() < 0.5
    named = rng.random() < 0.3
    lst = [f"{k[0]} insurance of at least {p.money(a * 1_000_000)}" for k, a in zip(kinds, amts)]
    pl = [f"{k[1]} cover of at least {p.money(a * 1_000_000)}" for k, a in zip(kinds, amts)]
    join = lambda xs: xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]
    t = rng.choice([f"{cap(p.tA)} shall maintain, with a reputable insurer, {join(lst)} for the duration of this {{Agr}}",
                    f"Throughout the term, {p.tA} shall hold {join(lst)}",
                    f"{cap(p.tA)} must take out and keep in force {join(lst)} while this {{Agr}} is in effect"])
    s = f"{cap(p.a)} must carry {join(pl)}"
    if yrs:
        t += f" and for {legal(rng, yrs, 'years')} after its termination"
        s += f" during the contract and for {plain(yrs, 'years')} after it ends"
    else:
        s += " while the contract runs"
    t += "."
    s += "."
    if named:
        t += f" {cap(p.tB)} shall be named as an additional insured on the {kinds[0][0]} policy."
        s += f" {cap(p.b)} must be named on the {kinds[0][1]} policy."
    if cert:
        t += " " + rng.choice([f"On request, {p.tA} shall provide {p.tB} with certificates evidencing such insurance.", f"Evidence of cover shall be supplied to {p.tB} annually."])
        s += f" It must show proof of cover when asked." if "On request" in t else " Proof of cover must be sent every year."
    return fmt(t, p), s


def exclusivity(rng):
    p = P(rng, rng.choice([("Supplier", "Distributor"), ("Manufacturer", "Distributor"), ("Licensor", "Licensee"), ("Supplier", "Reseller"), ("Brand Owner", "Agent")]))
    terr = rng.choice(["the United Kingdom and Ireland", "Germany, Austria and Switzerland", "the Nordic countries", "Canada", "Australia and New Zealand", "the Benelux countries", "Japan", "the state of Texas"])
    minimum = rng.choice([None, 50_000, 100_000, 250_000])
    style = rng.choice(["appoint", "restrict", "reverse"])
    if style == "appoint":
        t = f"During the term, {p.tA} appoints {p.tB} as its exclusive {'distributor' if p.B not in ('Licensee', 'Agent') else p.B.lower()} of the Products in {terr}, and shall not appoint any other person to sell the Products in that territory."
        s = f"{cap(p.b)} is the only one allowed to sell {p.a}'s products in {terr} while the contract lasts."
    elif style == "restrict":
        t = f"{cap(p.tA)} shall not, during the term, supply the Products to any third party for resale in {terr}, and shall refer all enquiries from that territory to {p.tB}."
        s = f"{cap(p.a)} can't supply anyone else to resell its products in {terr} and must pass enquiries from there to {p.b}."
    else:
        t = f"{cap(p.tB)} shall purchase its entire requirements of the Products for {terr} from {p.tA} and shall not manufacture, distribute or promote any competing products during the term."
        s = f"{cap(p.b)} must buy all the products it needs for {terr} from {p.a} and can't deal in competing products while the contract runs."
    if minimum:
        t += " " + rng.choice([f"Exclusivity is conditional on {p.tB} purchasing Products with a total value of at least {p.money(minimum)} in each contract year; if it fails to do so, {p.tA} may convert the appointment to a non-exclusive one on written notice.",
                               f"If annual purchases fall below {p.money(minimum)}, {p.tA} may end the exclusive arrangement by written notice."])
        s += f" If {p.b} buys less than {p.money(minimum)} a year, {p.a} can make the arrangement non-exclusive."
    if rng.random() < 0.4:
        t += f" {cap(p.tA)} may continue to sell directly to customers in the territory through its own website."
        s += f" {cap(p.a)} can still sell directly online there."
    return fmt(t, p), s


def liquidated_damages(rng):
    p = P(rng, rng.choice([("Supplier", "Buyer"), ("Contractor", "Employer"), ("Seller", "Purchaser"), ("Vendor", "Customer"), ("Developer", "Client")]))
    pct = rng.choice([0.5, 1, 1.5, 2])
    fixed = rng.choice([250, 500, 1000, 2500, 5000])
    per = rng.choice(["week", "day", "week"])
    capx = rng.choice([5, 10, 15, 20])
    style = rng.choice(["pct_goods", "pct_price", "fixed", "milestone"])
    if style == "pct_goods":
        t = f"If {p.tA} fails to deliver the Goods by the Delivery Date, {p.tA} shall pay {p.tB}, as liquidated damages, {pct}% of the price of the delayed Goods for each {per} of delay, up to a maximum of {capx}% of that price."
        s = f"For late delivery, {p.a} pays {p.b} {pct}% of the price of the late goods for each {per} of delay, up to {capx}% in total."
    elif style == "pct_price":
        t = f"For each complete {per} by which completion is delayed beyond the Completion Date, {p.tA} shall pay liquidated damages at the rate of {pct}% of the Contract Price, subject to an aggregate cap of {capx}% of the Contract Price."
        s = f"If completion is late, {p.a} owes {pct}% of the contract price for each full {per} of delay, capped at {capx}% overall."
    elif style == "fixed":
        t = f"Should the System not be ready for go-live by the Go-Live Date, {p.tA} shall pay {p.tB} {p.money(fixed)} for every {per} of delay, the total not to exceed {p.money(fixed * 20)}."
        s = f"If go-live is late, {p.a} pays {p.b} {p.money(fixed)} for every {per} of delay, up to {p.money(fixed * 20)} in total."
    else:
        t = f"Where a Milestone is not achieved by its Milestone Date, {p.tB} may deduct from the next invoice a delay payment of {pct}% of the Milestone value per {per} of delay, capped at {capx}% of that value."
        s = f"For each {per} a milestone is late, {p.b} can deduct {pct}% of that milestone's value from the next invoice, up to {capx}%."
    if rng.random() < 0.6:
        sole = rng.random() < 0.5
        t += " " + (f"The parties agree that these amounts are a genuine pre-estimate of loss and are {p.tB}'s sole remedy for the delay." if sole
                    else f"Payment of these amounts does not relieve {p.tA} of its obligation to complete the work.")
        s += (f" This is {p.b}'s only remedy for the delay." if sole else f" {cap(p.a)} still has to finish the job.")
    return fmt(t, p), s


def retention_of_title(rng):
    p = P(rng, rng.choice([("Seller", "Buyer"), ("Supplier", "Customer"), ("Supplier", "Purchaser"), ("Vendor", "Purchaser")]))
    risk = rng.choice(["delivery", "collection", "dispatch", "unloading at the delivery address"])
    style = rng.choice([1, 2, 3])
    if style == 1:
        t = f"Risk in the Goods shall pass to {p.tB} on {risk}. Title to the Goods shall not pass to {p.tB} until {p.tA} has received payment in full for them."
    elif style == 2:
        t = f"Although risk passes on {risk}, ownership of the Goods remains with {p.tA} until all sums due for those Goods have been paid in cleared funds."
    else:
        t = f"Property in the Goods passes to {p.tB} only when {p.tA} has received payment in full of the price and of all other sums then due from {p.tB}. The Goods are at {p.tB}'s risk from {risk}."
    all_sums = "all other sums" in t
    s = f"{cap(p.b)} bears the risk of loss or damage from {risk}, but doesn't own the goods until it has paid for them" + (" and everything else it owes." if all_sums else " in full.")
    if rng.random() < 0.6:
        t += " " + rng.choice([f"Until title passes, {p.tB} shall store the Goods separately, keep them insured and identifiable as {p.tA}'s property, and {p.tA} may enter {p.tB}'s premises to recover them if payment is overdue.",
                               f"{cap(p.tB)} may resell the Goods in the ordinary course of business before title passes, but must hold the proceeds on trust for {p.tA}."])
        s += (f" Until then it must store them separately and insured, and {p.a} can come and take them back if payment is late." if "store" in t
              else f" It may resell them in the meantime, but the sale money belongs to {p.a} until it's paid.")
    return fmt(t, p), s


def acceptance(rng):
    p = P(rng, rng.choice([("Developer", "Customer"), ("Contractor", "Client"), ("Supplier", "Customer"), ("Agency", "Client"), ("Integrator", "Company")]))
    n = rng.choice([5, 10, 14, 15, 30])
    retest = rng.choice([None, 5, 10])
    deemed = rng.random() < 0.6
    rounds = rng.choice([None, 2, 3])
    t = rng.choice([f"{cap(p.tB)} shall test each Deliverable within {legal(rng, n, 'Business Days')} of delivery and either accept it or give written notice of any material non-conformity with the Specification.",
                    f"Acceptance testing shall be carried out by {p.tB} during the {legal(rng, n, 'Business Days')} following delivery (the \"Test Period\"), using the acceptance criteria set out in the relevant Statement of Work.",
                    f"Within {legal(rng, n, 'Business Days')} of receiving a Deliverable, {p.tB} will either sign an acceptance certificate or provide {p.tA} with a written list of defects."])
    s = f"{cap(p.b)} has {plain(n, 'business days')} to test each deliverable and either accept it or list what's wrong."
    if retest:
        t += " " + rng.choice([f"{cap(p.tA)} shall correct any notified non-conformity and redeliver within {legal(rng, retest, 'Business Days')}.",
                               f"Defects must be fixed and the Deliverable resubmitted for testing within {legal(rng, retest, 'Business Days')}."])
        s += f" {cap(p.a)} then has {plain(retest, 'business days')} to fix problems and redeliver."
    if rounds:
        t += f" If a Deliverable fails acceptance {words(rounds)} times, {p.tB} may reject it and recover the fees paid for it."
        s += f" After {words(rounds)} failed attempts, {p.b} can reject it and get its money back."
    if deemed:
        t += " " + rng.choice([f"If {p.tB} does not respond within the testing period, or uses the Deliverable in live operation, it is deemed accepted.",
                               "Use of a Deliverable for live business purposes constitutes acceptance."])
        s += " Silence or using it live counts as acceptance." if "respond" in t else " Using it live counts as acceptance."
    return fmt(t, p), s


def expenses(rng):
    p = P(rng, rng.choice([("Consultant", "Client"), ("Contractor", "Company"), ("Agency", "Client"), ("Adviser", "Company")]))
    pre = rng.choice([250, 500, 1000])
    days = rng.choice([30, 45, 60])
    mode = rng.choice(["reimburse", "included", "per_diem"])
    if mode == "reimburse":
        t = rng.choice([f"{cap(p.tB)} shall reimburse {p.tA} for reasonable travel and out-of-pocket expenses properly incurred in performing the Services, provided that any single expense above {p.money(pre)} has been approved in advance in writing.",
                        f"Reasonable expenses incurred by {p.tA} in the course of the engagement will be repaid by {p.tB} at cost, but expenses exceeding {p.money(pre)} require {p.tB}'s prior written approval."])
        s = f"{cap(p.b)} repays {p.a}'s reasonable expenses, but anything over {p.money(pre)} must be approved in writing first."
    elif mode == "included":
        t = f"The Fees are inclusive of all expenses, and {p.tA} shall not be entitled to reimbursement of any travel, accommodation or other costs unless {p.tB} has agreed in writing to pay them before they are incurred."
        s = f"The fees cover all expenses; {p.a} only gets costs back if {p.b} agreed to pay them in writing beforehand."
    else:
        d = rng.choice([40, 60, 75, 90])
        t = f"When required to work away from its usual place of business, {p.tA} shall be paid a daily allowance of {p.money(d)} to cover meals and incidental costs, plus the actual cost of economy travel and accommodation approved in advance by {p.tB}."
        s = f"When working away, {p.a} gets {p.money(d)} a day for meals and incidentals, plus pre-approved economy travel and hotel costs."
    if rng.random() < 0.6 and mode != "included":
        t += f" Expense claims must be supported by receipts and submitted within {legal(rng, days, 'days')} of being incurred."
        s += f" Claims need receipts and must be made within {plain(days, 'days')}."
    return fmt(t, p), s


def change_control(rng):
    p = P(rng, rng.choice([("Supplier", "Customer"), ("Service Provider", "Client"), ("Contractor", "Company"), ("Integrator", "Client")]))
    n = rng.choice([5, 10, 15])
    style = rng.choice([1, 2, 3])
    if style == 1:
        t = f"Either party may request a change to the Services by submitting a written change request. Within {legal(rng, n, 'Business Days')} of receiving a request, {p.tA} shall provide an assessment of its impact on the fees, timetable and deliverables."
    elif style == 2:
        t = f"Any variation to the scope of the Services shall be requested in writing, and {p.tA} shall respond within {legal(rng, n, 'Business Days')} with a quotation and the effect on delivery dates."
    else:
        t = f"Where {p.tB} wishes to alter the Specification, {p.tA} shall, within {legal(rng, n, 'Business Days')}, tell {p.tB} in writing what the change would cost and how it would affect the project plan. {cap(p.tA)} may not unreasonably refuse a requested change."
    s = f"Changes to the scope must be requested in writing; {p.a} has {plain(n, 'business days')} to explain the effect on price and timing"
    if style == 3:
        s += " and can't unreasonably refuse a change"
    binding = rng.choice(["sign", "continue", "none"])
    if binding == "sign":
        t += " No change is binding until a change note has been signed by both parties."
        s += ", and nothing changes until both sides sign a change note."
    elif binding == "continue":
        t += " Until a change is agreed in writing, both parties continue to perform the Agreement as if the request had not been made."
        s += "; until a change is agreed in writing, the contract carries on unchanged."
    else:
        s += "."
    if rng.random() < 0.35:
        t += f" {cap(p.tA)} shall not charge for preparing impact assessments of fewer than five days' effort."
        s += " Small impact assessments are free."
    return fmt(t, p), s


def background_ip_licence(rng):
    p = P(rng, rng.choice([("Licensor", "Licensee"), ("Provider", "Customer"), ("Developer", "Client"), ("Vendor", "Customer")]))
    users = rng.choice([None, 10, 25, 50, 100, 250])
    terr = rng.choice(["worldwide", "in the United Kingdom", "in the European Union", "in North America", "in Australia"])
    what = rng.choice([("the Software", "the software"), ("the Platform", "the platform"), ("the Licensed Content", "the licensed content"), ("the API and SDK", "the API and SDK")])
    style = rng.choice([1, 2, 3])
    if style == 1:
        t = f"{cap(p.tA)} grants {p.tB} a non-exclusive, non-transferable licence, {terr}, to use {what[0]} for its internal business purposes during the term of this {{Agr}}"
    elif style == 2:
        t = f"Subject to payment of the Fees, {p.tB} may access and use {what[0]} {terr} for its own internal operations on a non-exclusive basis for so long as this {{Agr}} remains in force"
    else:
        t = f"{cap(p.tB)} is granted a limited, revocable, non-sublicensable right to use {what[0]} {terr}, solely in connection with its own business and only while its subscription is active"
    s = f"{cap(p.b)} gets a non-exclusive right to use {what[1]} {terr} for its own business while the contract lasts" + (" (as long as it pays)" if style == 2 else "")
    if users:
        t += f", by no more than {users} named users"
        s += f", for up to {users} named users"
    t += "."
    s += "."
    if rng.random() < 0.7:
        t += " " + rng.choice([f"{cap(p.tB)} shall not sublicense, resell, reverse engineer or modify {what[0]}.",
                               f"{cap(p.tB)} must not copy, decompile or make {what[0]} available to any third party."])
        s += " It can't resell, share, copy or reverse-engineer it."
    return fmt(t, p), s


def non_disparagement(rng):
    m = rng.choice([None, 12, 24, 36])
    who = rng.choice(["mutual", "employee", "customer"])
    if who == "mutual":
        t = rng.choice(["Each party agrees not to make, publish or communicate any defamatory or disparaging statement about the other party, its products or its directors and employees",
                        "Neither party shall, directly or through others, make any public statement that is intended to damage the reputation of the other party or its officers"])
        s = "Neither side may publicly criticise or badmouth the other or its people"
    elif who == "employee":
        t = rng.choice(["The Employee shall not make any statement, whether orally, in writing or on social media, that disparages the Company or any of its officers, employees or products",
                        "You agree that you will not post, publish or say anything that criticises or reflects badly on the Company, its management or its services"])
        s = "The employee mustn't say anything negative about the company, its management or its products, including on social media"
    else:
        t = "The Customer shall not publish negative reviews of, or otherwise publicly criticise, the Services without first raising its concerns with the Supplier and allowing it thirty (30) days to respond"
        s = "Before publicly criticising the services or posting a bad review, the customer must raise the issue with the supplier and give it 30 days to respond"
    if m:
        t += f", for a period of {legal(rng, m, 'months')} after the termination of this Agreement."
        s += f", for {plain(m, 'months')} after the agreement ends."
    else:
        t += ", whether during or after the term of this Agreement."
        s += ", during or after the agreement."
    if rng.random() < 0.5:
        t += " Nothing in this clause prevents truthful statements required by law or made to a regulator."
        s += " Truthful statements required by law or made to a regulator are still allowed."
    return t, s


def anti_bribery(rng):
    p = P(rng)
    style = rng.choice([1, 2, 3, 4])
    if style == 1:
        t = f"{cap(p.tA)} shall comply with all applicable anti-bribery and anti-corruption laws, including the UK Bribery Act 2010 and the US Foreign Corrupt Practices Act, and shall not offer or accept any bribe or improper payment in connection with this {{Agr}}."
        s = f"{cap(p.a)} must obey anti-bribery laws (such as the UK Bribery Act and the US FCPA) and must not give or take bribes in connection with the contract."
    elif style == 2:
        t = "Each party shall comply with applicable laws relating to anti-bribery and anti-corruption and shall maintain adequate procedures to prevent bribery by its employees and agents."
        s = "Both sides must follow anti-bribery laws and have procedures in place to stop their staff and agents paying bribes."
    elif style == 3:
        g = rng.choice([50, 100, 150])
        t = f"{cap(p.tA)} shall not give any gift, hospitality or payment with a value above {p.money(g)} to any employee of {p.tB} without {p.tB}'s prior written approval, and shall keep a register of all gifts and hospitality offered."
        s = f"{cap(p.a)} can't give {p.b}'s staff gifts or hospitality worth more than {p.money(g)} without written approval, and must log all gifts it offers."
    else:
        t = f"{cap(p.tA)} warrants that neither it nor any of its officers has been convicted of an offence involving bribery or corruption, and shall notify {p.tB} immediately if it becomes aware of any request for a bribe connected with this {{Agr}}."
        s = f"{cap(p.a)} promises it has no bribery convictions and must tell {p.b} straight away about any bribe request linked to the contract."
    if rng.random() < 0.6:
        t += " " + rng.choice([f"Breach of this clause entitles {p.tB} to terminate this {{Agr}} immediately by written notice.",
                               f"Any breach of this clause is a material breach incapable of remedy."])
        s += (f" Breaking this rule lets {p.b} end the contract immediately." if "terminate" in t else " A breach is treated as serious and can't be fixed.")
    return fmt(t, p), s


def holiday(rng):
    days_ = rng.choice([20, 22, 25, 25, 28, 30])
    carry = rng.choice([None, 3, 5, 10])
    year = rng.choice([("calendar year", "calendar year"), ("holiday year running from 1 April to 31 March", "holiday year (April to March)")])
    emp = rng.choice(["the Employee", "you"])
    if emp == "you":
        t = f"You are entitled to {legal(rng, days_, 'working days')}' paid holiday in each {year[0]}, in addition to public holidays. Holiday must be booked with your manager at least {legal(rng, rng.choice([2, 4]), 'weeks')} in advance."
        s = f"You get {days_} days' paid holiday a {year[1]} plus public holidays, and must book it with your manager in advance."
    else:
        t = rng.choice([f"The Employee shall be entitled to {legal(rng, days_, 'days')}' paid annual leave per {year[0]} (pro rata for part-time staff) in addition to statutory public holidays.",
                        f"In each {year[0]} the Employee may take {legal(rng, days_, 'working days')} of paid holiday at times agreed with the Company, plus the usual bank and public holidays."])
        s = f"The employee gets {days_} days of paid holiday each {year[1]} on top of public holidays" + (", pro rata if part-time." if "pro rata" in t else ", taken at agreed times.")
    if carry:
        t += f" Up to {legal(rng, carry, 'days')} of unused holiday may be carried forward to the next holiday year; any other untaken holiday is lost without payment in lieu."
        s += f" Up to {carry} unused days can be carried over; the rest is lost."
    if rng.random() < 0.4:
        t += " On termination, accrued but untaken holiday will be paid, and holiday taken in excess of accrued entitlement will be deducted from final salary."
        s += " Untaken holiday is paid out when the job ends, and extra holiday taken is deducted from the final pay."
    return t, s


def training_clawback(rng):
    cur = rng.choice(["$", "£", "€"])
    amt = rng.choice([2000, 3500, 5000, 8000, 12000])
    m = rng.choice([12, 18, 24, 36])
    style = rng.choice([1, 2, 3])
    if style == 1:
        t = (f"The Company will pay the cost of the {rng.choice(['professional accounting qualification', 'project management certification', 'HGV licence training', 'cloud architecture course'])}, up to {cur}{amt:,}. "
             f"If the Employee resigns within {legal(rng, m, 'months')} of completing the training, the Employee shall repay those costs on a sliding scale reducing in equal monthly amounts over that period.")
        s = f"The company pays for the training (up to {cur}{amt:,}), but if the employee quits within {plain(m, 'months')} of finishing it, they must pay back a share that shrinks each month."
    elif style == 2:
        t = (f"Where the Employer funds external training costing more than {cur}{amt:,}, the Employee agrees to refund the full cost if they leave voluntarily within {legal(rng, m, 'months')} after the course ends, "
             f"and may have the amount deducted from final pay.")
        s = f"If the employer pays over {cur}{amt:,} for outside training and the employee leaves voluntarily within {plain(m, 'months')}, they must repay it all, possibly from their final pay."
    else:
        t = (f"Training fees of up to {cur}{amt:,} per year will be met by the Company. Should you leave of your own accord, or be dismissed for gross misconduct, within {legal(rng, m, 'months')} of any such course, "
             f"you will reimburse the Company in full.")
        s = f"The company covers up to {cur}{amt:,} a year of training, but you must repay it in full if you resign or are fired for gross misconduct within {plain(m, 'months')} of a course."
    return t, s


def escrow(rng):
    p = P(rng, rng.choice([("Licensor", "Licensee"), ("Supplier", "Customer"), ("Vendor", "Customer"), ("Developer", "Client")]))
    days_ = rng.choice([30, 60, 90])
    upd = rng.choice(["with each major release", "at least every six months", "once each calendar quarter"])
    t = rng.choice([f"{cap(p.tA)} shall deposit the source code of the Software, together with build instructions, with an independent escrow agent within {legal(rng, days_, 'days')} of the Effective Date and shall update the deposit {upd}.",
                    f"Within {legal(rng, days_, 'days')} after signature, {p.tA} will place the source code and technical documentation for the Software in escrow with a recognised escrow provider, refreshing the deposit {upd}."])
    s = f"{cap(p.a)} must put the software's source code with an independent escrow agent within {plain(days_, 'days')} and update it {upd}."
    t += " " + rng.choice([f"The source code shall be released to {p.tB} if {p.tA} becomes insolvent or ceases to maintain the Software.",
                           f"{cap(p.tB)} may obtain the deposited material if {p.tA} goes out of business or fails to remedy a material support failure within 30 days."])
    s += (f" {cap(p.b)} gets the code if {p.a} goes insolvent or stops maintaining the software." if "ceases to maintain" in t
          else f" {cap(p.b)} can get the code if {p.a} goes out of business or doesn't fix a serious support failure within 30 days.")
    if rng.random() < 0.5:
        t += f" The escrow fees shall be borne by {p.tB}."
        s += f" {cap(p.b)} pays the escrow fees."
    return fmt(t, p), s


def mfn(rng):
    p = P(rng, rng.choice([("Supplier", "Customer"), ("Vendor", "Purchaser"), ("Provider", "Client")]))
    days_ = rng.choice([30, 60])
    t = rng.choice([f"{cap(p.tA)} warrants that the prices charged to {p.tB} are no higher than those charged to any other customer for comparable volumes of the same Products. If {p.tA} offers lower prices to another customer, it shall offer the same prices to {p.tB} within {legal(rng, days_, 'days')}.",
                    f"If, during the term, {p.tA} sells equivalent Services to a third party on more favourable terms, {p.tA} shall notify {p.tB} and apply those terms to {p.tB} from the same date."])
    if "warrants" in t:
        s = f"{cap(p.b)} must get prices at least as good as any other customer buying similar volumes; if someone else gets a lower price, {p.b} must be offered it within {plain(days_, 'days')}."
    else:
        s = f"If {p.a} gives another customer better terms for the same services, {p.b} automatically gets those terms too from the same date."
    if rng.random() < 0.5:
        t += f" {cap(p.tB)} may, once a year, require an officer of {p.tA} to certify compliance with this clause."
        s += f" {cap(p.b)} can ask for a yearly certificate that this is being followed."
    return fmt(t, p), s


def entire_agreement(rng):
    p = P(rng)
    fraud = rng.random() < 0.6
    t = rng.choice(["This {Agr} constitutes the entire agreement between the parties and supersedes all previous agreements, promises and understandings between them relating to its subject matter.",
                    "This {Agr}, together with the documents referred to in it, sets out everything the parties have agreed and replaces any earlier drafts, proposals or correspondence.",
                    "The parties agree that this {Agr} is the complete and exclusive statement of their agreement, and that no terms other than those set out in it shall apply."])
    s = rng.choice(["This document is the whole deal: it replaces anything the parties said or agreed before.",
                    "Only what's written in this contract counts; earlier discussions, drafts and promises don't."])
    if rng.random() < 0.6:
        t += " Each party acknowledges that in entering into this {Agr} it has not relied on any statement, representation or warranty that is not set out in it."
        s += " Neither side can claim it relied on something that isn't in the contract."
    if fraud:
        t += " Nothing in this clause limits or excludes liability for fraud."
        s += " This doesn't protect anyone who has lied fraudulently."
    return fmt(t, p), s


def third_party_rights(rng):
    p = P(rng)
    style = rng.choice([1, 2, 3])
    if style == 1:
        t = "A person who is not a party to this {Agr} has no right under the Contracts (Rights of Third Parties) Act 1999 to enforce any of its terms."
        s = "Only the parties themselves can enforce the contract; outsiders have no rights under it."
    elif style == 2:
        t = f"Except for the affiliates of {p.tB}, which may enforce clause {rng.randint(5, 14)} (Indemnities), no third party shall have any right to enforce this {{Agr}}."
        s = f"No one outside the contract can enforce it, except {p.b}'s affiliates, who can rely on the indemnity clause."
    else:
        t = "Nothing in this {Agr}, express or implied, is intended to confer upon any person other than the parties and their permitted successors any rights or remedies."
        s = "The contract gives no rights to anyone except the parties and those who properly take over from them."
    if rng.random() < 0.4:
        t += " The parties may vary or rescind this {Agr} without the consent of any third party."
        s += " The parties can change or cancel it without asking anyone else."
    return fmt(t, p), s


def set_off(rng):
    p = P(rng)
    style = rng.choice(["none", "allowed", "supplier"])
    if style == "none":
        t = f"All amounts due under this {{Agr}} shall be paid in full without any set-off, counterclaim, deduction or withholding, other than any deduction of tax required by law."
        s = "Payments must be made in full; the payer can't deduct amounts it thinks it is owed, except tax required by law."
    elif style == "allowed":
        t = f"{cap(p.tB)} may set off any amount owed to it by {p.tA} against any amount payable by {p.tB} to {p.tA} under this {{Agr}}."
        s = f"{cap(p.b)} can deduct anything {p.a} owes it from what it pays {p.a}."
    else:
        t = f"{cap(p.tA)} may at any time set off any liability of {p.tB} to {p.tA} against any liability of {p.tA} to {p.tB}, whether present or future and whether or not arising under this {{Agr}}."
        s = f"{cap(p.a)} can net off anything {p.b} owes it against anything it owes {p.b}, even under other arrangements."
    if rng.random() < 0.4:
        t += " Any exercise of this right shall be notified in writing with reasonable supporting detail."
        s += " Any deduction must be explained in writing."
    return fmt(t, p), s


def minimum_commitment(rng):
    p = P(rng, rng.choice([("Supplier", "Buyer"), ("Supplier", "Customer"), ("Manufacturer", "Distributor"), ("Provider", "Customer")]))
    qty = rng.choice([5_000, 10_000, 25_000, 50_000, 100_000])
    unit = rng.choice([("units", "units"), ("kilograms", "kg"), ("tonnes", "tonnes")])
    if unit[0] == "tonnes":
        qty = qty // 100
    pct = rng.choice([25, 40, 50, 100])
    t = rng.choice([f"{cap(p.tB)} shall purchase a minimum of {qty:,} {unit[0]} of Products in each contract year (the \"Minimum Quantity\"). If it purchases less, it shall pay {p.tA} {pct}% of the price of the shortfall within {legal(rng, 30, 'days')} of the end of that year.",
                    f"The parties agree a take-or-pay commitment of {qty:,} {unit[0]} per year: {p.tB} shall pay for at least that quantity, with any shortfall invoiced at {pct}% of the then-current unit price."])
    s = (f"{cap(p.b)} must buy at least {qty:,} {unit[1]} a year; if it buys less, it pays {pct}% of the price of the shortfall" + (" within 30 days of year end." if "within" in t else "."))
    if rng.random() < 0.4:
        t += " Quantities rejected for defects count towards the Minimum Quantity."
        s += " Defective deliveries it rejects still count towards the minimum."
    return fmt(t, p), s


def escalation(rng):
    p = P(rng)
    d1 = rng.choice([5, 10, 14])
    d2 = rng.choice([14, 20, 30])
    style = rng.choice(["mediation", "expert", "exec"])
    t = f"If a dispute arises, either party may refer it by written notice to the parties' project managers, who shall meet within {legal(rng, d1, 'Business Days')} to try to resolve it."
    s = f"Disputes first go to the project managers, who must meet within {plain(d1, 'business days')}."
    if style == "mediation":
        t += f" If the dispute is not resolved within {legal(rng, d2, 'days')} of the notice, the parties shall attempt to settle it by mediation before starting court proceedings."
        s += f" If that fails within {plain(d2, 'days')}, the parties must try mediation before going to court."
    elif style == "expert":
        t += f" Any technical dispute not resolved within {legal(rng, d2, 'days')} shall be referred to an independent expert, whose decision is final and binding except in the case of manifest error."
        s += f" Technical disputes still unresolved after {plain(d2, 'days')} go to an independent expert whose decision is final, unless it is obviously wrong."
    else:
        t += f" Failing agreement within {legal(rng, d2, 'days')}, the dispute shall be escalated to the chief executives of each party."
        s += f" If they can't agree within {plain(d2, 'days')}, it goes to the two chief executives."
    if rng.random() < 0.4:
        t += " Nothing in this clause prevents a party seeking urgent interim relief."
        s += " Either side can still seek urgent court orders."
    return fmt(t, p), s


def permitted_use(rng):
    use = rng.choice([("offices", "offices"), ("the retail sale of clothing and accessories", "a clothes and accessories shop"),
                      ("a restaurant with ancillary takeaway", "a restaurant (with takeaway)"), ("light industrial and storage purposes", "light industry and storage"),
                      ("a dental surgery", "a dental surgery"), ("a fitness studio", "a gym or fitness studio")])
    TT, LL = rng.choice([("Tenant", "Landlord"), ("Lessee", "Lessor")])
    hours = rng.random() < 0.4
    t = rng.choice([f"The {TT} shall not use the Premises other than for {use[0]}, and shall not change that use without the {LL}'s prior written consent, which shall not be unreasonably withheld.",
                    f"The Premises may be used only for {use[0]}. The {TT} shall obtain and comply with all planning and licensing requirements for that use."])
    s = f"The {TT.lower()} may only use the premises as {use[1]}" + (f" unless the {LL.lower()} reasonably agrees to a change." if "change that use" in t else ", and must get any permits needed for that.")
    if hours:
        h = rng.choice(["11 pm", "midnight", "10 pm"])
        t += f" The {TT} shall not trade from the Premises after {h} on any day."
        s += f" It can't trade after {h}."
    if rng.random() < 0.4:
        t += f" No part of the Premises shall be used for residential purposes."
        s += " Nobody may live there."
    return t, s


def repairs(rng):
    TT, LL = rng.choice([("Tenant", "Landlord"), ("Lessee", "Lessor")])
    style = rng.choice(["fri", "internal", "schedule"])
    if style == "fri":
        t = f"The {TT} shall keep the whole of the Premises, including the roof, structure and exterior, in good and substantial repair and condition throughout the Term."
        s = f"The {TT.lower()} is responsible for all repairs to the premises, including the roof, structure and outside."
    elif style == "internal":
        t = f"The {TT} shall keep the interior of the Premises in good repair, fair wear and tear excepted. The {LL} shall be responsible for repairing the structure, roof and common parts, and may recover its costs through the service charge."
        s = f"The {TT.lower()} repairs the inside (normal wear and tear excepted); the {LL.lower()} handles the structure, roof and shared areas, but can pass the cost on through the service charge."
    else:
        t = f"The {TT}'s repairing obligations shall not require it to put the Premises into any better condition than that shown in the Schedule of Condition annexed to this Lease."
        s = f"The {TT.lower()} never has to leave the premises in better condition than shown in the attached schedule of condition."
    if rng.random() < 0.5:
        d = rng.choice([30, 60, 90])
        t += f" If the {TT} fails to carry out repairs within {legal(rng, d, 'days')} of a written notice, the {LL} may enter and do the works at the {TT}'s cost."
        s += f" If the {TT.lower()} ignores a repair notice for {plain(d, 'days')}, the {LL.lower()} can do the work and charge for it."
    return t, s


NEW_FAMILIES = [holiday, training_clawback, escrow, mfn, entire_agreement, third_party_rights, set_off, minimum_commitment,
                escalation, permitted_use, repairs]


EXTRA_FAMILIES = [liquidated_damages, retention_of_title, acceptance, expenses, change_control, background_ip_licence,
                  non_disparagement, anti_bribery]


FAMILIES = [termination_convenience, termination_cause, payment_terms, confidentiality, indemnity, limitation, assignment,
            force_majeure, non_compete, non_solicit, ip_ownership, warranty_disclaimer, limited_warranty, data_protection,
            governing_law, auto_renewal, price_adjustment, audit, insurance, publicity, notices, sla, exclusivity,
            employment_notice, security_deposit, rent_review, subcontracting, survival]
FAMILIES = FAMILIES + EXTRA_FAMILIES + NEW_FAMILIES


def decorate(rng, clause, fam):
    """Optional clause number / heading, as in real documents."""
    head = fam.__name__.replace("_", " ").title()
    heads = {"Termination Convenience": "Termination for Convenience", "Termination Cause": "Termination for Cause",
             "Limitation": "Limitation of Liability", "Indemnity": "Indemnification", "Ip Ownership": "Intellectual Property",
             "Sla": "Service Levels", "Employment Notice": "Probation and Notice", "Auto Renewal": "Term and Renewal",
             "Non Compete": "Restrictive Covenants", "Non Solicit": "Non-Solicitation", "Governing Law": "Governing Law and Jurisdiction",
             "Background Ip Licence": "Licence Grant", "Retention Of Title": "Retention of Title", "Non Disparagement": "Non-Disparagement",
             "Anti Bribery": "Anti-Bribery", "Change Control": "Change Control", "Acceptance": "Acceptance Testing",
             "Expenses": "Expenses", "Liquidated Damages": "Delay Payments" if rng.random() < 0.3 else "Liquidated Damages",
             "Warranty Disclaimer": "Disclaimer of Warranties", "Limited Warranty": "Product Warranty", "Payment Terms": "Payment",
             "Price Adjustment": "Price Changes", "Security Deposit": "Deposit", "Rent Review": "Rent Review", "Audit": "Audit Rights",
             "Holiday": "Holidays", "Training Clawback": "Training Costs", "Escrow": "Source Code Escrow", "Mfn": "Most Favoured Customer",
             "Third Party Rights": "Third Party Rights", "Set Off": "Set-Off", "Minimum Commitment": "Minimum Purchase Commitment",
             "Escalation": "Dispute Resolution", "Permitted Use": "Use of the Premises", "Repairs": "Repair"}
    head = heads.get(head, head)
    x = rng.random()
    if x < 0.3:
        return clause
    if x < 0.55:
        return f"{rng.randint(2, 24)}.{rng.randint(1, 9)} {clause}"
    if x < 0.75:
        return f"{rng.randint(2, 24)}. {head}. {clause}"
    if x < 0.88:
        return f"{head.upper()}. {clause}"
    return f"Clause {rng.randint(2, 24)} ({head}): {clause}"


NUMWORDS = set(ONES + TENS[2:] + ["hundred"])
ROLEWORDS = {w.lower() for pair in PAIRS for r in pair for w in r.split()} | {
    "tenant", "landlord", "lessee", "lessor", "employee", "executive", "employer", "company", "the", "franchisor", "franchisee",
    "reseller", "host", "agreement", "contract", "master"}


def shingles(text):
    """Word trigrams with numbers and party names masked, so that two clauses that differ
    only in their numbers or parties count as near-identical."""
    out = []
    for w in re.findall(r"[a-z0-9%.]+", text.lower()):
        w = w.strip(".")
        if not w:
            continue
        if re.fullmatch(r"[0-9.,%]+", w) or w.split("-")[0] in NUMWORDS:
            w = "#"
        elif w in ROLEWORDS:
            continue
        if out and out[-1] == "#" and w == "#":
            continue
        out.append(w)
    return {" ".join(out[i:i + 3]) for i in range(max(len(out) - 2, 1))}


def vocab(text):
    """Set of words with numbers and party names left out."""
    out = set()
    for w in re.findall(r"[a-z0-9%.]+", text.lower()):
        w = w.strip(".")
        if not w or w in ROLEWORDS or re.fullmatch(r"[0-9.,%]+", w) or w.split("-")[0] in NUMWORDS:
            continue
        out.add(w)
    return out


def opening(clause):
    """The first words of a clause with numbers and party names left out."""
    ws = [w for w in re.findall(r"[a-z]+", clause.lower())[:12] if w not in ROLEWORDS and w not in NUMWORDS]
    return " ".join(ws)


def tidy(text):
    """'one (1) month' notice' -> 'one (1) month's notice'."""
    return re.sub(r"\b(month|week|day|year|hour)' ", r"\1's ", text)


KEEP_CAPS = {"English", "Irish", "Ontario", "Delaware", "German", "Scots", "Dutch", "Singapore", "New", "I"}


def two_sentences(summary):
    """Summaries are one or two sentences: fold any third or later sentence into the second."""
    parts = [x for x in re.split(r"(?<=[.!?])\s+(?=[A-Z])", summary) if x]
    if len(parts) <= 2:
        return summary
    rest = []
    for x in parts[1:]:
        x = x.rstrip(".")
        first = x.split()[0]
        if first not in KEEP_CAPS:
            x = x[0].lower() + x[1:]
        rest.append(x)
    second = "; ".join(rest)
    return parts[0] + " " + second[0].upper() + second[1:] + "."


def too_similar(sh, accepted, thr):
    for o in accepted:
        inter = len(sh & o)
        if inter and inter / (len(sh) + len(o) - inter) > thr:
            return True
    return False


def main():
    rng = random.Random(SEED)
    total = sum(n for _, n in SPLITS)
    # families with fewer natural variants appear less often (see DATA_CARD.md)
    counts = {'termination_convenience': 10, 'termination_cause': 8, 'payment_terms': 12, 'confidentiality': 16,
              'indemnity': 11, 'limitation': 12, 'assignment': 5, 'force_majeure': 16, 'non_compete': 8, 'non_solicit': 16,
              'ip_ownership': 16, 'warranty_disclaimer': 12, 'limited_warranty': 4, 'data_protection': 16, 'governing_law': 16,
              'auto_renewal': 5, 'price_adjustment': 7, 'audit': 12, 'insurance': 13, 'publicity': 5, 'notices': 7, 'sla': 4,
              'exclusivity': 11, 'employment_notice': 7, 'security_deposit': 5, 'rent_review': 7, 'subcontracting': 8,
              'survival': 2, 'liquidated_damages': 7, 'retention_of_title': 7, 'acceptance': 8, 'expenses': 4,
              'change_control': 5, 'background_ip_licence': 8, 'non_disparagement': 8, 'anti_bribery': 4, 'holiday': 8,
              'training_clawback': 3, 'escrow': 3, 'mfn': 2, 'entire_agreement': 5, 'third_party_rights': 3, 'set_off': 3,
              'minimum_commitment': 2, 'escalation': 3, 'permitted_use': 3, 'repairs': 3}
    assert sum(counts.values()) == total, sum(counts.values())
    fams = [f for f in FAMILIES for _ in range(counts[f.__name__])]
    rng.shuffle(fams)
    rows = []
    accepted = []
    by_opening = {}
    vocabs = []
    for i, fam in enumerate(fams):
        for attempt in range(400):
            clause, summary = fam(rng)
            clause, summary = tidy(clause), two_sentences(tidy(summary))
            key = opening(clause)
            clause = re.sub(r"\s+", " ", decorate(rng, clause, fam)).strip()
            n = len(clause.split())
            if n < 30 or n > 120:
                continue
            sh = shingles(clause)
            relax = 0.1 if attempt >= 250 else 0.0
            if too_similar(sh, accepted, 0.6 + relax):
                continue
            # clauses that open with the same wording must differ clearly in the rest
            if too_similar(sh, by_opening.get(key, []), 0.42 + relax):
                continue
            vo = vocab(clause)
            if too_similar(vo, vocabs, 0.6 + relax):
                continue
            break
        else:
            raise RuntimeError(f"could not build a distinct {fam.__name__} clause")
        accepted.append(sh)
        vocabs.append(vo)
        by_opening.setdefault(key, []).append(sh)
        rows.append({"id": f"cls-{i + 1:05d}", "clause": clause, "summary": summary, "_fam": fam.__name__})
    # stratified split: walk the rows family by family and deal them out in a fixed
    # 9-slot pattern (6 train, 1 validation, 2 test), which gives exactly 240/40/80
    pattern = ["train", "test", "train", "train", "validation", "train", "test", "train", "train"]
    order = [r for f in FAMILIES for r in rows if r["_fam"] == f.__name__]
    out = {split: [] for split, _ in SPLITS}
    for k, r in enumerate(order):
        out[pattern[k % len(pattern)]].append(r)
    n = 0
    for split, size in SPLITS:
        assert len(out[split]) == size, (split, len(out[split]))
        for r in out[split]:
            n += 1
            r["id"] = f"cls-{n:05d}"
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    for split, _ in SPLITS:
        with open(os.path.join(HERE, "data", f"{split}.jsonl"), "w", encoding="utf-8", newline="\n") as fh:
            for r in out[split]:
                fh.write(json.dumps({"id": r["id"], "clause": r["clause"], "summary": r["summary"]}, ensure_ascii=False) + "\n")
        print(f"{split}: {len(out[split])}")
    if "--stats" in sys.argv:
        print("| clause family | train | validation | test |\n|---|---|---|---|")
        for f in FAMILIES:
            print(f"| {f.__name__} | " + " | ".join(str(sum(r["_fam"] == f.__name__ for r in out[sp])) for sp, _ in SPLITS) + " |")


if __name__ == "__main__":
    main()
