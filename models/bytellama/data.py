#!/usr/bin/env python3
"""Deterministic byte-level data for the bundled capability model (bytellama).

Standard library only (runs with a plain ``python3``, no numpy).

Five kinds of text, one per capability:

* ``chat``         -- short English stories about one or two people, followed
                      by a User/Bot conversation whose questions are answered
                      from the story in a fixed reply template (reading
                      comprehension + reply formatting).  Plain stories without
                      a conversation are mixed in as prose.
* ``code_gen``     -- Python functions: signature and docstring in English,
                      the body is one ``return`` line that implements it.
* ``json_tools``   -- a natural-language request and the tool-call JSON that
                      serves it (slot copying, number words, 12h -> 24h times,
                      currency names -> ISO codes, weekday normalisation).
* ``math``         -- multi-digit addition, subtraction and multiplication.
* ``long_context`` -- records "The number for <key> is <value>." scattered in
                      prose; at the end, questions ask for the value of a key.
                      Eval prompts are at least 512 bytes long (651..1002)
                      and the asked-for record is planted in the first 160
                      bytes.

Every example is a list of (prompt, answer) turns; the answer of each turn ends
with "\\n" (the terminator), so exact match of the greedy continuation also
checks that the model stops.

Disjointness of training and evaluation data
--------------------------------------------
1. Seeds: training rows use ``random.Random("train-<chunk>")``, eval suites
   use ``random.Random("eval-<suite>")`` -- different seed namespaces.
2. Held-out partition: every turn has a *core* string (the arithmetic
   expression, the function signature + docstring, the request sentence, the
   story + question, the whole long-context prompt).  A core whose
   blake2b hash falls in the held-out bucket (1 in 10) is never used for
   training (the generator re-draws it) and eval cases are drawn only from
   the held-out bucket.  So no eval case's core can occur anywhere in the
   training stream, however long it is.
3. ``evals`` mode also generates a training sample and checks by exact
   string sets that no eval prompt, prompt+answer or core occurs in it.

Usage::

    python3 models/bytellama/data.py evals --out evals     # suites + prose
    python3 models/bytellama/data.py sample --task math -n 5
    python3 models/bytellama/data.py rows --chunk 0 -n 2   # training rows

The training script imports ``train_chunk(chunk, n_rows, progress)``.
"""

import argparse
import hashlib
import json
import os
import random
import sys

TASKS = ["chat", "code_gen", "json_tools", "math", "long_context"]
SEQ = 1024  # model context; prompt + answer of an eval case fits in it
HELDOUT_MOD = 10

# Share of training rows per task (a row is filled with examples of one task).
# "prose" rows are plain stories (part of the chat/prose capability).
ROW_MIX = [("long_context", 0.38), ("math", 0.20), ("chat", 0.20),
           ("prose", 0.04), ("code_gen", 0.08), ("json_tools", 0.10)]


