#!/usr/bin/env python3
"""Generate the general-capability items (standard library only).

Run from the repository root:

    python harness/regression/general/generate.py

It rewrites harness/regression/general/items.jsonl (480 multiple-choice items: arithmetic, facts, commonsense,
reading) byte-for-byte identically on every run. The 48 format probes draw nothing at random: probes.jsonl is
written by hand, one instruction per line.

Items are scored in cloze form (harness/regression/choice.py): the log-likelihood of each choice, with a
leading space, after `question`. See DATA_CARD.md for what each category holds and how SmolLM2 scores.
"""
from __future__ import annotations

import json
import os
import random

SEED = 1111
HERE = os.path.dirname(os.path.abspath(__file__))
PER_CATEGORY = 120


def qa(question: str, passage: str = "") -> str:
    head = passage + "\n" if passage else ""
    return f"{head}Question: {question}\nAnswer:"


def item(rng: random.Random, category: str, question: str, answer: str, wrong: list[str]) -> dict:
    """Four choices: the answer and three distinct distractors, in a seeded order."""
    pool = [w for w in dict.fromkeys(wrong) if w != answer]
    choices = [answer] + rng.sample(pool, 3)
    rng.shuffle(choices)
    return {"category": category, "question": question, "choices": choices, "answer": choices.index(answer)}


# ---------------------------------------------------------------------------- arithmetic and units

UNITS = [
    ("How many days are in a week?", 7), ("How many hours are in a day?", 24),
    ("How many minutes are in an hour?", 60), ("How many seconds are in a minute?", 60),
    ("How many months are in a year?", 12), ("How many days are in a year?", 365),
    ("How many centimeters are in a meter?", 100), ("How many meters are in a kilometer?", 1000),
    ("How many grams are in a kilogram?", 1000), ("How many millimeters are in a centimeter?", 10),
    ("How many years are in a century?", 100), ("How many years are in a decade?", 10),
    ("How many eggs are in a dozen?", 12), ("How many sides does a triangle have?", 3),
    ("How many sides does a square have?", 4), ("How many cents are in a dollar?", 100),
    ("How many wheels does a bicycle have?", 2), ("How many legs does a dog have?", 4),
    ("How many days are in a weekend?", 2), ("How many weeks are in a year?", 52),
    ("How many inches are in a foot?", 12), ("How many minutes are in half an hour?", 30),
    ("How many sides does a hexagon have?", 6), ("How many fingers are on one hand?", 5),
]


CONVERSIONS = [("minutes", "hours", 60), ("seconds", "minutes", 60), ("days", "weeks", 7), ("months", "years", 12)]


