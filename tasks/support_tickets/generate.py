#!/usr/bin/env python3
"""Generate the synthetic `support_tickets` classification task (standard library only).

Run from the repository root:

    python tasks/support_tickets/generate.py

It rewrites tasks/support_tickets/data/tickets.jsonl byte-for-byte identically on every
run. The tickets are written to a fictional company, Tillwise (point-of-sale and
inventory software sold as a subscription, plus card readers, printers and docks that are
shipped to customers). All names, stores, order numbers and error codes are invented.
"""
from __future__ import annotations

import json
import os
import random
import re

SEED = 90517
HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS = {"technical": 213, "billing": 170, "account": 120, "shipping": 85, "cancellation": 57,
          "feedback": 36, "other": 29}  # 710 tickets

# ---------------------------------------------------------------------------
# Slot values
# ---------------------------------------------------------------------------
FIRST = ["Maria", "Tom", "Aisha", "Kenji", "Lucia", "Ben", "Priya", "Olu", "Sven", "Chloe", "Rafael", "Mei",
         "Dan", "Fatou", "Jakub", "Hannah", "Ravi", "Zoe", "Ahmed", "Ines", "Greg", "Yusuf", "Elif", "Nina",
         "Carlos", "Bea", "Kwame", "Leah", "Marek", "Sinead", "Tariq", "Joanne", "Pedro", "Anya", "Wes", "Hiro",
         "Lotte", "Sam", "Dimitri", "Rosa", "Femi", "Kate", "Ibrahim", "Mila", "Connor", "Thu", "Arjun", "Deb"]
LAST = ["Kumar", "Okafor", "Schmidt", "Rossi", "Nguyen", "Walsh", "Haddad", "Lindberg", "Moreno", "Tanaka",
        "Brown", "Kowalczyk", "Osei", "Dubois", "Patel", "Murphy", "Yilmaz", "Fischer", "Silva", "Park", "Reid",
        "Ahmed", "Novak", "Costa", "Ward", "Jansen", "Mensah", "Quinn", "Sato", "Ortega"]
STORES = ["Bluebird Café", "Kumar Mini Mart", "Nordic Knits", "Green Bean Coffee", "The Pickled Onion", "Salt & Stone",
          "Hopscotch Toys", "Fern & Fig Florist", "Riverside Bikes", "Mama Ines Bakery", "Little Lantern Books",
          "Urban Roots Barbers", "Copper Kettle Tearoom", "Pixel Pet Supplies", "Casa Lupe Taqueria",
          "Northside Hardware", "Velvet Vinyl Records", "Sunrise Nail Studio", "Harbour Fish Bar", "Oak & Ivy Gifts",
          "Brew Brothers Taproom", "Lotus Yoga Shop", "Tiny Tots Boutique", "Market Lane Deli", "Ember Pizza Co",
          "Sole Mates Shoes", "Wild Honey Apothecary", "Dockside Chandlery", "Kaffee Klatsch", "Golden Wok"]
PLANS = ["Starter", "Growth", "Pro", "Pro Plus"]
ADDONS = ["Loyalty add-on", "Payroll add-on", "Advanced Inventory", "Online Store add-on", "Gift Cards module",
          "Multi-location add-on"]
DEVICES = ["Tillwise Reader 2", "Reader Mini", "TP-80 receipt printer", "Tillwise Dock", "S1 barcode scanner",
           "cash drawer", "Reader 2 (the white one)", "kitchen printer", "customer display"]
OS = ["iOS 17.4", "iOS 16.7", "Android 14", "Android 13", "iPadOS 17", "Windows 11", "macOS Sonoma",
      "a Samsung Galaxy Tab A8", "an iPad 9th gen", "Chrome on a Chromebook"]