def is_heldout(task, core):
    h = hashlib.blake2b((task + "\x00" + core).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little") % HELDOUT_MOD == 0


# ---------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------
NAMES = ["Mira", "Tomas", "Nadia", "Oscar", "Lena", "Felix", "Ada", "Bruno",
         "Clara", "Diego", "Elsa", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Kira", "Leo", "Maya", "Nils", "Olga", "Pavel", "Rosa", "Sami",
         "Tara", "Umar", "Vera", "Wim", "Yara", "Zeno", "Anton", "Bea",
         "Carl", "Dora", "Emil", "Fay", "Gil", "Hana", "Ivo", "Juno"]
TOWNS = ["Oakvale", "Riverton", "Stonebridge", "Maplewood", "Ashford",
         "Brookfield", "Clearwater", "Dunmore", "Eastwick", "Fairhaven",
         "Glenrock", "Highmoor", "Ivywell", "Kingsport", "Lakeside",
         "Millbrook", "Northgate", "Pinecrest", "Redcliff", "Sandown",
         "Thornbury", "Westfield", "Willowby", "Yarrow"]
JOBS = ["baker", "farmer", "teacher", "doctor", "painter", "pilot", "sailor",
        "engineer", "nurse", "carpenter", "gardener", "librarian", "artist",
        "chef", "miner", "tailor", "writer", "actor", "architect", "judge"]
ANIMALS = ["cat", "dog", "rabbit", "parrot", "horse", "goat", "turtle",
           "hamster", "owl", "fox", "duck", "pony", "lizard", "ferret"]
COLORS = ["red", "blue", "green", "black", "white", "gray", "brown", "golden",
          "orange", "yellow", "purple", "silver"]
PETNAMES = ["Biscuit", "Pepper", "Mochi", "Ziggy", "Luna", "Oreo", "Pickles",
            "Noodle", "Waffles", "Cosmo", "Sprout", "Tofu", "Bingo", "Maple",
            "Rocket", "Button", "Clover", "Dotty", "Fudge", "Jinx", "Nugget",
            "Pumpkin", "Sable", "Tango", "Whisker", "Zuzu"]
FOODS = ["apple pie", "rice", "soup", "pancakes", "cheese", "noodles",
         "fresh bread", "plums", "carrot cake", "fish stew", "dumplings",
         "lemon tarts", "honey cake", "tomato salad", "mushroom pie",
         "pears", "porridge", "roast potatoes"]
OBJECTS = ["lamp", "map", "key", "letter", "box", "kite", "bell", "coin",
           "book", "basket", "ring", "feather", "shell", "clock", "hat"]
PLACES = ["river", "old mill", "market", "bridge", "forest", "harbor",
          "library", "hill", "garden", "station", "square", "lake"]
WEATHER = ["sunny", "rainy", "windy", "cold", "warm", "foggy", "quiet",
           "bright", "cloudy"]
SEASONS = ["spring", "summer", "autumn", "winter"]
ACTIVITIES = ["walked to the market", "read by the window",
              "fed the birds in the square", "baked bread for the neighbors",
              "went fishing at the lake", "painted the old fence",
              "played the violin", "swept the front steps",
              "wrote letters to friends", "climbed the hill behind the house",
              "tended the tomatoes", "fixed a broken chair"]
TOPICS = ["the harvest", "the old bridge", "the weather", "a strange dream",
          "the new library", "their childhood", "the festival", "the stars",
          "a lost letter", "the river"]
NUM_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven",
             "eight", "nine", "ten", "eleven", "twelve"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday"]


def cap(s):
    return s[:1].upper() + s[1:]


def art(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


# ---------------------------------------------------------------------------
# Prose (stories)
# ---------------------------------------------------------------------------
PROSE_TEMPLATES = [
    "{N} was {aJ} who lived in {T}.",
    "Every morning, {N} {ACT}.",
    "One {S} day, {N} found {aC} {O} near the {P}.",
    "The weather in {T} was {W} that {S}.",
    "{N} and {N2} talked about {TOP} until the sun went down.",
    "Nobody in {T} knew where the {O} had come from.",
    "{N} smiled, picked up the {O}, and carried it home.",
    "Later, {N2} {ACT}, as always.",
    "The {P} was {W} and almost empty.",
    "{N} asked {N2} whether the {O} belonged to anyone.",
    "\"I have never seen {aC} {O} like this,\" said {N2}.",
    "By evening, everyone at the {P} was talking about it.",
    "{N} had {aC} {A} that liked to sleep by the door.",
    "In the {S}, the road to {T} was long and {W}.",
    "{N2} made {F} for dinner, and they ate it by the fire.",
    "The next morning {N} went back to the {P}.",
    "It was a {W} day, and the {A} would not stop barking.",
    "{N} wrote the story down so that nobody would forget it.",
    "When the bells rang, {N} and {N2} walked to the {P} together.",
    "Some people in {T} said the {O} was lucky.",
    "{N} thanked {N2} and promised to visit again soon.",
    "The children of {T} loved to hear about the {O}.",
]


def prose_fill(rng, tpl, names=None):
    n1, n2 = (names if names else rng.sample(NAMES, 2))
    return tpl.format(
        N=n1, N2=n2, T=rng.choice(TOWNS), aJ=art(rng.choice(JOBS)),
        ACT=rng.choice(ACTIVITIES), S=rng.choice(SEASONS),
        aC=art(rng.choice(COLORS)), O=rng.choice(OBJECTS),
        P=rng.choice(PLACES), W=rng.choice(WEATHER), TOP=rng.choice(TOPICS),
        A=rng.choice(ANIMALS), F=rng.choice(FOODS))


def gen_story(rng, n_sent=None):
    names = rng.sample(NAMES, 2)
    n = n_sent or rng.randint(4, 8)
    sents = [prose_fill(rng, PROSE_TEMPLATES[0], names)]
    sents += [prose_fill(rng, rng.choice(PROSE_TEMPLATES[1:]), names)
              for _ in range(n - 1)]
    return " ".join(sents) + "\n"


# ---------------------------------------------------------------------------
# chat: story + conversation
# ---------------------------------------------------------------------------
FACT_TEMPLATES = {
    "town": ["{N} lives in {town}.", "{N} has lived in {town} for years.",
             "{N}'s home is in {town}.",
             "{N} grew up in {town} and still lives there."],
    "job": ["{N} works as {ajob}.", "{N} is {ajob}.",
            "By trade, {N} is {ajob}."],
    "pet": ["{N} has {acolor} {animal} named {pet}.",
            "{N} owns {acolor} {animal} called {pet}.",
            "{N}'s pet is {acolor} {animal}, and its name is {pet}."],
    "food": ["{N}'s favourite food is {food}.", "{N} loves to eat {food}.",
             "Nothing makes {N} happier than {food}."],
    "age": ["{N} is {age} years old.", "{N} turned {age} this year."],
}
FILLER_TEMPLATES = ["The weather was {W} that {S}.",
                    "The {P} was busy all week.",
                    "Nobody remembered who built the {P}.",
                    "It was a {W} day."]
QUESTIONS = {
    "town": (["Where does {N} live?", "In which town does {N} live?"],
             "{N} lives in {town}."),
    "job": (["What does {N} do for a living?", "What is {N}'s job?"],
            "{N} is {ajob}."),
    "petname": (["What is the name of {N}'s pet?",
                 "What is {N}'s pet called?"],
                "{N}'s {animal} is called {pet}."),
    "animal": (["What kind of animal does {N} have?",
                "What pet does {N} have?"],
               "{N} has {aanimal}."),
    "color": (["What color is {N}'s {animal}?"],
              "{N}'s {animal} is {color}."),
    "food": (["What is {N}'s favourite food?", "What does {N} love to eat?"],
             "{N} loves {food}."),
    "age": (["How old is {N}?"], "{N} is {age} years old."),
}
GREETINGS = [("Hello!", "Hello! How can I help you?"),
             ("Hi there.", "Hi! What would you like to know?"),
             ("Good morning!", "Good morning! How can I help?")]


def make_person(rng, name):
    animal = rng.choice(ANIMALS)
    color = rng.choice(COLORS)
    job = rng.choice(JOBS)
    return {"N": name, "town": rng.choice(TOWNS), "ajob": art(job),
            "animal": animal, "aanimal": art(animal), "color": color,
            "acolor": art(color), "pet": rng.choice(PETNAMES),
            "food": rng.choice(FOODS), "age": str(rng.randint(19, 88))}


def fact_key(q):
    return {"petname": "pet", "animal": "pet", "color": "pet"}.get(q, q)


def gen_chat(rng, heldout, n_questions):
    """Returns [(prompt, answer, core)] turns for one chat example."""
    for _ in range(1000):
        people = [make_person(rng, n)
                  for n in rng.sample(NAMES, rng.choice([1, 2, 2]))]
        sents = []
        for p in people:
            keys = rng.sample(list(FACT_TEMPLATES), rng.randint(3, 5))
            for k in keys:
                sents.append((p["N"], k, rng.choice(FACT_TEMPLATES[k])
                              .format(**p)))
        rng.shuffle(sents)
        text = [s for _, _, s in sents]
        for _ in range(rng.randint(0, 2)):
            text.insert(rng.randint(0, len(text)),
                        prose_fill(rng, rng.choice(FILLER_TEMPLATES)))
        story = " ".join(text) + "\n"
        known = {(n, k) for n, k, _ in sents}
        # Questions answerable from the story.
        cands = []
        for p in people:
            for q in QUESTIONS:
                if (p["N"], fact_key(q)) in known:
                    cands.append((p, q))
        rng.shuffle(cands)
        turns = []
        ctx = story
        if rng.random() < 0.25:
            g, r = rng.choice(GREETINGS)
            ctx += "User: " + g + "\nBot:"
            turns.append((ctx, " " + r + "\n", None))
            ctx += " " + r + "\n"
        for p, q in cands:
            if len([t for t in turns if t[2] is not None]) >= n_questions:
                break
            qtext = rng.choice(QUESTIONS[q][0]).format(**p)
            prompt = ctx + "User: " + qtext + "\nBot:"
            core = story + qtext
            if is_heldout("chat", core) != heldout:
                continue
            answer = " " + QUESTIONS[q][1].format(**p) + "\n"
            turns.append((prompt, answer, core))
            ctx = prompt + answer
        if any(t[2] is not None for t in turns):
            return turns
    raise RuntimeError("chat: could not draw an example")


# ---------------------------------------------------------------------------
# code_gen: docstring -> one-line body
# ---------------------------------------------------------------------------
NUM_P = ["a", "b", "n", "m", "x", "y", "k", "count", "size", "total",
         "value", "width"]
LIST_P = ["xs", "items", "values", "nums", "data", "scores"]
STR_P = ["s", "text", "word", "name", "line", "title"]

# (kinds of params, docstring, body, function names)
# N = number param, L = list param, S = string param, c/d = constants
CODE_SPECS = [
    ("N", "Return {p0} plus {c}.", "{p0} + {c}", ["add_const", "plus", "shift"]),
    ("N", "Return {p0} minus {c}.", "{p0} - {c}", ["sub_const", "minus", "lower_by"]),
    ("N", "Return {p0} times {c}.", "{p0} * {c}", ["scale", "times", "multiply"]),
    ("N", "Return {p0} squared.", "{p0} * {p0}", ["square", "sq"]),
    ("N", "Return {p0} divided by {c}, rounded down.", "{p0} // {c}", ["div_floor", "bucket"]),
    ("N", "Return the remainder of {p0} divided by {c}.", "{p0} % {c}", ["remainder", "mod_const"]),
    ("N", "Return True if {p0} is even.", "{p0} % 2 == 0", ["is_even", "even"]),
    ("N", "Return True if {p0} is odd.", "{p0} % 2 == 1", ["is_odd", "odd"]),
    ("N", "Return True if {p0} is greater than {c}.", "{p0} > {c}", ["above", "is_big", "exceeds"]),
    ("N", "Return True if {p0} is less than {c}.", "{p0} < {c}", ["below", "is_small"]),
    ("N", "Return True if {p0} is divisible by {c}.", "{p0} % {c} == 0", ["divisible", "is_multiple"]),
    ("N", "Return {p0} if it is positive, otherwise 0.", "{p0} if {p0} > 0 else 0", ["relu", "clamp_low"]),
    ("N", "Return the absolute value of {p0}.", "abs({p0})", ["absolute", "magnitude"]),
    ("NN", "Return the sum of {p0} and {p1}.", "{p0} + {p1}", ["add", "total_of", "combine"]),
    ("NN", "Return the product of {p0} and {p1}.", "{p0} * {p1}", ["mul", "product"]),
    ("NN", "Return {p0} minus {p1}.", "{p0} - {p1}", ["sub", "diff"]),
    ("NN", "Return the sum of {p0} and {p1}, multiplied by {c}.", "({p0} + {p1}) * {c}", ["scaled_sum", "weighted"]),
    ("NN", "Return the larger of {p0} and {p1}.", "max({p0}, {p1})", ["larger", "bigger"]),
    ("NN", "Return the smaller of {p0} and {p1}.", "min({p0}, {p1})", ["smaller", "lesser"]),
    ("NN", "Return the average of {p0} and {p1}.", "({p0} + {p1}) / 2", ["mean2", "average"]),
    ("NN", "Return True if {p0} equals {p1}.", "{p0} == {p1}", ["same", "equal"]),
    ("NN", "Return {p0} times {c} plus {p1}.", "{p0} * {c} + {p1}", ["affine", "linear"]),
    ("L", "Return the number of elements in {p0}.", "len({p0})", ["length", "size_of"]),
    ("L", "Return the sum of the numbers in {p0}.", "sum({p0})", ["sum_all", "total_sum"]),
    ("L", "Return the largest number in {p0}.", "max({p0})", ["largest", "top"]),
    ("L", "Return the smallest number in {p0}.", "min({p0})", ["smallest", "bottom"]),
    ("L", "Return the first element of {p0}.", "{p0}[0]", ["first", "head"]),
    ("L", "Return the last element of {p0}.", "{p0}[-1]", ["last", "tail"]),
    ("L", "Return {p0} sorted in ascending order.", "sorted({p0})", ["sort_up", "ordered"]),
    ("L", "Return {p0} in reverse order.", "{p0}[::-1]", ["backwards", "flip"]),
    ("L", "Return a list of each number in {p0} multiplied by {c}.", "[x * {c} for x in {p0}]", ["scale_all", "multiply_all"]),
    ("L", "Return a list of each number in {p0} plus {c}.", "[x + {c} for x in {p0}]", ["shift_all", "add_all"]),
    ("L", "Return a list of the numbers in {p0} that are greater than {c}.", "[x for x in {p0} if x > {c}]", ["keep_above", "filter_big"]),
    ("L", "Return a list of the even numbers in {p0}.", "[x for x in {p0} if x % 2 == 0]", ["evens", "keep_even"]),
    ("L", "Return a list of the squares of the numbers in {p0}.", "[x * x for x in {p0}]", ["squares", "square_all"]),
    ("L", "Return the first {c} elements of {p0}.", "{p0}[:{c}]", ["take", "prefix"]),
    ("S", "Return {p0} in upper case.", "{p0}.upper()", ["shout", "to_upper"]),
    ("S", "Return {p0} in lower case.", "{p0}.lower()", ["quiet", "to_lower"]),
    ("S", "Return {p0} reversed.", "{p0}[::-1]", ["reverse", "mirror"]),
    ("S", "Return the first {c} characters of {p0}.", "{p0}[:{c}]", ["clip", "start_of"]),
    ("S", "Return {p0} repeated {c} times.", "{p0} * {c}", ["repeat", "echo"]),
    ("S", "Return {p0} with spaces removed.", "{p0}.replace(\" \", \"\")", ["squash", "no_spaces"]),
    ("S", "Return the words of {p0} as a list.", "{p0}.split()", ["words", "tokens"]),
    ("S", "Return True if {p0} starts with {q}.", "{p0}.startswith({q})", ["begins", "has_prefix"]),
    ("S", "Return the number of characters in {p0}.", "len({p0})", ["char_count", "str_len"]),
    ("SS", "Return {p0} and {p1} joined by a space.", "{p0} + \" \" + {p1}", ["join2", "glue"]),
    ("SS", "Return the number of times {p1} occurs in {p0}.", "{p0}.count({p1})", ["occurrences", "count_of"]),
]
PREFIX_STR = ["\"a\"", "\"the\"", "\"x\"", "\"#\"", "\"ab\"", "\"re\""]


def gen_function(rng):
    kinds, doc, body, fnames = rng.choice(CODE_SPECS)
    pools = {"N": NUM_P, "L": LIST_P, "S": STR_P}
    params = []
    for kch in kinds:
        choices = [p for p in pools[kch] if p not in params]
        params.append(rng.choice(choices))
    fill = {"p%d" % i: p for i, p in enumerate(params)}
    small = "[:" in body or (kinds[0] == "S" and "*" in body)
    fill["c"] = str(rng.randint(2, 9) if small else rng.randint(2, 99))
    fill["q"] = rng.choice(PREFIX_STR)
    fname = rng.choice(fnames)
    if rng.random() < 0.5:
        fname = rng.choice(["get_", "calc_", "compute_", "my_"]) + fname
    sig = "def %s(%s):\n" % (fname, ", ".join(params))
    header = sig + "    \"\"\"" + doc.format(**fill) + "\"\"\"\n"
    return header, "    return " + body.format(**fill) + "\n"


def gen_code(rng, heldout, n_functions):
    """Returns [(prompt, answer, core)] for one module of functions.

    Only the last function may be held out in eval mode (the ones before it
    are context and are drawn from the training side)."""
    turns = []
    ctx = ""
    for i in range(n_functions):
        want = heldout and i == n_functions - 1
        for _ in range(1000):
            header, body = gen_function(rng)
            if is_heldout("code_gen", header) == want:
                break
        prompt = ctx + header
        turns.append((prompt, body, header))
        ctx = prompt + body + "\n"
    return turns


# ---------------------------------------------------------------------------
# json_tools: request -> tool call
# ---------------------------------------------------------------------------
CITIES = ["Paris", "Tokyo", "Lima", "Oslo", "Cairo", "Berlin", "Madrid",
          "Seoul", "Nairobi", "Quito", "Dublin", "Hanoi", "Vienna", "Boston",
          "Denver", "Perth", "Lagos", "Prague", "Rome", "Delhi"]
SUBJECTS = ["the budget", "lunch plans", "the trip", "the new office",
            "the report", "weekend hiking", "the invoice", "band practice",
            "the garden party", "next week", "the contract", "the recipe"]
RESTAURANTS = ["Luigi's", "The Blue Door", "Sakura", "Casa Verde",
               "The Olive Tree", "Golden Wok", "Bistro Nord", "Spice Route",
               "Harbor Grill", "Le Petit Four"]
CURRENCIES = [("dollars", "USD"), ("euros", "EUR"), ("pounds", "GBP"),
              ("yen", "JPY"), ("francs", "CHF"), ("rupees", "INR"),
              ("pesos", "MXN"), ("kronor", "SEK")]
ARTISTS = ["Nina Simone", "The Beatles", "Miles Davis", "Bach", "Adele",
           "Bob Marley", "Queen", "Chopin", "Ella Fitzgerald", "Daft Punk"]
TASKS_TODO = ["buy milk", "call the dentist", "water the plants",
              "pay the rent", "pick up the kids", "book flights",
              "renew the passport", "feed the cat", "send the invoice"]
QUERIES = ["cheap flights to Oslo", "how to bake bread", "the tallest tree",
           "best hiking boots", "history of chess", "how volcanoes work",
           "easy soup recipes", "the speed of light", "jobs in Lima"]


def fmt_time(rng):
    """Returns (spoken time, "HH:MM")."""
    h12 = rng.randint(1, 12)
    m = rng.choice([0, 0, 0, 15, 30, 45])
    pm = rng.random() < 0.5
    h24 = (h12 % 12) + (12 if pm else 0)
    spoken = str(h12) + (":%02d" % m if m else "") + (" pm" if pm else " am")
    return spoken, "%02d:%02d" % (h24, m)


def jcall(name, args):
    return json.dumps({"name": name, "arguments": args})


def gen_request(rng):
    tool = rng.randrange(8)
    if tool == 0:
        city = rng.choice(CITIES)
        d = rng.choice(["today", "tomorrow"] + DAYS)
        dtext = d if d in ("today", "tomorrow") else "on " + cap(d)
        t = rng.choice(["What's the weather like in {c} {d}?",
                        "Will it rain in {c} {d}?",
                        "Tell me the forecast for {c} {d}.",
                        "How warm will it be in {c} {d}?"])
        return (t.format(c=city, d=dtext),
                jcall("get_weather", {"city": city, "day": d}))
    if tool == 1:
        who = rng.choice(NAMES)
        subj = rng.choice(SUBJECTS)
        t = rng.choice(["Send an email to {w} about {s}.",
                        "Email {w} about {s}, please.",
                        "Please write to {w} regarding {s}.",
                        "Can you mail {w} about {s}?"])
        return (t.format(w=who, s=subj),
                jcall("send_email", {"to": who, "subject": subj}))
    if tool == 2:
        spoken, hm = fmt_time(rng)
        t = rng.choice(["Wake me up at {t}.", "Set an alarm for {t}.",
                        "I need an alarm at {t}.",
                        "Please set my alarm to {t}."])
        return t.format(t=spoken), jcall("set_alarm", {"time": hm})
    if tool == 3:
        rest = rng.choice(RESTAURANTS)
        n = rng.randint(1, 12)
        spoken, hm = fmt_time(rng)
        ppl = NUM_WORDS[n] if rng.random() < 0.5 else str(n)
        t = rng.choice(["Book a table for {n} at {r} at {t}.",
                        "Reserve {r} for {n} people at {t}.",
                        "Get us a table at {r} for {n} at {t}, please."])
        return (t.format(n=ppl, r=rest, t=spoken),
                jcall("book_table", {"restaurant": rest, "people": n,
                                     "time": hm}))
    if tool == 4:
        amount = rng.choice([rng.randint(1, 99), rng.randint(100, 5000)])
        (fn, fc), (tn, tc) = rng.sample(CURRENCIES, 2)
        t = rng.choice(["How much is {a} {f} in {t}?",
                        "Convert {a} {f} to {t}.",
                        "What are {a} {f} worth in {t}?"])
        return (t.format(a=amount, f=fn, t=tn),
                jcall("convert_currency", {"amount": amount, "from": fc,
                                           "to": tc}))
    if tool == 5:
        artist = rng.choice(ARTISTS)
        t = rng.choice(["Play some music by {a}.", "Put on {a}.",
                        "I want to listen to {a}."])
        return t.format(a=artist), jcall("play_music", {"artist": artist})
    if tool == 6:
        todo = rng.choice(TASKS_TODO)
        d = rng.choice(["today", "tomorrow"] + DAYS)
        dtext = d if d in ("today", "tomorrow") else "on " + cap(d)
        t = rng.choice(["Remind me to {x} {d}.",
                        "Add a reminder to {x} {d}.",
                        "Don't let me forget to {x} {d}."])
        return (t.format(x=todo, d=dtext),
                jcall("add_reminder", {"task": todo, "day": d}))
    q = rng.choice(QUERIES)
    t = rng.choice(["Search the web for {q}.", "Look up {q} online.",
                    "Find me results about {q}."])
    return t.format(q=q), jcall("search_web", {"query": q})


def gen_json(rng, heldout):
    for _ in range(1000):
        req, call = gen_request(rng)
        if is_heldout("json_tools", req) == heldout:
            return [("User: " + req + "\nCall: ", call + "\n", req)]
    raise RuntimeError("json_tools: could not draw an example")


# ---------------------------------------------------------------------------
# math
# ---------------------------------------------------------------------------
def rand_digits(rng, lo, hi):
    d = rng.randint(lo, hi)
    return rng.randint(10 ** (d - 1), 10 ** d - 1)


def gen_math_problem(rng):
    op = rng.choices("+-*", weights=[4, 3, 3])[0]
    if op == "+":
        a, b = rand_digits(rng, 2, 4), rand_digits(rng, 2, 4)
        r = a + b
    elif op == "-":
        a, b = rand_digits(rng, 2, 4), rand_digits(rng, 2, 4)
        if a < b:
            a, b = b, a
        r = a - b
    else:
        a, b = rand_digits(rng, 2, 3), rand_digits(rng, 1, 1)
        if rng.random() < 0.5:
            a, b = b, a
        r = a * b
    return "%d%s%d=" % (a, op, b), "%d\n" % r


def gen_math(rng, heldout):
    for _ in range(1000):
        p, a = gen_math_problem(rng)
        if is_heldout("math", p) == heldout:
            return [(p, a, p)]
    raise RuntimeError("math: could not draw an example")


# ---------------------------------------------------------------------------
# long_context: key-value records in prose, queries at the end
# ---------------------------------------------------------------------------
ADJ = ["amber", "blue", "coral", "dusty", "early", "frosty", "gentle",
       "hidden", "ivory", "jolly", "lucky", "misty", "noble", "olive",
       "quiet", "rusty", "sandy", "tiny", "velvet", "wild"]
NOUNS = ["fox", "owl", "river", "tower", "garden", "lantern", "harbor",
         "falcon", "meadow", "anchor", "comet", "bridge", "willow", "badger",
         "violin", "canyon", "pebble", "orchard", "beacon", "thistle"]


def record(key, val):
    return "The number for %s is %d." % (key, val)


def query(key):
    return "Question: What is the number for %s?\nAnswer: The number for %s is" % (key, key)


def filler_sentences(rng, n):
    names = rng.sample(NAMES, 2)
    return [prose_fill(rng, rng.choice(PROSE_TEMPLATES), names)
            for _ in range(n)]


def gen_long(rng, heldout, mode, ctx_len=900, n_queries=4):
    """One long-context example.

    mode "eval": prompt of at least 512 bytes (prompt + answer at most SEQ),
    one query for a record planted in the first 160 bytes.  mode "train": context of about ctx_len bytes, with
    n_queries queries (answers follow each query) for random records.
    """
    for _ in range(1000):
        n_rec = max(2, min(16, ctx_len // 60)) if mode == "train" else \
            rng.randint(10, 14)
        keys = []  # a list, not a set: set order depends on PYTHONHASHSEED
        while len(keys) < n_rec:
            k = rng.choice(ADJ) + " " + rng.choice(NOUNS)
            if k not in keys:
                keys.append(k)
        vals = [rng.randint(1000, 9999) for _ in keys]
        recs = [record(k, v) for k, v in zip(keys, vals)]
        if mode == "eval":
            target_len = rng.randint(560, 880)
        else:
            target_len = ctx_len
        # Body: records interleaved with filler prose.
        rec_bytes = sum(len(r) + 1 for r in recs)
        filler = []
        while rec_bytes + sum(len(f) + 1 for f in filler) < target_len:
            filler += filler_sentences(rng, 1)
        items = [(r, True) for r in recs[1:]] + [(f, False) for f in filler]
        rng.shuffle(items)
        if mode == "eval":
            # Plant the target (record 0) within the first 160 bytes.
            pos, acc = 0, 0
            cands = [0]
            for i, (s, _) in enumerate(items):
                acc += len(s) + 1
                if acc < 140:
                    cands.append(i + 1)
            pos = rng.choice(cands)
            items.insert(pos, (recs[0], True))
        else:
            items.insert(rng.randint(0, len(items)), (recs[0], True))
        body = " ".join(s for s, _ in items) + "\n"
        if mode == "eval":
            prompt = body + query(keys[0])
            if not (512 <= len(prompt) and len(prompt) + 8 <= SEQ):
                continue
            if body.index(recs[0]) >= 160:
                continue
            if is_heldout("long_context", prompt) != heldout:
                continue
            return [(prompt, " %d.\n" % vals[0], prompt)], len(keys)
        order = rng.sample(range(len(keys)), min(n_queries, len(keys)))
        turns = []
        ctx = body
        for i in order:
            prompt = ctx + query(keys[i])
            if is_heldout("long_context", prompt):
                continue
            ans = " %d.\n" % vals[i]
            turns.append((prompt, ans, prompt))
            ctx = prompt + ans
        if turns:
            return turns, len(keys)
    raise RuntimeError("long_context: could not draw an example")


# ---------------------------------------------------------------------------
# Training rows
# ---------------------------------------------------------------------------
def train_example(rng, task, progress):
    """Returns [(prompt_part, answer, core)] with prompt parts relative
    (i.e. the text between the previous answer and this answer)."""
    if task == "prose":
        return [(gen_story(rng), "", None)]
    if task == "chat":
        turns = gen_chat(rng, False, rng.randint(2, 4))
    elif task == "code_gen":
        turns = gen_code(rng, False, rng.randint(1, 4))
    elif task == "json_tools":
        turns = gen_json(rng, False)
    elif task == "math":
        turns = gen_math(rng, False)
    else:
        # Curriculum: contexts grow from ~150 to ~900 bytes over the first
        # 40% of training, then stay spread over 150..900.
        hi = int(150 + 750 * min(1.0, progress / 0.4))
        ctx_len = rng.randint(120, max(150, hi))
        turns, _ = gen_long(rng, False, "train", ctx_len,
                            n_queries=rng.randint(4, 8))
    # Convert absolute prompts to relative parts.
    out = []
    prev = ""
    for prompt, ans, core in turns:
        assert prompt.startswith(prev)
        out.append((prompt[len(prev):], ans, core))
        prev = prompt + ans
    return out


def train_chunk(chunk, n_rows, progress, seq=SEQ + 1):
    """Returns (data, mask): n_rows rows of seq bytes each, concatenated.

    Each row holds examples of one task packed back to back, starting at an
    example boundary; the last example is cut off at the row end.  mask is 1
    on answer bytes, 0 elsewhere."""
    rng = random.Random("train-%d" % chunk)
    tasks = [t for t, _ in ROW_MIX]
    weights = [w for _, w in ROW_MIX]
    data = bytearray()
    mask = bytearray()
    for _ in range(n_rows):
        task = rng.choices(tasks, weights)[0]
        row = bytearray()
        rmask = bytearray()
        while len(row) < seq:
            for part, ans, _ in train_example(rng, task, progress):
                pb, ab = part.encode(), ans.encode()
                row += pb + ab
                rmask += bytes(len(pb)) + b"\x01" * len(ab)
            if task in ("chat", "prose", "code_gen"):
                row += b"\n"
                rmask += b"\x00"
        data += row[:seq]
        mask += rmask[:seq]
    return bytes(data), bytes(mask)


# ---------------------------------------------------------------------------
# Eval suites
# ---------------------------------------------------------------------------
def eval_case(rng, suite):
    """Returns (prompt, answer, core, extra)."""
    if suite == "chat":
        turns = gen_chat(rng, True, 1)
        p, a, c = turns[-1]
        return p, a, c, {}
    if suite == "code_gen":
        turns = gen_code(rng, True, rng.randint(1, 3))
        p, a, c = turns[-1]
        return p, a, c, {}
    if suite == "json_tools":
        (p, a, c), = gen_json(rng, True)
        return p, a, c, {}
    if suite == "math":
        (p, a, c), = gen_math(rng, True)
        return p, a, c, {}
    turns, n_rec = gen_long(rng, True, "eval")
    (p, a, c), = turns
    return p, a, c, {"n_records": n_rec}


def make_suite(suite, n):
    rng = random.Random("eval-" + suite)
    cases, seen = [], set()
    while len(cases) < n:
        p, a, c, extra = eval_case(rng, suite)
        if p in seen:
            continue
        seen.add(p)
        assert a.endswith("\n") and len((p + a).encode()) <= SEQ
        cases.append((p, a, c, extra))
    return cases


def training_sample(n_chunks, rows=64):
    """Prompts, prompt+answer strings and cores of a training sample."""
    prompts, full, cores = set(), set(), set()
    tasks = [t for t, _ in ROW_MIX]
    weights = [w for _, w in ROW_MIX]
    for chunk in range(n_chunks):
        rng = random.Random("train-%d" % chunk)
        for _ in range(rows):
            task = rng.choices(tasks, weights)[0]
            for progress in (1.0,):
                turns = []
                prev = ""
                for part, ans, core in train_example(rng, task, progress):
                    prompt = prev + part
                    if core is not None:
                        prompts.add(prompt)
                        full.add(prompt + ans)
                        cores.add(core)
                    prev = prompt + ans
    return prompts, full, cores


def chance_levels(suite, cases):
    """Chance accuracy of guessers that know the answer format.

    prior: a guess drawn from the distribution of the suite's answers
    (sum over answers of p(answer)^2).  For long_context also the accuracy of
    copying the value of a random record of the context (1 / #records)."""
    counts = {}
    for _, a, _, _ in cases:
        counts[a] = counts.get(a, 0) + 1
    n = len(cases)
    prior = sum((c / n) ** 2 for c in counts.values())
    out = {"answer_prior": prior}
    if suite == "long_context":
        out["random_record"] = sum(1.0 / e["n_records"]
                                   for _, _, _, e in cases) / n
    return out


def cmd_evals(args):
    os.makedirs(args.out, exist_ok=True)
    print("generating training sample (%d chunks x 64 rows) for the overlap "
          "check..." % args.check_chunks, file=sys.stderr)
    t_prompts, t_full, t_cores = training_sample(args.check_chunks)
    print("training sample: %d prompts" % len(t_prompts), file=sys.stderr)
    summary = {}
    for suite in TASKS:
        cases = make_suite(suite, args.n)
        overlap = sum(1 for p, a, c, _ in cases
                      if p in t_prompts or p + a in t_full or c in t_cores)
        heldout_ok = all(is_heldout(suite, c) for _, _, c, _ in cases)
        assert overlap == 0 and heldout_ok, (suite, overlap, heldout_ok)
        ch = chance_levels(suite, cases)
        with open(os.path.join(args.out, suite + ".jsonl"), "w") as f:
            for p, a, _, extra in cases:
                rec = {"prompt": p, "answer": a, "metric": "exact_match"}
                rec.update(extra)
                f.write(json.dumps(rec, ensure_ascii=True) + "\n")
        lens = [len(p) for p, _, _, _ in cases]
        summary[suite] = {"n": len(cases), "overlap": overlap,
                          "prompt_bytes": [min(lens), max(lens)],
                          "chance": ch}
        print("%-13s n=%d overlap=%d prompt bytes %d..%d chance %s" % (
            suite, len(cases), overlap, min(lens), max(lens),
            {k: round(v, 4) for k, v in ch.items()}))
    rng = random.Random("eval-prose")
    text = ""
    while len(text) < args.prose_bytes:
        text += gen_story(rng)
    with open(os.path.join(args.out, "prose_heldout.txt"), "w") as f:
        f.write(text)
    print("prose_heldout.txt: %d bytes" % len(text))
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("evals", help="write the eval suites")
    e.add_argument("--out", default="evals")
    e.add_argument("-n", type=int, default=250)
    e.add_argument("--check-chunks", type=int, default=2000,
                   help="training chunks (64 rows each) for the overlap check")
    e.add_argument("--prose-bytes", type=int, default=6000)
    s = sub.add_parser("sample", help="print eval-style samples of a task")
    s.add_argument("--task", choices=TASKS + ["prose"], default="math")
    s.add_argument("-n", type=int, default=3)
    r = sub.add_parser("rows", help="print training rows")
    r.add_argument("--chunk", type=int, default=0)
    r.add_argument("--progress", type=float, default=1.0)
    r.add_argument("-n", type=int, default=2)
    args = ap.parse_args()
    if args.cmd == "evals":
        cmd_evals(args)
    elif args.cmd == "sample":
        rng = random.Random("sample")
        for _ in range(args.n):
            if args.task == "prose":
                print(gen_story(rng))
                continue
            p, a, _, _ = eval_case(rng, args.task)
            print(p + "\x1b[1m" + a + "\x1b[0m" + "-" * 40)
    else:
        data, mask = train_chunk(args.chunk, args.n, args.progress)
        for i in range(args.n):
            row = data[i * (SEQ + 1):(i + 1) * (SEQ + 1)]
            print(row.decode() + "\n" + "=" * 60)


if __name__ == "__main__":
    main()