def arithmetic(rng: random.Random) -> list[dict]:
    out = []
    for q, a in UNITS:
        wrong = [a + d for d in (-2, -1, 1, 2, 3, 5, 10) if a + d > 0] + [a * 2, max(a // 2, 1)]
        out.append(item(rng, "arithmetic", qa(q), str(a), [str(w) for w in wrong]))
    seen = set()
    kinds = ["plus", "minus", "times", "double", "half", "convert"]
    attempt = 0
    while len(out) < PER_CATEGORY:
        kind = kinds[attempt % len(kinds)]
        attempt += 1
        if kind == "plus":
            x, y = rng.randint(1, 9), rng.randint(1, 9)
            q, a = f"What is {x} plus {y}?", x + y
        elif kind == "minus":
            x = rng.randint(5, 19)
            y = rng.randint(1, x - 1)
            q, a = f"What is {x} minus {y}?", x - y
        elif kind == "times":
            x, y = rng.randint(2, 5), rng.randint(2, 10)
            q, a = f"What is {x} times {y}?", x * y
        elif kind == "double":
            x = rng.randint(2, 40)
            q, a = f"What is double {x}?", 2 * x
        elif kind == "half":
            x = 2 * rng.randint(2, 40)
            q, a = f"What is half of {x}?", x // 2
        else:
            small, big, factor = rng.choice(CONVERSIONS)
            x = rng.randint(2, 9)
            q, a = f"How many {small} are in {x} {big}?", factor * x
        if q in seen:
            continue
        seen.add(q)
        wrong = [a + d for d in (-3, -2, -1, 1, 2, 3, 10) if a + d >= 0] + [a * 10]
        out.append(item(rng, "arithmetic", qa(q), str(a), [str(w) for w in wrong]))
    return out


# ---------------------------------------------------------------------------- everyday facts

CAPITALS = [
    ("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Germany", "Berlin"), ("Spain", "Madrid"),
    ("England", "London"), ("Russia", "Moscow"), ("China", "Beijing"), ("Egypt", "Cairo"),
    ("Greece", "Athens"), ("Ireland", "Dublin"), ("Portugal", "Lisbon"), ("Austria", "Vienna"),
    ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Denmark", "Copenhagen"), ("Poland", "Warsaw"),
    ("Hungary", "Budapest"), ("Thailand", "Bangkok"), ("South Korea", "Seoul"), ("Kenya", "Nairobi"),
    ("Argentina", "Buenos Aires"), ("Peru", "Lima"), ("Cuba", "Havana"), ("Finland", "Helsinki"),
    ("the Netherlands", "Amsterdam"), ("Belgium", "Brussels"), ("Turkey", "Ankara"),
    ("the United States", "Washington"), ("Canada", "Ottawa"),
]
LANGUAGES = [
    ("France", "French"), ("Germany", "German"), ("Spain", "Spanish"), ("Italy", "Italian"),
    ("Japan", "Japanese"), ("China", "Chinese"), ("Brazil", "Portuguese"), ("Mexico", "Spanish"),
    ("Russia", "Russian"), ("Greece", "Greek"), ("Portugal", "Portuguese"), ("Poland", "Polish"),
    ("Sweden", "Swedish"), ("Turkey", "Turkish"), ("Egypt", "Arabic"), ("Korea", "Korean"),
    ("the Netherlands", "Dutch"), ("Australia", "English"), ("Argentina", "Spanish"), ("Finland", "Finnish"),
]
WHAT_IS = [  # (question, answer, distractors)
    ("What color is the sky on a clear day?", "blue", ["green", "purple", "brown", "orange"]),
    ("What color is grass?", "green", ["blue", "purple", "red", "white"]),
    ("What color is snow?", "white", ["black", "green", "red", "blue"]),
    ("What color is a ripe banana?", "yellow", ["blue", "purple", "black", "gray"]),
    ("What color is coal?", "black", ["white", "yellow", "pink", "green"]),
    ("What color are most strawberries?", "red", ["blue", "black", "white", "gray"]),
    ("What color is milk?", "white", ["green", "black", "blue", "red"]),
    ("What color is a carrot?", "orange", ["blue", "purple", "black", "white"]),
    ("What do bees make?", "honey", ["milk", "silk", "wool", "cheese"]),
    ("What do cows give us to drink?", "milk", ["oil", "honey", "juice", "wine"]),
    ("What do hens lay?", "eggs", ["stones", "apples", "shoes", "bricks"]),
    ("Which animal barks?", "dog", ["cat", "cow", "horse", "sheep"]),
    ("Which animal says moo?", "cow", ["dog", "cat", "duck", "snake"]),
    ("Which animal has a very long neck?", "giraffe", ["mouse", "rabbit", "pig", "frog"]),
    ("Which animal has a trunk?", "elephant", ["tiger", "rabbit", "horse", "sheep"]),
    ("Which animal is known as the king of the jungle?", "lion", ["mouse", "sheep", "rabbit", "duck"]),
    ("What is the largest ocean on Earth?", "Pacific", ["Arctic", "Indian", "Baltic", "Red"]),
    ("What is the closest star to the Earth?", "the Sun", ["the Moon", "Mars", "Jupiter", "Venus"]),
    ("Which planet do we live on?", "Earth", ["Mars", "Venus", "Saturn", "Pluto"]),
    ("Which planet is known as the Red Planet?", "Mars", ["Earth", "Venus", "Neptune", "Uranus"]),
    ("What is frozen water called?", "ice", ["steam", "sand", "glass", "salt"]),
    ("What gas do people need to breathe?", "oxygen", ["helium", "carbon", "neon", "argon"]),
    ("What is the opposite of hot?", "cold", ["warm", "loud", "tall", "fast"]),
    ("What is the opposite of up?", "down", ["left", "over", "near", "back"]),
    ("What is the opposite of big?", "small", ["tall", "heavy", "red", "loud"]),
    ("What is the opposite of day?", "night", ["noon", "week", "light", "sun"]),
    ("What is the opposite of happy?", "sad", ["tall", "fast", "green", "full"]),
    ("What is the opposite of open?", "closed", ["wide", "empty", "bright", "loud"]),
    ("What is the opposite of fast?", "slow", ["quick", "hot", "big", "high"]),
    ("What is the opposite of wet?", "dry", ["cold", "soft", "thin", "old"]),
    ("Which day comes after Monday?", "Tuesday", ["Sunday", "Friday", "Thursday", "Saturday"]),
    ("Which day comes after Friday?", "Saturday", ["Monday", "Tuesday", "Wednesday", "Thursday"]),
    ("Which month comes after January?", "February", ["March", "April", "December", "June"]),
    ("Which month comes after June?", "July", ["May", "March", "January", "October"]),
    ("Which season is the coldest?", "winter", ["summer", "spring", "autumn", "noon"]),
    ("Which season is the hottest?", "summer", ["winter", "autumn", "spring", "evening"]),
    ("What do you call a baby cat?", "kitten", ["puppy", "calf", "foal", "chick"]),
    ("What do you call a baby dog?", "puppy", ["kitten", "lamb", "calf", "cub"]),
    ("What do plants need from the sky to grow?", "sunlight", ["snow", "smoke", "noise", "darkness"]),
    ("Which fruit is used to make wine?", "grapes", ["bananas", "lemons", "coconuts", "pineapples"]),
    ("What is the main language spoken in England?", "English", ["Chinese", "Russian", "Arabic", "Hindi"]),
    ("Which body part do you use to see?", "eyes", ["ears", "knees", "elbows", "toes"]),
    ("Which body part do you use to hear?", "ears", ["eyes", "knees", "feet", "hands"]),
    ("Which body part pumps blood?", "heart", ["lung", "stomach", "brain", "liver"]),
    ("Which animal can fly?", "bird", ["cow", "fish", "snake", "horse"]),
    ("Which animal lives in water and has fins?", "fish", ["cat", "horse", "cow", "bird"]),
    ("What is the boiling point of water in degrees Celsius?", "100", ["10", "50", "0", "500"]),
    ("What is the freezing point of water in degrees Celsius?", "0", ["100", "50", "10", "37"]),
]


def facts(rng: random.Random) -> list[dict]:
    out = []
    cities = [c for _, c in CAPITALS]
    for country, city in CAPITALS:
        out.append(item(rng, "facts", qa(f"What is the capital of {country}?"), city, cities))
    langs = sorted({lang for _, lang in LANGUAGES})
    for country, lang in LANGUAGES:
        out.append(item(rng, "facts", qa(f"What language do most people speak in {country}?"), lang, langs))
    for q, a, wrong in WHAT_IS:
        out.append(item(rng, "facts", qa(q), a, wrong))
    for city, country in [(c, k) for k, c in CAPITALS][: PER_CATEGORY - len(out)]:
        countries = [k for k, _ in CAPITALS]
        out.append(item(rng, "facts", qa(f"In which country is the city of {city}?"), country, countries))
    return out[:PER_CATEGORY]


# ---------------------------------------------------------------------------- commonsense cloze

TOOLS = [
    ("cut paper", "scissors"), ("write a letter", "a pen"), ("dig a hole", "a shovel"),
    ("unlock a door", "a key"), ("sweep the floor", "a broom"), ("boil water", "a kettle"),
    ("take a photo", "a camera"), ("brush your teeth", "a toothbrush"), ("eat soup", "a spoon"),
    ("hammer a nail", "a hammer"), ("see in the dark", "a flashlight"), ("dry your hands", "a towel"),
    ("comb your hair", "a comb"), ("tell the time", "a clock"), ("measure a line", "a ruler"),
    ("sew a button", "a needle"), ("water the plants", "a watering can"), ("paint a wall", "a brush"),
    ("cut a slice of bread", "a knife"), ("carry water", "a bucket"), ("stay dry in the rain", "an umbrella"),
    ("climb onto the roof", "a ladder"), ("wake up on time", "an alarm clock"), ("fix a flat tire", "a pump"),
    ("keep food cold", "a fridge"),
]
PLACES = [
    ("Sick people are treated in a", "hospital"), ("You can borrow books from a", "library"),
    ("Children learn to read and write at", "school"), ("Planes take off and land at the", "airport"),
    ("Trains stop at a", "station"), ("You can buy fresh bread at a", "bakery"),
    ("Animals from many countries can be seen at the", "zoo"), ("Old paintings are shown in a", "museum"),
    ("People keep their money safe in a", "bank"), ("Cars are parked in a", "garage"),
    ("Ships are loaded and unloaded at a", "port"), ("People go to watch films at the", "cinema"),
    ("Farmers grow crops on a", "farm"),
    ("People swim laps in a", "pool"), ("Food is cooked in the", "kitchen"),
    ("People sleep in the", "bedroom"), ("Fish live in the", "sea"), ("Birds build their nests in", "trees"),
    ("Cows eat grass in the", "field"),
]
PLACE_WORDS = [w for _, w in PLACES]
ERRANDS = [
    ("borrow a book", "library"), ("see a doctor", "hospital"), ("catch a train", "station"),
    ("buy fresh bread", "bakery"), ("see the lions", "zoo"), ("watch a new film", "cinema"),
    ("take a flight to Rome", "airport"), ("look at old paintings", "museum"), ("put money in savings", "bank"),
    ("swim some laps", "pool"), ("cook dinner", "kitchen"), ("go to sleep", "bedroom"),
    ("pick apples and feed the pigs", "farm"), ("board a big ship", "port"), ("park the car", "garage"),
]
ERRAND_PEOPLE = [("Anna", "she"), ("Tom", "he"), ("Maria", "she"), ("Ken", "he"), ("Lena", "she")]
CLOZE = [  # (context, answer, distractors)
    ("She won the first prize, so she felt very", "happy", ["sad", "hungry", "sleepy", "wet"]),
    ("He lost his keys and could not get in, so he felt", "annoyed", ["delighted", "thirsty", "tall", "green"]),
    ("After running for an hour, he was very", "tired", ["short", "blue", "quiet", "new"]),
    ("The baby had not eaten all day, so she was", "hungry", ["tall", "wooden", "purple", "loud"]),
    ("It was dark and late, so the children went to", "bed", ["school", "work", "lunch", "church"]),
    ("It started to rain, so she opened her", "umbrella", ["oven", "letter", "wallet", "book"]),
    ("The ice cream was left in the sun and it started to", "melt", ["freeze", "sing", "grow", "bark"]),
    ("He dropped the glass on the stone floor and it", "broke", ["grew", "sang", "melted", "flew"]),
    ("The water in the pot was heated until it", "boiled", ["froze", "barked", "slept", "shrank"]),
    ("It was very cold outside, so he put on his", "coat", ["sandals", "swimsuit", "sunglasses", "apron"]),
    ("It was hot and sunny, so they went to the beach to", "swim", ["ski", "skate", "shovel", "knit"]),
    ("The phone was ringing, so she", "answered it", ["ate it", "planted it", "washed it", "painted it"]),
    ("The plant had no water for weeks, so it", "died", ["sang", "ran", "danced", "laughed"]),
    ("The traffic light turned red, so the cars", "stopped", ["flew", "swam", "jumped", "melted"]),
    ("The room was dark, so she turned on the", "light", ["tap", "radio", "oven", "car"]),
    ("He was thirsty, so he drank a glass of", "water", ["sand", "paper", "nails", "soap"]),
    ("The dog was hungry, so it ate its", "food", ["bed", "collar", "ball", "leash"]),
    ("The book was too heavy to hold with one", "hand", ["ear", "nose", "tooth", "eye"]),
    ("She was cold, so she closed the", "window", ["book", "fridge", "bottle", "letter"]),
    ("The cake smelled good when it came out of the", "oven", ["sink", "closet", "garage", "mailbox"]),
    ("To see the stars, you look up at the", "sky", ["floor", "ground", "table", "carpet"]),
    ("At night, people usually", "sleep", ["swim", "harvest", "ski", "shout"]),
    ("In the morning, many people eat", "breakfast", ["dinner", "midnight", "supper", "dessert"]),
    ("When you are sick, you should see a", "doctor", ["baker", "pilot", "farmer", "painter"]),
    ("If your car breaks down, you take it to a", "mechanic", ["dentist", "baker", "teacher", "poet"]),
    ("To mail a letter, you need a", "stamp", ["spoon", "ticket", "candle", "shoe"]),
    ("When the alarm rang at six, he woke", "up", ["down", "over", "away", "under"]),
    ("The glass was empty, so she filled it with", "juice", ["rocks", "paper", "shoes", "pencils"]),
    ("He forgot his lunch at home, so at noon he was", "hungry", ["wet", "rich", "tall", "famous"]),
    ("The fire was very", "hot", ["cold", "wet", "quiet", "soft"]),
    ("A feather is very", "light", ["heavy", "loud", "sharp", "hot"]),
    ("A rock is very", "hard", ["soft", "liquid", "hungry", "happy"]),
    ("Snow falls in", "winter", ["summer", "the oven", "the kitchen", "July"]),
    ("The sun rises in the", "morning", ["evening", "night", "midnight", "dark"]),
    ("Fish use their fins to", "swim", ["fly", "sing", "read", "knit"]),
    ("Birds use their wings to", "fly", ["swim", "dig", "cook", "read"]),
]


def commonsense(rng: random.Random) -> list[dict]:
    out = []
    tool_names = [t for _, t in TOOLS]
    for task, tool in TOOLS:
        out.append(item(rng, "commonsense", f"To {task}, you use", tool, tool_names))
    for ctx, place in PLACES:
        out.append(item(rng, "commonsense", ctx, place, PLACE_WORDS))
    for ctx, a, wrong in CLOZE:
        out.append(item(rng, "commonsense", ctx, a, wrong))
    # The same tools and places asked as questions, until the category is full
    for task, tool in TOOLS:
        out.append(item(rng, "commonsense", qa(f"What do you need to {task}?"), tool, tool_names))
    for k, (activity, place) in enumerate(ERRANDS):
        name, pronoun = ERRAND_PEOPLE[k % len(ERRAND_PEOPLE)]
        out.append(item(rng, "commonsense", f"{name} wanted to {activity}, so {pronoun} went to the", place,
                        PLACE_WORDS))
    return out[:PER_CATEGORY]


# ---------------------------------------------------------------------------- reading a short passage

NAMES = ["Anna", "Tom", "Maria", "Ken", "Lena", "Omar", "Sara", "Ben", "Mia", "Leo", "Nina", "Paul", "Zoe",
         "Ivan", "Emma", "Raj", "Lucy", "Hugo", "Aisha", "Jack"]
COLORS = ["red", "blue", "green", "yellow", "black", "white", "pink", "brown"]
THINGS = ["bicycle", "car", "kite", "hat", "coat", "umbrella", "bag", "boat"]
CITIES = ["Lisbon", "Oslo", "Rome", "Cairo", "Tokyo", "Lima", "Dublin", "Vienna", "Madrid", "Seoul"]
FRUITS = ["apples", "pears", "oranges", "plums", "lemons", "peaches"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
JOBS = [("cooked dinner", "cook dinner"), ("washed the car", "wash the car"), ("fed the cat", "feed the cat"),
        ("painted the fence", "paint the fence"), ("read a book", "read a book"), ("fixed the bike", "fix the bike")]
PETS = ["dog", "cat", "rabbit", "parrot", "turtle", "hamster"]


def reading(rng: random.Random) -> list[dict]:
    out, seen = [], set()
    kinds = ["color", "city", "count", "day", "who", "pet"]
    while len(out) < PER_CATEGORY:
        kind = kinds[len(out) % len(kinds)]
        a, b = rng.sample(NAMES, 2)
        if kind == "color":
            (c1, c2), (t1, t2) = rng.sample(COLORS, 2), rng.sample(THINGS, 2)
            passage = f"{a} has a {c1} {t1}. {b} has a {c2} {t2}."
            q, ans, pool = f"What color is {a}'s {t1}?", c1, [c2] + COLORS
        elif kind == "city":
            c1, c2 = rng.sample(CITIES, 2)
            passage = f"{a} lives in {c1}. {a}'s friend {b} lives in {c2}."
            q, ans, pool = f"Where does {b} live?", c2, [c1] + CITIES
        elif kind == "count":
            f1, f2 = rng.sample(FRUITS, 2)
            n1, n2 = rng.sample(range(2, 10), 2)
            passage = f"{a} went to the market and bought {n1} {f1} and {n2} {f2}."
            q, ans = f"How many {f2} did {a} buy?", str(n2)
            pool = [str(n1)] + [str(k) for k in range(2, 12)]
        elif kind == "day":
            d1, d2 = rng.sample(DAYS, 2)
            passage = f"{a} has a piano lesson on {d1}. On {d2}, {a} plays football with {b}."
            q, ans, pool = f"On which day does {a} play football?", d2, [d1] + DAYS
        elif kind == "who":
            (j1, _), (j2, ask2) = rng.sample(JOBS, 2)
            passage = f"On Sunday, {a} {j1} while {b} {j2}."
            q, ans = f"Who did {ask2}?", b
            pool = [a] + NAMES
        else:
            p1, p2 = rng.sample(PETS, 2)
            passage = f"{a} has a pet {p1}. {b} has a pet {p2} that sleeps all day."
            q, ans, pool = f"What pet does {b} have?", p2, [p1] + PETS
        question = qa(q, passage)
        if question in seen:
            continue
        seen.add(question)
        others = [w for w in dict.fromkeys(pool) if w != ans]
        wrong = [others[0]] + rng.sample(others[1:], 2)  # the passage's other value is always a distractor
        choices = [ans] + wrong
        rng.shuffle(choices)
        out.append({"category": "reading", "question": question, "choices": choices, "answer": choices.index(ans)})
    return out


def write_jsonl(path: str, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> None:
    rng = random.Random(SEED)
    items = []
    for make in (arithmetic, facts, commonsense, reading):
        rows = make(rng)
        prefix = rows[0]["category"][:4]
        items.extend({"id": f"gen-{prefix}-{k:03d}", **r} for k, r in enumerate(rows, start=1))
    write_jsonl(os.path.join(HERE, "items.jsonl"), items)
    print(f"{len(items)} items")


if __name__ == "__main__":
    main()