CUR = [("$", 1), ("£", 1), ("€", 1), ("A$", 1.5), ("C$", 1.3), ("NZ$", 1.6)]
COURIERS = ["DPD", "UPS", "FedEx", "Royal Mail", "DHL", "PostNL", "Canada Post", "Australia Post", "USPS", "GLS"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def digits(rng, n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


class Slots:
    def __init__(self, rng):
        self.rng = rng
        self.first = rng.choice(FIRST)
        self.last = rng.choice(LAST)
        self.store = rng.choice(STORES)
        self.plan = rng.choice(PLANS)
        self.plan2 = rng.choice([p for p in PLANS if p != self.plan])
        self.addon = rng.choice(ADDONS)
        self.device = rng.choice(DEVICES)
        self.os = rng.choice(OS)
        sym, mult = rng.choice(CUR)
        self.cur = sym
        self.amt = lambda lo, hi: f"{sym}{round(rng.randint(lo, hi) * mult)}" + (".00" if rng.random() < 0.3 else "")
        self.price = self.amt(29, 189)
        self.order = rng.choice([f"TW-{digits(rng, 5)}", f"#{digits(rng, 6)}", f"order {digits(rng, 7)}",
                                 f"TW{digits(rng, 6)}"])
        self.invoice = rng.choice([f"INV-{rng.randint(2022, 2025)}-{digits(rng, 5)}", f"invoice {digits(rng, 8)}",
                                   f"TWI{digits(rng, 6)}"])
        self.courier = rng.choice(COURIERS)
        self.month = rng.choice(MONTHS)
        self.day = rng.randint(2, 28)
        self.weekday = rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
        self.n_loc = rng.choice([2, 3, 4, 5, 7])
        self.email = f"{self.first.lower()}{rng.choice(['', '.', '_'])}{rng.choice([self.last.lower(), self.store.split()[0].lower()])}@{rng.choice(['gmail.com', 'outlook.com', 'yahoo.co.uk', 'icloud.com', 'hotmail.com', self.store.lower().replace(' ', '').replace('&', '').replace('é', 'e') + '.com'])}"
        self.ago = rng.choice(["yesterday", "this morning", "since the weekend", "for 3 days now", "since last week",
                               "since the update", "two days ago", f"on {self.weekday}", "last night"])


# ---------------------------------------------------------------------------
# Intents. Each intent has lead sentences (the main ask or problem). A lead is either a
# string or L(lead, details, asks, errors) with lead-specific follow-ups. Intent-level
# `details`, `impact`, `asks` and `err` fit every lead of the intent.
# A ticket = 1 lead + 0-2 details + 0-1 impact + 0-1 pasted error + 0-1 ask.
# ---------------------------------------------------------------------------
READERS = ["Tillwise Reader 2", "Reader Mini", "card reader", "Reader 2", "new reader", "white reader", "contactless reader"]
PRINTERS = ["TP-80", "receipt printer", "TP-80 printer", "front counter printer", "till 2 printer"]
HW = READERS + ["TP-80 printer", "Tillwise Dock", "S1 scanner", "barcode scanner", "cash drawer", "customer display"]


def L(lead, d=(), a=(), e=()):
    return dict(t=lead, d=list(d), a=list(a), e=list(e))


I = {}

I["t_reader"] = dict(label="technical",
    err=["ERR_READER_PAIRING_TIMEOUT", "Reader error R-{n3}: device not authorised", "Payment terminal error E-{n4}"],
    details=["It's fully charged.", "Restarted the reader, the iPad and the router.", "It worked fine until {until}.",
             "We're on {os}.", "The firmware says it's up to date."],
    impact=["We're taking cash only until this is fixed.", "Customers are walking out.", "Saturday is our busiest day.",
            "Lost a few sales already today."],
    asks=["What else can I try?", "Can someone call me?", "Is this a known problem?", "Please help asap.", "Do I need a replacement?"],
    leads=[L("My {reader} won't pair with the app anymore, it blinks blue and then gives up.", ["Bluetooth and location permissions are on.", "I already removed it and paired it again."]),
           L("The {reader} keeps disconnecting in the middle of payments.", ["Customers have to tap twice.", "The iPad is right next to it."]),
           L("The card reader isn't found when I search for devices in settings.", ["Bluetooth is on.", "Tried a different iPad, same problem."]),
           "Our {reader} shows a red light and won't accept any cards.",
           L("Contactless payments fail on the {reader} but chip and PIN works.", ["Phones and watches fail too."]),
           "The reader says 'not authorised' every time we try to take a payment.",
           L("We unboxed the second reader for our new till and the app can't see it at all.", ["The first reader still works."]),
           L("The {reader} drops the Bluetooth connection every few minutes.", ["Our router is in the back office, about 5 metres away."]),
           "The reader connects but the payment screen hangs on 'waiting for card'.",
           "Customers tap their cards and nothing happens, the {reader} just sits there.",
           "Tap to pay worked yesterday, today every card is declined with 'terminal error'.",
           L("The {reader} is stuck on 'updating' and won't take payments.", ["It's been like this for over an hour."]),
           "Every time a customer inserts a chip card the {reader} reboots.",
           L("Apple Pay works on the reader but Android phones with Google Pay don't.", [], ["Is Google Pay supported?"]),
           L("We have two readers and they keep connecting to the wrong iPad.", ["Each till should have its own reader."], ["How do I lock a reader to one iPad?"])])

I["t_printer"] = dict(label="technical",
    err=["Printer status: OFFLINE (code P-{n3})", "Printer not responding at 192.168.{n1}.{n2}"],
    details=["Turned it off and on, no change.", "We didn't change anything on our side.", "Running the app on {os}.",
             "Network cable is in and the light is green."],
    impact=["Customers keep asking for receipts.", "It's lunch rush here.", "We're writing orders by hand."],
    asks=["What settings should I check?", "Is there a fix?", "Please advise.", "Do we need a new printer?"],
    leads=["The {printer} shows as offline even though it's switched on.",
           "Receipts stopped printing {past}.",
           L("Our {printer} prints blank receipts since I changed the paper roll.", ["I think the paper is the right way round."]),
           L("The kitchen printer prints every order twice, sometimes three times.", [], [], []),
           "The {printer} prints random symbols instead of the receipt.",
           "Only the first line of the receipt comes out, then the printer stops.",
           L("Orders are not reaching the kitchen printer, they only show on the screen.", ["The kitchen staff can't see new orders."]),
           L("The cutter on the {printer} cuts the receipt in the middle.", ["It prints a test page fine from the button on the back."]),
           "The logo on our receipts prints as a black block now.",
           "The bar printer only prints drinks orders about half the time.",
           "Receipts print in a tiny font after the last update.",
           L("The printer prints the receipt but the cash drawer attached to it doesn't open.", ["The drawer is plugged into the printer."]),
           "The receipt printer works for sales but not for refunds.",
           "The printer prints the order number but not the items."])

I["t_crash"] = dict(label="technical",
    err=["Unhandled exception: NullReferenceException at Tillwise.Pos.Cart.Recalculate()",
         "App not responding (ANR) in com.tillwise.pos", "TypeError: Cannot read properties of undefined (reading 'sku')"],
    details=["Device is {os}.", "I've reinstalled it twice.", "Other apps work fine.", "It started {past}."],
    impact=["We can't sell anything.", "Staff are using pen and paper.", "This is costing us money."],
    asks=["Is there a known bug?", "Please fix.", "What should I do?", "Is an update coming?"],
    leads=["The app crashes as soon as I open it.",
           L("After the latest update the app freezes when I tap Charge.", [], ["Can I roll back the update?"]),
           "Tillwise closes itself every time I open the Reports tab.",
           "The POS is stuck on the loading screen.",
           "The checkout screen goes white and nothing responds until I force close the app.",
           "The app keeps logging me out and crashes when I log back in.",
           "Adding a discount to a sale makes the whole app crash.",
           L("The iPad app freezes for about 30 seconds after every sale.", ["It only happens on one of our {n_loc} iPads."]),
           L("Since updating to {version} the app won't open at all.", [], ["Can I roll back the update?"]),
           "The Android app force closes when I scan a barcode with the camera.",
           L("The app asks me to update but the update fails.", ["There is plenty of storage left."]),
           "The tips screen crashes the app when a customer picks a custom amount.",
           "Opening the customer list makes the app hang and then close.",
           L("The web dashboard crashes my browser tab when I open the product editor.", ["Tried Chrome and Firefox."])])

I["t_sync"] = dict(label="technical",
    err=["Error: SYNC_CONFLICT_409 (inventory item {n5} could not be merged)", "Sync paused: {n1} transactions pending upload",
         "Could not connect to Tillwise servers. [NET-{n3}]"],
    details=["Wi-Fi is working.", "I pressed 'sync now' several times.", "It started {past}.", "Logging out and back in didn't help."],
    impact=["We can't trust our numbers.", "Stocktake is tomorrow.", "Staff are confused."],
    asks=["How do I force a full sync?", "Can you check our account on your side?", "Please look into it."],
    leads=[L("Inventory isn't syncing between our {n_loc} locations, every iPad shows different stock.", ["We have about {n_items} products."]),
           "Sales made in offline mode never uploaded, the dashboard is missing yesterday afternoon.",
           "Products I add on the web dashboard don't show up on the POS.",
           "Stock levels jump back to old numbers after every sync.",
           "Price changes I made this morning aren't showing on the tills.",
           "New menu items appear on one till but not on the other.",
           "We sold items the system says we had zero of, the counts clearly aren't updating.",
           "Transactions from {weekday} are stuck as 'pending upload'.",
           "Orders from our online shop aren't coming through to the POS.",
           "Stock transfers from the warehouse to the shop never arrive in the system.",
           "Customer loyalty points aren't updating after purchases.",
           "Variants I created (sizes S to XL) only show as one product on the till."])

I["t_reports"] = dict(label="technical",
    err=["Export failed: report too large", "Error 500 - Something went wrong. Reference: {ref}"],
    details=["I checked the settings twice.", "Happens in the web dashboard and the app."],
    impact=["Our accountant is asking.", "Month end close is this week.", "I can't reconcile the till."],
    asks=["Can you check?", "Is this a bug?", "How do I fix the report?"],
    leads=[L("The end of day report doesn't match the card payments, it's off by a few transactions.", ["The payout amount itself is right."]),
           L("Sales after 11pm show up on the wrong day in reports, looks like a timezone problem.", ["We're in the {tz} timezone."]),
           "The CSV export of the sales report is empty when I pick a date range longer than a month.",
           "Dashboard totals for last Saturday are double what we actually took.",
           "Tax on receipts is worked out on the discounted price for some items and not others.",
           "The staff hours report shows zero for everyone.",
           "The gross margin report uses the old cost prices.",
           "Refunds aren't being subtracted in the daily summary.",
           "The tips report is missing cash tips entirely.",
           "Our weekly sales email shows last week's numbers twice.",
           "Discounts show as negative sales in the category report.",
           "The sales by employee report credits everything to the owner account.",
           "The exported Excel file has all the prices shifted one column to the right."])

I["t_api"] = dict(label="technical",
    err=["{{\"error\":\"invalid_token\",\"error_description\":\"The access token expired\"}}", "HTTP 429 Too Many Requests - retry after 60s",
         "502 Bad Gateway"],
    details=["Nothing changed on our side.", "Sandbox works, production doesn't.", "It started {past}."],
    impact=["Our online shop is overselling.", "Orders are piling up."],
    asks=["Is there an outage?", "Can an engineer look at our logs?", "Any known issues with the API?"],
    leads=[L("Our webhook endpoint stopped receiving order.created events.", [], [], ["Webhook delivery failed: 401 Unauthorized"]),
           "Calls to the inventory API started failing this morning.",
           L("The OAuth token refresh fails after an hour when using your REST API.", ["We're calling it from our own server."]),
           "The accounting integration stopped pushing sales, the last sync was {month} {day}.",
           "Our e-commerce plugin can't update stock through the API anymore.",
           L("We're getting rate limited on the products endpoint even with very few requests.", [], ["What are the correct limits?"]),
           "The API returns prices without tax even though the docs say they include it.",
           "Our Zapier connection stopped creating rows for new sales.",
           "Product images uploaded through the API come out rotated.",
           "API pagination skips items when there are more than 100 products.",
           L("Our developer says the webhook signature check fails on every request.", ["The API key was regenerated last week."])])

I["t_hw"] = dict(label="technical",
    err=[],
    details=["Restarted everything.", "It's about 14 months old.", "Tried another cable."],
    impact=["We're doing everything manually.", "Queue out the door."],
    asks=["Do I need a replacement?", "Please help.", "What can I check?"],
    leads=[L("The firmware update on the {hw} has been stuck at {pct}% for an hour.", [], ["Is it safe to unplug it?"], ["Firmware update failed (0x8007{n4})"]),
           "The Dock doesn't charge the iPad anymore, the light stays off.",
           "The barcode scanner beeps but nothing appears in the search field.",
           "The touchscreen on the customer display doesn't respond to taps.",
           "The {reader} battery dies after about an hour, it used to last all day.",
           "The cash drawer doesn't pop open after a cash sale.",
           "The scanner reads some barcodes with an extra digit at the end.",
           "The scale connected to the till shows the weight but the price doesn't update.",
           "The customer display stays on the Tillwise logo and never shows the basket.",
           "The cash drawer opens by itself randomly during the day.",
           "The Dock's ethernet port doesn't give the iPad an internet connection.",
           "The scanner ignores barcodes on our own printed labels."])

I["t_slow"] = dict(label="technical",
    err=["504 Gateway Time-out", "ERR_CONNECTION_RESET", "Error 500 - Something went wrong. Reference: {ref}"],
    details=["Internet is fine, other sites load.", "It was fine last week.", "Same on two different devices."],
    impact=["Queues are building up.", "Staff are frustrated."],
    asks=["Is something down?", "Can you check on your side?", "Any idea what's going on?"],
    leads=["The dashboard takes forever to load and sometimes times out.",
           "Taking a payment takes more than 20 seconds today.",
           L("Searching the product list is very slow since we passed {n_items} items.", ["Search used to be instant."]),
           L("I can't open the web dashboard at all.", ["Tried Chrome and Safari."]),
           "Everything in the app is laggy {since}.",
           "The reports page spins and never loads.",
           "Closing the day takes ten minutes now, it used to be instant.",
           "Loading a saved ticket takes ages on busy evenings.",
           "Syncing after offline mode took the whole night."])

I["b_double"] = dict(label="billing",
    details=["Screenshot from the bank attached.", "We only have one account with you.", "It happened last month too."],
    asks=["Please refund the duplicate.", "Can you reverse one of them?", "I need the extra payment back.", "Please sort this out."],
    leads=["I've been charged twice for the {plan} plan this month, two payments of {price} on the same day.",
           "My card statement shows {price} from Tillwise twice on {month} {day}.",
           "You billed us twice for {month}.",
           "There are two identical charges of {price} on our business account.",
           "Double payment taken for {invoice}.",
           "Got two receipts for the same subscription payment this month.",
           "{invoice} was paid twice, once on {weekday} and again the next day.",
           "The subscription payment went through twice after I updated my card.",
           L("Two charges for the hardware bundle on my credit card, I only ordered once.", ["Order number {order}."]),
           "The {addon} was billed twice on the same invoice."])

I["b_amount"] = dict(label="billing",
    details=["Nobody told us about a price change.", "We've been customers for years."],
    asks=["Please correct the invoice.", "Can you explain the charge?", "Please credit the difference.", "I'd like the difference refunded."],
    leads=["We downgraded from {plan2} to {plan} last month but the invoice is still the {plan2} price.",
           "Our subscription went up to {price} without any notice.",
           "Why is {invoice} higher than usual?",
           "The invoice says {price} but the pricing page shows the {plan} plan is cheaper.",
           "We're charged for {seats_hi} staff seats but only have {seats}.",
           "We're billed for {n_loc} locations and only have {n_loc_lo}.",
           "There's a charge for the {addon} that we never switched on.",
           "The {plan} plan was {price} when we joined but this month it's more and I didn't agree to that.",
           "Proration on our upgrade looks wrong, we were charged a full month for two days.",
           "Our bill includes the {addon} for two locations but we only use it in one.",
           L("The invoice charges us for the {plan2} plan but our account page says {plan}.", ["I checked the plan page in settings."]),
           "We were moved to a more expensive plan automatically when we passed the transaction limit, nobody asked us."])

I["b_invoice"] = dict(label="billing",
    details=["Our accountant needs it.", "Year end is coming up.", "We're being audited."],
    asks=["Please email it to {email}.", "Thanks.", "Can you send it over?"],
    leads=["Could you send me a copy of {invoice}?",
           "I need VAT invoices for the last {nmonths} months with our company name and VAT number on them.",
           "The invoices only show my personal name, can they be reissued to {store} Ltd?",
           "Where do I download invoices? I can only find receipts.",
           "I need a proper tax invoice for {month}, the receipt email isn't enough for our bookkeeper.",
           "The billing address on our invoices is the old one, please update it and resend {invoice}.",
           "Can invoices go to our accounts email instead of mine?",
           "Our accountant says the invoices need our registered company number on them, can you add it?",
           "Please send all invoices for this year as one PDF if possible.",
           "Is it possible to get monthly statements instead of one invoice per payment?",
           "The invoice PDF link in the email says 'expired'.",
           "Please add our purchase order number to the next invoices, finance rejects them otherwise."])

I["b_card"] = dict(label="billing",
    details=["I tried two different cards.", "The error just says 'payment failed'."],
    asks=["What should I do?", "Can you retry the payment?", "Please help before the account gets locked."],
    leads=["My payment failed and the app says our account will be limited in 3 days.",
           L("How do I change the card you charge for the subscription? The old one expired.", [], ["Thanks."]),
           L("Payment for {month} was declined, the bank says there's no problem on their side.", ["The card works everywhere else."]),
           L("Can I pay by bank transfer or direct debit instead of credit card?", [], ["Thanks."]),
           L("Your system keeps rejecting my new Visa when I update billing details.", ["The card works everywhere else."]),
           L("Can we pay the subscription by invoice? Our finance team prefers that.", [], ["Thanks."]),
           "I updated the card on {weekday} but it still says payment overdue.",
           L("The card on file belongs to my old business partner, I need to replace it with mine.", [], ["How do I do that?"]),
           "We keep getting 'payment overdue' emails but the bank shows the payment went out.",
           "Can we split the subscription payment across two cards?",
           "The billing page says 'card verification required' but doesn't show a way to verify.",
           "Our direct debit mandate was cancelled by the bank by mistake, how do we set it up again?"])

I["b_refund"] = dict(label="billing",
    details=["I have the confirmation email.", "I contacted you about this before."],
    asks=["Can I get a refund?", "Please refund it.", "How long does a refund take?", "I'd like the money back please."],
    leads=["The annual renewal of {price} went through but I had asked to move to monthly billing.",
           L("I was charged for the {addon} which I never activated.", ["We haven't used it at all."]),
           "I cancelled back in {month} but you still took {price} this month.",
           "{invoice} was charged after our free trial should have ended.",
           L("I got charged {price} for an upgrade I clicked by accident, nobody used it.", ["We haven't used it at all."]),
           "We were charged for a location we closed two months ago and told you about.",
           "We returned the hardware bundle within the 30 days but haven't had the refund yet.",
           "Your team said a credit would be issued for last month's outage, it isn't on my invoice.",
           "A customer refund was taken from our subscription card instead of our payouts.",
           "We paid for a year upfront and then you lowered the price two weeks later.",
           "We were charged the setup fee even though the offer said it was waived."])

I["b_promo"] = dict(label="billing",
    details=["I have the email from your sales team.", "We signed up on {month} {day}."],
    asks=["Please apply it and credit the difference.", "Can you fix the price?"],
    leads=["The promo code {promo} wasn't applied to my first invoice.",
           "Your sales rep promised us 3 months free but we've been charged from month one.",
           "We're a registered charity and should get the nonprofit discount, but {invoice} is full price.",
           "I was told annual billing gives two months free, the annual charge doesn't show that.",
           "The referral credit from our friend's shop never showed up on our bill.",
           "We signed up during the Black Friday offer, why am I paying the normal price?",
           "The 20% loyalty discount disappeared from our invoice this month.",
           "We were promised the old price for life when we signed up in 2020, now it's gone up.",
           "The education discount for our school café isn't on the invoice."])

I["b_tax"] = dict(label="billing",
    details=["Our VAT number is on the account settings page."],
    asks=["Please reissue the invoice.", "Can this be corrected?"],
    leads=["You charged VAT on our invoice but we're VAT registered in another EU country, it should be reverse charge.",
           L("Sales tax was added to {invoice} but we're tax exempt.", ["I can send the exemption certificate."]),
           "Why are we billed in US dollars? We're in {country} and signed up in local currency.",
           "Our subscription invoice has the wrong tax rate.",
           "The invoice is missing our VAT ID so we can't reclaim the tax.",
           "Can you change the VAT rate on our invoices? We're in Northern Ireland, not GB.",
           "We need the invoices to show GST separately for our BAS.",
           "Please remove VAT from our invoices, we're outside the EU.",
           "The invoice says 'tax: 0' but our card was charged tax on top."])

I["b_fee"] = dict(label="billing",
    details=["I compared it with the daily report.", "This is the second month in a row."],
    asks=["Please explain the charge.", "Can someone check our billing?", "Please refund the difference."],
    leads=["The card processing fee on last week's payout is higher than the {fee}% we agreed.",
           "What are your fees for contactless payments? The payout was lower than my sales.",
           "There's a {small} 'hardware rental' line on my invoice but I bought the reader outright.",
           "Why was there a {small} chargeback fee on our account?",
           "The payout for {weekday} is missing {small} and I can't see why.",
           "We were charged a monthly fee for the Reader Mini but it was supposed to be included in the plan.",
           "The instant payout fee seems to have doubled.",
           "There's an 'inactive hardware' fee on our invoice, what is that?",
           "Amex payments seem to cost more than Visa, where is that in the pricing?"])

I["a_login"] = dict(label="account",
    details=["My email is {email}.", "I'm the account owner.", "Tried on the app and the website.", "Cleared cookies, same thing."],
    asks=["Please help, we open in an hour.", "Can you reset it from your side?", "What should I do?"],
    leads=["The app says 'session expired' every few minutes and kicks me out.",
           "I set up the account with my old work email which doesn't exist anymore, how do I get in?",
           "Login works on my phone but not on the shop iPad.",
           "I keep getting 'too many requests' when I try to sign in.",
           "I can't log in, it says my password is wrong but I just reset it.",
           L("The password reset email never arrives.", ["Checked spam too."]),
           L("Account locked after too many login attempts.", [], ["How long until I can try again?"]),
           "The login page keeps sending me back to the login page.",
           "Can't get into my account, I forgot which email I used to sign up.",
           L("Staff PIN login stopped working for all my employees.", ["The owner login still works."]),
           "I get 'user not found' with the email I've always used.",
           "Every time I log in on the iPad it asks me to verify my email again.",
           "After changing my email I can't log in with either the old or the new one.",
           "My staff account says 'deactivated' but the owner didn't change anything.",
           "My manager changed the password and left, now none of us can log in to the dashboard.",
           "Sign in with Google just spins and never logs me in."])

I["a_2fa"] = dict(label="account",
    details=["Account email is {email}.", "I can verify my identity.", "I'm the only admin on the account."],
    asks=["What do you need from me?", "Urgent please.", "How do I reset it?"],
    leads=["I'm stuck on the 'enter your code' screen, no code ever arrives by email.",
           "Our shared shop phone got the 2FA codes and it was stolen.",
           "Two-step verification was turned on by someone without asking me and now I'm locked out.",
           "I lost my phone with the authenticator app and can't get past two-factor login.",
           "The 2FA code by SMS never comes through.",
           "New phone, and the authenticator codes don't work anymore.",
           "Can you turn off two-factor on my account? I don't have that number anymore.",
           "The verification code says expired every time I enter it.",
           "I changed my phone number and the login codes still go to the old one.",
           "Backup codes for two-step login don't work, it says invalid.",
           L("I want to switch 2FA from SMS to an authenticator app.", [], ["Where is that setting?"])])

I["a_users"] = dict(label="account",
    details=["Couldn't find it in settings.", "We're on the {plan} plan.", "We have {seats} staff across two shops."],
    asks=["Thanks!", "Can you do it for me?", "How do I set this up?"],
    leads=["How do I give a part-time worker access only on weekends?",
           "Can I see which staff member logged in on {weekday} evening?",
           "I want to rename a staff role from 'Cashier' to 'Team member', is that possible?",
           "Staff invitations go out but the links say 'invalid'.",
           "How do I add a staff member so she can use the till but not see reports?",
           L("An employee left last week, please remove her access.", ["She was a manager at {store}."]),
           "I need to give my accountant read-only access to the dashboard.",
           "One of my staff can issue refunds and shouldn't be able to.",
           "Please make my business partner {pname} an admin on our account.",
           "How many user logins do we get on the {plan} plan?",
           "Our manager needs access to the second location but not the first.",
           "How do I stop a staff member from voiding sales without a manager PIN?",
           "I accidentally deleted a staff profile, can it be restored with their sales history?",
           "Can two people share one login or does each need their own seat?"])

I["a_owner"] = dict(label="account",
    details=["I can send proof if needed.", "The account email is {email}."],
    asks=["Thank you.", "Please let me know the steps.", "What documents do you need?"],
    leads=["We're converting from a sole trader to a limited company, does the account need to change?",
           "Can I have one login that covers both of my businesses?",
           "Please switch the account language to Spanish, the owner doesn't read English well.",
           L("I'm selling the business, how do I transfer the account to the new owner?", ["The sale completes at the end of {month}."]),
           "Please change the login email from {email} to our new company address.",
           "We changed the business name to {store}, can you update it on the account?",
           "I have two accounts by mistake, one for each shop. Can they be merged?",
           "The account is in my ex-manager's name and I need to become the owner.",
           "Our business address changed, where do I update it on the account?",
           "My co-owner left the business, can you remove him as owner and make me the only admin?",
           "Please update the legal entity name on our account, we incorporated last month.",
           "My name is spelled wrong on the account, can you correct it?",
           "We need to change the phone number on the account, the old one goes to a former employee."])

I["a_privacy"] = dict(label="account",
    details=["My email is {email}.", "I'd like this in writing for our records."],
    asks=["Please confirm when done.", "How long will it take?", "Who is your data protection contact?"],
    leads=["Please close my personal login but keep the business account running, I'm handing over to my daughter.",
           "Do you share our customer email list with anyone? A customer asked.",
           "Under GDPR I'm requesting a copy of all personal data you hold about me.",
           L("Please delete my personal user profile, I used to work at a shop that uses Tillwise.", ["I don't work there anymore."]),
           "How do I export all our customer data from the account?",
           "Which email addresses are linked to my account? I want to remove the old ones.",
           "Please remove my phone number from the account.",
           "A former customer asked us to delete their data, how do I remove them from our customer list?",
           "Can you confirm where our account data is stored? We need it for our data protection records.",
           "I want all data about my customers deleted from your systems when we leave, how does that work?"])

I["a_verify"] = dict(label="account",
    details=["We're a sole trader, not a limited company.", "I've already sent everything you asked for."],
    asks=["Please check.", "This is holding up our payouts.", "What else do you need?"],
    leads=["Why do you need my date of birth to verify a business account?",
           "The ID check keeps failing because my name has an accent in it.",
           "We got an email saying our account is restricted until we verify our identity, I've uploaded my passport twice.",
           L("Your verification keeps rejecting my proof of address.", ["The document is clear and in date."]),
           "Payouts are on hold because of 'account verification'.",
           "The verification form won't accept our company registration number.",
           "Our account has said 'under review' for a week now.",
           "You asked for a bank statement to verify the account, can I send a screenshot from the banking app instead?",
           "We changed bank accounts and now payouts are blocked pending verification.",
           "Verification asks for a utility bill but we're a new business and don't have one yet."])

I["s_where"] = dict(label="shipping",
    details=["Someone is at the shop every day from 8.", "The address on the order is correct.", "We're opening a new location on the 1st."],
    asks=["Can you send tracking?", "Please check with the courier.", "When will it arrive?"],
    leads=["We paid for express shipping on {order} and it's taking longer than standard would.",
           "The tracking link in your email goes to a page that says 'shipment not found'.",
           "Half of our order arrived, the printer part is still missing and there's no second tracking number.",
           "Where is my order {order}? It should have arrived {when}.",
           "Tracking for {order} hasn't updated in five days, it just says 'label created'.",
           "We ordered two readers {ndays} days ago and have no tracking number.",
           "{courier} says delivered but nothing arrived at our shop.",
           "When will the replacement {hw} ship?",
           "The order page says 'processing' for over a week.",
           "Our hardware bundle still hasn't shipped.",
           "My replacement reader was promised for {weekday} and it's still not here.",
           "The courier tried to deliver when we were closed, now tracking says 'returned to sender'.",
           "Order {order} shows 'delivered to parcel locker' but we never got a code.",
           "It's been two weeks since I ordered receipt paper rolls and nothing has come.",
           "The courier left a card but the depot says they don't have our parcel."])

I["s_damaged"] = dict(label="shipping",
    details=["Photos attached.", "The courier note says 'damaged in transit'.", "We kept all the packaging."],
    asks=["How do we get a replacement sent?", "What's the process?", "Please send the right one."],
    leads=["The scanner in {order} rattles, something is loose inside.",
           "The cash drawer was dented on one side when it arrived and the tray doesn't close.",
           "The box for {order} arrived crushed and the {screen_hw} screen is cracked.",
           "The package arrived wet and the printer has a broken paper cover.",
           "The {hw} was missing from the box, only the cable was inside.",
           "Wrong item: we ordered a {hw} and got a {hw2}.",
           "Only one of the three readers we ordered was in the parcel.",
           "The parcel was opened and resealed with courier tape, the charger is missing.",
           "Received the printer today but the power supply has a US plug.",
           "The Dock arrived with a bent connector and doesn't fit the iPad.",
           "The receipt paper rolls arrived squashed and won't fit in the printer.",
           "We got someone else's order, the packing slip has a different shop name."])

I["s_address"] = dict(label="shipping",
    details=["I don't think it has shipped yet.", "The order was placed on {weekday}."],
    asks=["Thanks.", "Please confirm.", "Let me know if that's possible."],
    leads=["Can {order} go to our warehouse instead? The shop has no loading bay.",
           "Please add 'Unit 4, back entrance' to the delivery address, couriers can never find us.",
           "Can you change the delivery address on {order}? We moved to a new unit.",
           "I put the wrong postcode on {order}, can it be fixed before it ships?",
           "Please ship the reader to our second store instead of head office.",
           "Can the delivery be left with the shop next door?",
           "Can you hold {order} until next week? Nobody will be at the shop.",
           "Our shop is closed for renovation, could you deliver {order} to my home address instead?",
           "Can the courier call before delivery? Our shop has no street entrance.",
           "The delivery address has our old shop name, will the courier still find us?"])

I["s_options"] = dict(label="shipping",
    details=["We're opening soon.", "We'd like to order this week."],
    asks=["Please advise.", "Thanks.", "How much would that cost?"],
    leads=["Which courier do you use for Ireland? Some of them won't deliver to our area.",
           "Can I add a second reader to an order that hasn't shipped yet?",
           "Do you ship replacement parts like the Dock cable separately?",
           "{courier} wants {small} import duty before they hand over the package, nobody mentioned customs fees.",
           "How much is shipping to {country} and how long does it take?",
           "Do you offer express delivery? Standard says 5-7 business days.",
           "Can I get a return label for the unused {hw}? We ordered one too many.",
           "Do you deliver to PO boxes or the Channel Islands?",
           "Can we collect the order instead of having it delivered?",
           "Is it possible to ship to a hotel? I'm setting up a pop-up shop there.",
           "How do I send back the faulty reader, do you provide a prepaid label?",
           "Can I order extra receipt paper with next-day delivery?",
           "Do you ship hardware to Iceland?",
           "If I order today, will it arrive before {weekday}?"])

I["c_cancel"] = dict(label="cancellation",
    details=["The reader has been disconnecting all month.", "The last price increase was the final straw.",
             "We never got used to the inventory features.", "Business is slow.", "The owner is retiring.",
             "Support was great, it's just not the right fit for us.", "We found a cheaper option that does what we need.",
             "Our landlord didn't renew the lease on the shop."],
    asks=["Please confirm in writing.", "What happens to our data?", "Please confirm there will be no further charges.",
          "Can I download my sales history first?", "Is there a cancellation fee?"],
    leads=["Please cancel Tillwise for us. We're going back to a simple cash register.",
           "I'm writing to give notice that we're ending our subscription.",
           "Can you confirm the last day of service if I cancel today?",
           "We want to stop the monthly plan and just keep read-only access to old reports, is that possible? If not, cancel everything.",
           "Please don't renew us in {month}, we're switching providers.",
           "I've been trying to cancel through the app for days, please just do it for me.",
           "The shop is closing at the end of the month so please end the plan then.",
           "Please cancel the Payroll add-on and the Loyalty add-on, we only want the basic plan.",
           "We signed up by mistake for the annual plan, please cancel it within the cooling-off period.",
           "I'm the new owner and I don't want to keep the previous owner's Tillwise subscription.",
           "Please terminate our account and delete our data afterwards.",
           "Our free trial converted to paid and we don't want to continue, please cancel.",
           "Please cancel my subscription at the end of this billing period.",
           "We're closing the shop on {month} {day} and need to cancel our Tillwise plan.",
           "I want to cancel but can't find the button anywhere.",
           "Please turn off auto renewal on our annual plan, we won't continue next year.",
           "Cancel the {addon} please, we don't use it.",
           L("We're moving to another POS provider, please close the account for all {n_loc} locations.", [], ["Do I need to return the reader?"]),
           "Cancel my account effective immediately.",
           "How much notice do I need to give to cancel the {plan} plan?",
           "Please downgrade us to nothing, we want to stop paying for Tillwise altogether.",
           "We sold the café, please end the subscription from the 1st of next month.",
           "Not renewing. Please make sure the annual plan doesn't auto renew on {month} {day}.",
           "How do I cancel the {plan} plan? I'd like it to stop after this month.",
           "We only need Tillwise for the summer season, can you cancel it now and we'll come back in spring?",
           "I'd like to terminate our contract with Tillwise, what's the procedure?",
           "Please stop the subscription for our {store} location only, the other shop stays.",
           "Our trial ends {weekday} and we don't want to continue, please make sure we're not charged.",
           "Close my Tillwise account please. We've stopped trading.",
           "We've decided not to keep the {addon}, please remove it from next month's bill.",
           "I need to cancel before the renewal date, which is next week.",
           "Please end our plan on the renewal date.",
           "We'd like to leave Tillwise at the end of the contract. Who do I tell?",
           "Please cancel the second location's subscription, that shop closed."])

I["f_feature"] = dict(label="feedback",
    details=["Otherwise we're very happy.", "Our old system had this.", "I bet other cafés would use it too."],
    asks=["Just an idea!", "Any plans for this?", "Would be a big help."],
    leads=["It would help if the app could remind staff to count the cash drawer at closing.",
           "Could the barcode labels include the price in a bigger font?",
           "Please consider a cheaper plan for seasonal businesses like ours.",
           "I'd love a dark mode on the POS screen, our bar is dark at night.",
           "Feature request: let us split a bill by item between several cards.",
           "It would be great if reports could be emailed automatically every Monday.",
           "Please add support for multiple currencies, we get lots of tourists.",
           "Suggestion: let staff clock in from the till, not only the phone app.",
           "Could you add gift receipts without prices?",
           "An option to round cash totals to the nearest 5 cents would help us.",
           "Please let us set different prices for takeaway and eat-in.",
           "It would be handy to see yesterday's sales on the home screen."])

I["f_praise"] = dict(label="feedback",
    details=["Keep it up.", "We tell other shop owners about you.", "Made my week honestly."],
    asks=["No reply needed.", "Cheers!", "Please pass this on to the team."],
    leads=["The new receipt design looks really professional, customers have noticed.",
           "The training videos on your site are excellent, thanks for making them.",
           "Love that the app works offline now, saved us during a power cut.",
           "Just wanted to say thanks to {pname} from your support team who sorted our printer on {weekday}.",
           "The new inventory screen is so much faster, great job.",
           "Two years on Tillwise and it's been rock solid.",
           "Your onboarding call was really helpful, we were up and running in a day.",
           "The new tipping screen is great, staff love it.",
           "Setup was so easy, even my dad managed to use the till on day one."])

I["f_complain"] = dict(label="feedback",
    details=["Just my two cents.", "Otherwise the product is fine.", "Other owners I know say the same."],
    asks=["No need to respond.", "Hope you take this on board.", "Please pass it on."],
    leads=["Please bring back the old colour scheme, the new one is hard to read in sunlight.",
           "The new loyalty emails look a bit spammy in my opinion.",
           "Your support chat hours don't suit hospitality, most problems happen after 9pm.",
           "Not a fan of the new menu layout, refunds take more taps now.",
           L("The redesign moved everything around and my staff are confused.", ["Please think about long-time users before changing things."]),
           "Your hold music is awful.",
           "The survey popup after every login is annoying.",
           "I rated you 6/10 in the survey: good product but support replies are slow.",
           "The new app icon is really hard to find on the home screen.",
           "Honestly the emails you send are too frequent, I get three a week."])

I["o_other"] = dict(label="other",
    details=["Sorry if this is the wrong address.", "I couldn't find a better contact on your website.",
             "Please forward this to the right team.", "I'm not a Tillwise customer myself."],
    asks=["Looking forward to hearing from you.", "Who should I talk to?", "Is there someone I can call?", "Thanks for your time."],
    leads=["Can I book a demo for my cousin's restaurant? He doesn't have an account yet.",
           "We're organising a retail tech conference in {city} and would like a speaker from Tillwise.",
           "I think someone is using your brand name on a fake website, you might want to look at it.",
           "Could you tell me if Tillwise works in Brazil? I'm asking for a friend who might open a shop.",
           "Our school is looking for companies to donate old tablets for a coding club.",
           "I'd like to write a guest post for your blog about running a small bakery.",
           "Is there a Tillwise user group or meetup near {city}?",
           "Your delivery van blocked our driveway this morning, please tell the driver.",
           "We're a translation agency, do you need your app translated into more languages?",
           "I got a letter addressed to Tillwise at our shop's address, what should I do with it?",
           L("I run an IT company and we'd like to become a Tillwise reseller in {city}.", ["We have over 200 clients in the area."]),
           "We make a booking app for salons and would like to talk about an integration partnership.",
           "I'm a journalist writing about small business tech, could someone from Tillwise comment?",
           L("Are you hiring? I'd like to apply for a support role.", ["I've attached my CV."]),
           "Do you sponsor local events? We're organising a street food festival.",
           "Sorry, I think I emailed the wrong company, I was trying to reach my bank.",
           "Do you have a sustainability report or info on recycling old devices?",
           "We offer SEO services and can get your website to page one of Google.",
           "I'm a student doing a project on payment systems, can I interview someone?",
           "Is Tillwise a public company? Where can I find investor information?",
           L("Can you send me your company's supplier onboarding form? We'd like to sell you office furniture.", ["Happy to send more details."]),
           "What are your office opening hours in Dublin? I have a parcel for your reception.",
           "We're a bank looking to partner with POS providers for merchant loans, who handles partnerships?",
           "I found a lost Tillwise reader on the train, how can I return it to its owner?",
           "Do you offer internships for computer science students in the summer?"])

INTENTS = {}
for _name, _d in I.items():
    INTENTS.setdefault(_d["label"], []).append(_name)
CUSTOMER_LABELS = {"technical", "billing", "account", "shipping", "cancellation", "feedback"}


def fill(rng, s, text):
    vals = dict(until=rng.choice(["yesterday", "the update", "last week", "Friday", "this morning"]),
                past=rng.choice(["yesterday", "this morning", "on " + s.weekday, "last night", "after the update", "two days ago"]),
                since=rng.choice(["since yesterday", "since the update", "for 3 days now", "since this morning", "since the weekend", "all day today"]),
                screen_hw=rng.choice(["Reader 2", "customer display", "Reader Mini", "Tillwise Reader 2"]), reader=rng.choice(READERS), printer=rng.choice(PRINTERS), hw=rng.choice(HW), hw2=rng.choice(HW),
                ago=s.ago, os=s.os, version=f"version {rng.randint(4, 7)}.{rng.randint(0, 19)}",
                n_loc=s.n_loc, n_loc_lo=max(1, s.n_loc - 1), weekday=s.weekday, month=s.month, day=s.day,
                n_items=rng.choice(["3,000", "5000", "8k", "12,000", "20 thousand"]), tz=rng.choice(["GMT", "CET", "Pacific", "AEST", "Eastern"]),
                plan=s.plan, plan2=s.plan2, price=s.price, invoice=s.invoice, addon=s.addon, seats=rng.randint(3, 9),
                seats_hi=rng.randint(10, 16), nmonths=rng.choice(["three", "six", "12", "4"]), store=s.store, email=s.email,
                promo=rng.choice(["SPRING20", "WELCOME3", "CAFE50", "SHOPLOCAL", "TILL25"]),
                country=rng.choice(["Ireland", "Germany", "the UK", "Australia", "Canada", "Norway", "Portugal"]),
                fee=rng.choice(["1.75", "1.9", "2.6", "1.4"]), small=s.amt(5, 60), pname=rng.choice(FIRST),
                order=s.order, courier=s.courier, when=rng.choice(["last week", "on " + s.weekday, "three days ago", "by the 15th"]),
                ndays=rng.randint(9, 21), pct=rng.randint(12, 97), city=rng.choice(["Leeds", "Lyon", "Perth", "Cork", "Austin", "Porto"]),
                n1=rng.randint(1, 9), n2=rng.randint(10, 250), n3=digits(rng, 3), n4=digits(rng, 4), n5=digits(rng, 5),
                ref=f"{digits(rng, 4)}-{rng.choice('abcdef')}{digits(rng, 3)}")
    return text.format(**vals)


LEAD_USE = {}


def compose(rng, s, name):
    d = I[name]
    # rotate through the lead sentences so that no lead is over-used
    use = [LEAD_USE.get((name, i), 0) for i in range(len(d["leads"]))]
    cands = [i for i, u in enumerate(use) if u == min(use)]
    li = rng.choice(cands)
    LEAD_USE[(name, li)] = use[li] + 1
    item = d["leads"][li]
    if isinstance(item, str):
        item = L(item)
    lead = fill(rng, s, item["t"])
    det_pool = item["d"] + d.get("details", [])
    ask_pool = item["a"] + d.get("asks", [])
    err_pool = item["e"] + d.get("err", [])
    k = rng.choice([0, 1, 1, 2]) if det_pool else 0
    if item["d"] and k == 0 and rng.random() < 0.5:
        k = 1
    details = []
    for x in rng.sample(det_pool, min(k, len(det_pool))):
        details.append(fill(rng, s, x))
    err = fill(rng, s, rng.choice(err_pool)) if err_pool and rng.random() < 0.35 else None
    impact = fill(rng, s, rng.choice(d["impact"])) if d.get("impact") and rng.random() < 0.35 else None
    ask = fill(rng, s, rng.choice(ask_pool)) if ask_pool and rng.random() < 0.75 else ""
    parts = [lead]
    if name == "c_cancel" and details and rng.random() < 0.5:
        parts = details + parts  # the reason comes first; the ask is still to cancel
    else:
        parts += details
    if impact:
        parts.insert(rng.randint(1, len(parts)), impact)
    if err:
        intro = rng.choice(["Error:", "It says:", "The app shows:", "Getting this:", "Message:", ""])
        parts.append((intro + "\n" if intro else "") + err)
    if ask:
        parts.append(ask)
    return parts, (name, li)


# history / frustration sentences (make some tickets longer)
HISTORY = ["This is the third time I'm writing about this.",
           "I called on Monday and was told someone would email me back, but nobody did.",
           "I already went through every step in the help centre article and nothing changed.",
           "Your chatbot just keeps sending me the same link.",
           "We've been with you since the beginning and never had a problem like this before.",
           "My ticket from last week was closed without an answer.",
           "I spent an hour on this last night before giving up.",
           "Please don't just send me the FAQ, I've read it.",
           "I'm not very technical so please explain simply.",
           "I'm travelling this week so email is best, not phone.",
           "My manager {other_first} usually deals with this but she's on holiday.",
           "We have {n} staff relying on this every day."]

# secondary mentions that do not change the label (context / side remarks)
SIDE = {
    "billing": ["(also the last invoice looked odd but that can wait)", "Separately, I still haven't got my invoice for last month, but the main thing is this.",
                "Not urgent, but I'm still waiting on a refund from before."],
    "technical": ["The app has been a bit slow too, but whatever.", "Also the printer was acting up last week but it's fine now.",
                  "(The reader was also slow today, not the main issue.)"],
    "account": ["Btw I'm still logged in as the old manager, will sort that out later.", "Also need to add a user at some point but not now."],
    "shipping": ["The new reader we ordered hasn't arrived yet either, but I'll chase that separately.",
                 "PS the box from last order arrived a bit squashed, everything worked though."],
    "feedback": ["Love the app otherwise!", "Overall you guys are great.", "Your new reports are nice by the way."],
}

# ---------------------------------------------------------------------------
# Framing and noise
# ---------------------------------------------------------------------------
GREET = ["Hi,", "Hello,", "Hi there,", "Hello team,", "Dear Support,", "Dear Tillwise team,", "hey", "Good morning,",
         "Hi Tillwise,", "Hello support team,", "To whom it may concern,", "Hiya,", "Hola,", "Hallo,", "Good afternoon,",
         "Hi guys,"]
CONTEXT = ["We run {store} with {n} staff.", "I own {store}.", "We've been customers since 2021.",
           "This is {first} from {store}.", "I manage the {store} account.", "We're on the {plan} plan.",
           "Small business owner here.", "Writing on behalf of {store}.", "Long time user, first time writing in."]
CLOSE = ["Thanks", "Thanks!", "Thank you", "Regards", "Best regards", "Cheers", "Many thanks", "thx", "Kind regards",
         "Thanks in advance", "Appreciate it"]
SIGN = ["{first}", "{first} {last}", "{first}\n{store}", "{first} {last}\nOwner, {store}", "— {first} @ {store}",
        "{first_i}. {last}", "Sent from my iPhone", "{first}\nManager, {store}", "{store}"]

TYPOS = {"receive": "recieve", "received": "recieved", "definitely": "definately", "separately": "seperately",
         "account": "acount", "payment": "paymnet", "because": "becuase", "address": "adress", "invoice": "invoce",
         "printer": "priner", "subscription": "subscripton", "password": "pasword",
         "immediately": "immediatly", "business": "buisness", "until": "untill", "please": "plz",
         "something": "somthing", "tomorrow": "tommorow", "which": "wich", "working": "workng"}

NONNATIVE = [(r"\bI can't\b", "I cannot able to"), (r"\bdoesn't work\b", "is not working"), (r"\bPlease\b", "Kindly"),
             (r"\bI have\b", "I am having"), (r"\bIt's\b", "It is"), (r"\bwon't\b", "is not"), (r"\bCan you\b", "Can you please to"),
             (r"\bI need\b", "I am needing"), (r"\bsince\b", "from"), (r"\bWe are\b", "We are"), (r"\bthe app\b", "app"),
             (r"\bthe reader\b", "reader"), (r"\bhas been\b", "is")]
NN_CLOSERS = ["Kindly do the needful.", "Waiting your reply.", "Please revert back soon.", "Thanking you.",
              "Hope for fast answer.", "Please to help me."]


def add_typos(rng, text, rate):
    out = []
    for w in re.split(r"(\s+)", text):
        core = w.strip(".,!?").lower()
        if core in TYPOS and rng.random() < rate * 3:
            rep = TYPOS[core]
            w = w.lower().replace(core, rep)
        elif len(w) > 5 and w.isalpha() and rng.random() < rate:
            i = rng.randint(1, len(w) - 2)
            if rng.random() < 0.5:
                w = w[:i] + w[i + 1] + w[i] + w[i + 2:]  # swap
            else:
                w = w[:i] + w[i + 1:]  # drop
        out.append(w)
    return "".join(out)


def nonnative(rng, text):
    for pat, rep in NONNATIVE:
        if rng.random() < 0.6:
            text = re.sub(pat, rep, text)
    return text


def frame(rng, label, core, s):
    parts = []
    fmt = dict(other_first=rng.choice([f for f in FIRST if f != s.first]), store=s.store, n=rng.randint(2, 14), first=s.first, last=s.last, plan=s.plan, first_i=s.first[0])
    if rng.random() < 0.6:
        parts.append(rng.choice(GREET))
    if label != "other" and rng.random() < 0.35:
        parts.append(rng.choice(CONTEXT).format(**fmt))
    body = [c for c in core if c]
    if label in ("technical", "billing", "account", "shipping") and rng.random() < 0.22:
        hist = rng.sample(HISTORY, rng.choice([1, 1, 2]))
        for h in hist:
            body.insert(rng.randint(1, len(body)), h.format(**fmt))
    # mixed issues: a side remark in another category that is NOT the main ask
    if label in ("technical", "billing", "account", "shipping") and rng.random() < 0.2:
        side_labels = [l for l in SIDE if l != label]
        side = rng.choice(SIDE[rng.choice(side_labels)])
        pos = rng.randint(1, len(body))
        body.insert(pos, side)
    parts += body
    style_close = rng.random()
    last = parts[-1].lower()
    closed = any(w in last for w in ("thank", "regards", "cheers", "hearing from you", "no reply needed", "no need to respond"))
    close = "" if closed else rng.choice(CLOSE)
    if close and not close.endswith("!") and rng.random() < 0.6:
        close += ","
    if style_close < 0.55:
        sig = rng.choice(SIGN).format(**fmt)
        parts.append((close + "\n" if close else "") + sig)
    elif style_close < 0.7 and close:
        parts.append(close.rstrip(","))
    sep = rng.choice(["\n", " ", " ", "\n\n"])
    text = sep.join(parts)
    return text


def noise(rng, text):
    x = rng.random()
    if x < 0.14:
        text = text.lower()
        if rng.random() < 0.6:
            text = re.sub(r"[.,!;:'’]", "", text)
    elif x < 0.20:
        text = text.replace("\n", " ")
        if rng.random() < 0.5:
            text = re.sub(r"[.,]", "", text)
    if rng.random() < 0.3:
        text = add_typos(rng, text, rng.choice([0.02, 0.04, 0.07]))
    if rng.random() < 0.03:
        # shouting
        first = text.split(".")[0]
        text = first.upper() + text[len(first):]
    return text


SHORT = {
    "billing": ["refund pls", "why was i charged twice??", "need invoice for march", "card declined again wtf",
                "how much is the pro plan per month now", "charged after trial ended. refund"],
    "technical": ["printer offline again", "reader wont connect", "app crashing on ipad", "sync broken since update",
                  "Error 500 on dashboard, help"],
    "account": ["cant login", "reset password link expired", "2fa code not coming", "how to add staff login"],
    "shipping": ["where is my reader??", "tracking not updating", "box arrived damaged"],
    "cancellation": ["cancel my plan", "pls cancel subscription", "stop auto renew"],
    "feedback": ["love the new update!", "dark mode please"],
    "other": ["are you hiring?", "wrong email sorry"],
}


def nonnative_ticket(rng, label, core, s):
    text = nonnative(rng, " ".join(c for c in core if c))
    opener = rng.choice(["Dear Sir/Madam,", "Hello Sir,", "Respected team,", "Good day,", "Hello,"])
    return f"{opener} {text} {rng.choice(NN_CLOSERS)}" + (f"\n{s.first} {s.last}" if rng.random() < 0.5 else "")


def shingles(text, n=3):
    w = re.findall(r"[a-z0-9]+", text.lower())
    if len(w) < n:
        return {" ".join(w)}
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


def too_similar(sh, accepted, thr):
    for o in accepted:
        inter = len(sh & o)
        if inter and inter / (len(sh) + len(o) - inter) > thr:
            return True
    return False


def make_ticket(rng, label):
    s = Slots(rng)
    name = rng.choice(INTENTS[label])
    core, leadkey = compose(rng, s, name)
    if rng.random() < 0.12:
        text = nonnative_ticket(rng, label, core, s)
    else:
        text = frame(rng, label, core, s)
    text = noise(rng, text)
    return re.sub(r"[ \t]+", " ", text).strip(), " ".join(core), leadkey


def main():
    rng = random.Random(SEED)
    labels = [l for l in COUNTS for _ in range(COUNTS[l])]
    rng.shuffle(labels)
    # a few very short tickets
    shorts = []
    for l, xs in SHORT.items():
        for x in xs:
            shorts.append((l, x))
    rows = []
    seen = set()
    accepted = []
    accepted_core = []
    lead_cores = {}
    short_quota = {l: len(v) for l, v in SHORT.items()}
    short_iter = {l: iter(v) for l, v in SHORT.items()}
    for label in labels:
        if short_quota[label] and rng.random() < 0.05 + 0.1 * (label in ("feedback", "other")):
            short_quota[label] -= 1
            text = next(short_iter[label])
        else:
            for attempt in range(600):
                relax = 0.1 if attempt > 300 else 0.0
                text, core, leadkey = make_ticket(rng, label)
                n = len(text.split())
                if n < 15 or n > 120:
                    continue
                key = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
                if key in seen:
                    continue
                sh = shingles(text)
                if too_similar(sh, accepted, 0.5):
                    continue
                csh = shingles(core, 2)
                if too_similar(csh, accepted_core, 0.45 + relax):
                    continue
                # a lead sentence that was used before must come with clearly different content
                if too_similar(csh, lead_cores.get(leadkey, []), 0.3 + relax):
                    continue
                break
            else:
                raise RuntimeError(f"could not build a distinct ticket for {label} after {len(rows)} rows")
            accepted_core.append(csh)
            lead_cores.setdefault(leadkey, []).append(csh)
        key = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
        seen.add(key)
        accepted.append(shingles(text))
        rows.append({"id": f"tkt-{len(rows) + 1:05d}", "text": text, "label": label})
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    with open(os.path.join(HERE, "data", "tickets.jsonl"), "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"tickets: {len(rows)}")


if __name__ == "__main__":
    main()
