#!/usr/bin/env python3
"""Deterministic byte-level data for bytellama2, the capacity-bound model.

Standard library only (runs with a plain ``python3``, no numpy).

Two sources:

* **Real text from Debian packages** (``corpus`` mode, run on a Debian
  machine): the Python sources of CPython's standard library
  (``/usr/lib/python3.11``, package ``libpython3.11-stdlib`` & co., PSF
  licence) as code; English man pages (``/usr/share/man/man[1-8]``, roff
  converted to plain text here) and documentation texts
  (``/usr/share/doc/*/README*``, ``*.txt``, ``*.md``, ...) as prose.  Every
  file is attributed to its Debian package through ``/var/lib/dpkg/info``,
  and its licence is read from ``/usr/share/doc/<package>/copyright``.
  One file in 12 (by the blake2b hash of its path) is held out: it never
  enters training and is the source of the code suite, the perplexity text
  and the filler of the long-context eval prompts.
* **Synthetic skills**, harder than bytellama v1's: multi-step arithmetic
  with carries, tool calls with nested JSON arguments, reading comprehension
  over stories of 2-4 people with reverse and comparison questions, and
  retrieval from 1-2 KiB contexts with look-alike keys and two-hop aliases.

Eval suites (``evals`` mode, written to ``evals/v2``; same format as
``evals/*.jsonl``, plus a ``kind`` field that ``qrun eval`` ignores):

* ``chat``         -- story about 2-4 people + one User/Bot question.
* ``code_gen``     -- real Python from held-out stdlib files: 300-800 bytes of
                      the file, then the first part of a line; the answer is
                      the rest of that line.
* ``json_tools``   -- request -> tool call with nested arguments (lists of
                      objects, objects in objects), then 0-3 follow-up
                      corrections that the call must reflect, and event
                      lengths from which the end time is computed.
* ``math``         -- six kinds of multi-digit arithmetic with carries.
* ``long_context`` -- 16-28 records among real prose, prompt 1024-1900 bytes,
                      target anywhere; 30% of the cases ask for an alias
                      ("the same as for ...") that must be followed.
* ``prose_heldout.txt`` -- held-out man/doc text and held-out Python code
                      for perplexity.

Disjointness of training and evaluation data: seeds (``train-<chunk>`` vs
``eval-<suite>``), a held-out partition of synthetic cores (hash 0 mod 10,
never generated for training, as in v1), held-out files for real text, and
an exact-string check against a training sample (``evals`` mode).

Usage::

    python3 models/bytellama2/data.py corpus --out .devwork/corpus
    python3 models/bytellama2/data.py evals --corpus .devwork/corpus --out evals/v2
    python3 models/bytellama2/data.py sample --task long_context -n 2
    python3 models/bytellama2/data.py rows --chunk 0 -n 2
    python3 models/bytellama2/data.py calib --out calib.jsonl -n 64 --seq 512

The training script calls ``load_corpus(dir)`` and then
``train_chunk(chunk, n_rows, progress)``.
"""

import argparse
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import re
import sys
import textwrap
import tokenize

TASKS = ["chat", "code_gen", "json_tools", "math", "long_context"]
SEQ = 2048  # model context; prompt + answer of an eval case fits in it
HELDOUT_MOD = 10       # synthetic cores
HELDOUT_FILE_MOD = 12  # real files

# Share of training rows per source (a row holds one source only).
ROW_MIX = [("code", 0.22), ("prose", 0.16), ("long_context", 0.24),
           ("math", 0.14), ("json_tools", 0.12), ("chat", 0.12)]
CORPUS_FILE = "corpus.json.xz"


def is_heldout(task, core):
    h = hashlib.blake2b((task + "\x00" + core).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little") % HELDOUT_MOD == 0


def is_heldout_file(path):
    h = hashlib.blake2b(("file\x00" + path).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little") % HELDOUT_FILE_MOD == 0


# ===========================================================================
# Real text: corpus construction (run where the Debian files are)
# ===========================================================================
# Packages installed here that do not come from the Debian archive (their
# maintainers are the upstream vendors' repositories): never used.
NON_DEBIAN = re.compile(r"^(google-cloud-cli.*|kubectl|nodejs)$")

UNI = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
       "\u2013": "-", "\u2014": "--", "\u2026": "...", "\u00a0": " ",
       "\u2022": "*", "\u00b7": "*", "\u2212": "-", "\u00ab": '"',
       "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u00ad": ""}


def to_ascii(text):
    """Normalises text to printable ASCII lines; returns None when more than
    1% of the characters are not ASCII (translations, binary)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for k, v in UNI.items():
        if k in text:
            text = text.replace(k, v)
    bad = sum(1 for ch in text if ord(ch) > 126 or (ord(ch) < 32 and
                                                   ch not in "\n\t"))
    if bad > 0.01 * max(1, len(text)):
        return None
    lines = []
    for line in text.split("\n"):
        if any(ord(ch) > 126 or (ord(ch) < 32 and ch != "\t")
               for ch in line):
            continue
        lines.append(line.rstrip())
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text + "\n" if text else None


ROFF_NAMED = {
    "em": "--", "en": "-", "bu": "*", "aq": "'", "lq": '"', "rq": '"',
    "oq": "'", "cq": "'", "dq": '"', "hy": "-", "mi": "-", "pl": "+",
    "tm": "(TM)", "co": "(C)", "rg": "(R)", ">=": ">=", "<=": "<=",
    "->": "->", "<-": "<-", "ga": "`", "ti": "~", "ha": "^", "rs": "\\",
    "sl": "/", "at": "@", "sh": "#", "Do": "$", "lB": "[", "rB": "]",
    "lC": "{", "rC": "}", "ba": "|", "br": "|", "or": "|", "dg": "+",
    "mu": "x", "eq": "=", "==": "==", "!=": "!=", "ua": "^", "sq": "'",
    "fm": "'", "aa": "'", "cq": "'", "bv": "|", "ru": "_", "ul": "_",
    "tp": "'", "pc": "*", "de": " degrees", "+-": "+/-", "<>": "<->",
    "Fo": '"', "Fc": '"', "fo": "'", "fc": "'"}
ROFF_STRINGS = {'L"': '"', 'R"': '"', "C`": '"', "C'": '"', "C+": "C++",
                "--": "--", "Aq": "'", "lq": '"', "rq": '"', "R": "(R)",
                "Tm": "(TM)"}
ROFF_ESC = re.compile(
    r"\\(\((..)|\[([^\]]*)\]|f(?:\(..|\[[^\]]*\]|.)|s[+-]?\d+|"
    r"\*(?:\((..)|\[([^\]]*)\]|(.))|n(?:\(..|\[[^\]]*\]|.)|"
    r"[hvwlLxXbDoZNRS]'[^']*'|k.|(.))")


def roff_inline(s):
    def rep(m):
        if m.group(2) is not None:
            return ROFF_NAMED.get(m.group(2), "")
        if m.group(3) is not None:
            return ROFF_NAMED.get(m.group(3), "")
        for g in (4, 5, 6):
            if m.group(g) is not None:
                return ROFF_STRINGS.get(m.group(g), "")
        c = m.group(7)
        if c is None:
            return ""
        return {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ",
                "0": " ", "'": "'", "`": "`", ".": ".", "%": "", "&": "",
                "|": "", "^": "", "c": "", "/": "", ",": "", ":": "",
                "!": "", "{": "", "}": "", "\n": ""}.get(c, "")
    return ROFF_ESC.sub(rep, s)


def roff_args(arg):
    return [a[1:-1] if a.startswith('"') and a.endswith('"') and len(a) > 1
            else a for a in re.findall(r'"[^"]*"|\S+', arg)]


def roff_to_text(src):
    """Crude man(7) roff to plain text: macros for sections, paragraphs,
    fonts, lists and no-fill blocks; escapes; conditionals and macro
    definitions are dropped.  Returns None for .so links and mdoc pages."""
    out, para = [], []
    nofill = False
    depth = 0
    in_def = False

    def flush():
        if para:
            out.append(textwrap.fill(" ".join(para), 78,
                                     break_long_words=False,
                                     break_on_hyphens=False))
            para.clear()

    for line in src.split("\n"):
        if in_def:
            if line.startswith(".."):
                in_def = False
            continue
        if depth > 0:
            depth += line.count("\\{") - line.count("\\}")
            continue
        if line.startswith((".\\\"", "'\\\"", "\\\"", ".\\}", "'\\}")):
            continue
        if line.startswith((".", "'")):
            m = re.match(r"[.']\s*([^\s\\]+)\s*(.*)", line)
            if "\\{" in line:
                depth = max(0, line.count("\\{") - line.count("\\}"))
            if not m:
                continue
            mac, arg = m.group(1), m.group(2)
            if mac in ("de", "de1", "am", "ig"):
                in_def = True
                continue
            if mac == "so":
                return None
            if mac in ("Dd", "Nm", "Sh"):
                return None  # mdoc(7): not handled
            if mac in ("SH", "SS"):
                flush()
                title = roff_inline(" ".join(roff_args(arg))).strip()
                out.append("")
                out.append(title.upper() if mac == "SH" else title)
                continue
            if mac in ("nf", "EX"):
                flush()
                nofill = True
                continue
            if mac in ("fi", "EE"):
                flush()
                nofill = False
                continue
            if mac in ("B", "I", "SM", "SB", "BR", "RB", "IR", "RI", "BI",
                       "IB", "UR", "MT"):
                args = roff_args(arg)
                joined = (" " if mac in ("B", "I", "SM", "SB") else
                          "").join(args)
                t = roff_inline(joined)
                if nofill:
                    out.append(t)
                elif t.strip():
                    para.append(t.strip())
                continue
            if mac in ("PP", "P", "LP", "sp", "TP", "HP", "RS", "RE", "br",
                       "in", "ti", "Sp", "PD", "TQ", "UE", "ME", "bp"):
                flush()
                continue
            if mac == "IP":
                flush()
                args = roff_args(arg)
                if args and args[0].strip():
                    t = roff_inline(args[0]).strip()
                    if t:
                        para.append(t)
                continue
            continue  # TH, ds, nr, if, ie, el, ad, nh, ft, ...
        t = roff_inline(line)
        if nofill:
            out.append(t)
        elif t.strip():
            para.append(t.strip())
        else:
            flush()
            out.append("")
    flush()
    text = "\n".join(out)
    return text


def read_maybe_gz(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def dpkg_owners(prefixes):
    owners = {}
    d = "/var/lib/dpkg/info"
    for name in sorted(os.listdir(d)):
        if not name.endswith(".list"):
            continue
        pkg = name[:-5].split(":")[0]
        with open(os.path.join(d, name), errors="replace") as f:
            for line in f:
                p = line.rstrip("\n")
                if p.startswith(prefixes):
                    owners[p] = pkg
    return owners


def dpkg_status():
    info = {}
    with open("/var/lib/dpkg/status", errors="replace") as f:
        for stanza in f.read().split("\n\n"):
            fields = dict(re.findall(r"^(\S+): (.*)$", stanza, re.M))
            if "Package" in fields and "installed" in fields.get("Status",
                                                                  ""):
                info[fields["Package"]] = fields
    return info


def package_licence(pkg, status):
    """Licence short name of the 'Files: *' stanza of a DEP-5 (machine-
    readable) copyright file, else its first License: field; for other
    copyright files 'see copyright file (not machine-readable)'."""
    cands = [pkg, status.get(pkg, {}).get("Source", "").split(" ")[0]]
    for c in cands:
        path = "/usr/share/doc/%s/copyright" % c
        if c and os.path.exists(path):
            with open(path, errors="replace") as f:
                txt = f.read()
            if not re.match(r"Format:", txt):
                return "see copyright file (not machine-readable)"
            m = re.search(r"^Files:[ \t]*\*[ \t]*$.*?^License:[ \t]*([^\n]+)$",
                          txt, re.M | re.S)
            if not m:
                m = re.search(r"^License:[ \t]*([^\n]+)$", txt, re.M)
            if m:
                return m.group(1).strip()
            return "see copyright file (not machine-readable)"
    return "see copyright file (not machine-readable)"


DOC_NAME = re.compile(
    r"^(README|NEWS|TODO|FAQ|HISTORY|BUGS|USAGE|NOTES|INSTALL|HACKING|"
    r"CONTRIBUTING|DESIGN)([._-].*)?(\.gz)?$|.*\.(txt|md|rst|markdown)"
    r"(\.gz)?$", re.I)
PY_SKIP = re.compile(
    r"/(test|tests|idle_test|site-packages|dist-packages|__pycache__|"
    r"config-3\.11[^/]*)/|/encodings/(?!__init__|aliases)|"
    r"/pydoc_data/topics\.py$")
MAX_FILE = 256 * 1024
MAX_PROSE_PER_PACKAGE = 1536 * 1024


def cmd_corpus(args):
    owners = dpkg_owners(("/usr/lib/python3.11/", "/usr/share/man/man",
                          "/usr/share/doc/"))
    status = dpkg_status()
    docs = []  # (kind, path, text)
    # --- code: CPython's standard library sources
    for root, dirs, files in os.walk("/usr/lib/python3.11"):
        dirs.sort()
        for fn in sorted(files):
            p = os.path.join(root, fn)
            if not fn.endswith(".py") or PY_SKIP.search(p) or \
                    os.path.islink(p):
                continue
            if os.path.getsize(p) > MAX_FILE:
                continue
            t = to_ascii(read_maybe_gz(p))
            if t:
                docs.append(("code", p, t))
    # --- prose: English man pages
    for sec in range(1, 9):
        d = "/usr/share/man/man%d" % sec
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            p = os.path.join(d, fn)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            try:
                src = read_maybe_gz(p)
            except (OSError, EOFError, lzma.LZMAError, ValueError):
                continue
            t = roff_to_text(src)
            t = to_ascii(t) if t else None
            if t and len(t) > 200:
                docs.append(("prose", p, t))
    # --- prose: documentation texts
    for root, dirs, files in os.walk("/usr/share/doc"):
        dirs.sort()
        for fn in sorted(files):
            p = os.path.join(root, fn)
            if os.path.islink(p) or not DOC_NAME.match(fn):
                continue
            if re.match(r"^(changelog|copyright)", fn, re.I):
                continue
            try:
                src = read_maybe_gz(p)
            except (OSError, EOFError, ValueError):
                continue
            t = to_ascii(src[:MAX_FILE])
            if t and len(t) > 200:
                docs.append(("prose", p, t))
    # Attribute, filter, deduplicate.
    seen = set()
    kept = []
    per_pkg = {}
    skipped = {"non_debian": 0, "no_owner": 0, "duplicate": 0,
               "package_cap": 0}
    for kind, p, t in docs:
        pkg = owners.get(p)
        if pkg is None:
            skipped["no_owner"] += 1
            continue
        if NON_DEBIAN.match(pkg):
            skipped["non_debian"] += 1
            continue
        h = hashlib.sha256(t.encode()).hexdigest()
        if h in seen:
            skipped["duplicate"] += 1
            continue
        if kind == "prose":
            if per_pkg.get(pkg, 0) + len(t) > MAX_PROSE_PER_PACKAGE:
                skipped["package_cap"] += 1
                continue
            per_pkg[pkg] = per_pkg.get(pkg, 0) + len(t)
        seen.add(h)
        kept.append({"kind": kind, "path": p, "package": pkg,
                     "version": status.get(pkg, {}).get("Version", "?"),
                     "split": "heldout" if is_heldout_file(p) else "train",
                     "text": t})
    lic_cache = {}
    for d in kept:
        if d["package"] not in lic_cache:
            lic_cache[d["package"]] = package_licence(d["package"], status)
        d["licence"] = lic_cache[d["package"]]
    os.makedirs(args.out, exist_ok=True)
    blob = json.dumps(kept, sort_keys=True, ensure_ascii=True).encode()
    with open(os.path.join(args.out, CORPUS_FILE), "wb") as f:
        f.write(lzma.compress(blob, preset=9))
    # Manifest and summary.
    with open(os.path.join(args.out, "manifest.tsv"), "w") as f:
        f.write("kind\tsplit\tbytes\tpackage\tversion\tlicence\tpath\n")
        for d in kept:
            f.write("%s\t%s\t%d\t%s\t%s\t%s\t%s\n" % (
                d["kind"], d["split"], len(d["text"]), d["package"],
                d["version"], d["licence"], d["path"]))
    summ = {"sha256_json": hashlib.sha256(blob).hexdigest(),
            "skipped": skipped, "files": {}, "bytes": {}, "packages": {},
            "licences": {}}
    for d in kept:
        k = d["kind"] + "/" + d["split"]
        summ["files"][k] = summ["files"].get(k, 0) + 1
        summ["bytes"][k] = summ["bytes"].get(k, 0) + len(d["text"])
        pk = d["kind"] + ":" + d["package"]
        summ["packages"][pk] = summ["packages"].get(pk, 0) + len(d["text"])
        lk = d["licence"]
        summ["licences"][lk] = summ["licences"].get(lk, 0) + len(d["text"])
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summ, f, indent=1, sort_keys=True)
    print(json.dumps({k: summ[k] for k in ("sha256_json", "skipped",
                                           "files", "bytes")}, indent=1))
    print("compressed: %d bytes" % os.path.getsize(
        os.path.join(args.out, CORPUS_FILE)))


# ---------------------------------------------------------------------------
# Corpus access (training and eval generation)
# ---------------------------------------------------------------------------
CORPUS = None


def load_corpus(directory):
    """Loads the corpus; builds the train blobs (code, prose) and keeps the
    held-out documents.  Idempotent."""
    global CORPUS
    if CORPUS is not None:
        return CORPUS
    with open(os.path.join(directory, CORPUS_FILE), "rb") as f:
        raw = lzma.decompress(f.read())
    docs = json.loads(raw)
    c = {"sha256": hashlib.sha256(raw).hexdigest(), "docs": docs}
    for kind in ("code", "prose"):
        c[kind] = "\n".join(d["text"] for d in docs
                            if d["kind"] == kind and d["split"] == "train")
        c[kind + "_heldout"] = [d for d in docs if d["kind"] == kind and
                                d["split"] == "heldout"]
        c[kind + "_heldout_blob"] = "\n".join(
            d["text"] for d in c[kind + "_heldout"])
    CORPUS = c
    return c


def text_window(rng, blob, n):
    """n bytes of blob starting at a random line start."""
    start = rng.randrange(0, max(1, len(blob) - n - 1000))
    nl = blob.find("\n", start)
    start = nl + 1 if 0 <= nl < start + 1000 else start
    return blob[start:start + n]


# ===========================================================================
# Synthetic skills
# ===========================================================================
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
WEATHER = ["sunny", "rainy", "windy", "cold", "warm", "foggy", "quiet"]
SEASONS = ["spring", "summer", "autumn", "winter"]
PLACES = ["river", "old mill", "market", "bridge", "forest", "harbor",
          "library", "hill", "garden", "station", "square", "lake"]
NUM_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven",
             "eight", "nine", "ten", "eleven", "twelve"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday"]


def cap(s):
    return s[:1].upper() + s[1:]


def art(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def join_and(items):
    items = list(items)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------
# chat: stories about 2-4 people; forward, reverse and comparison questions
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
                    "It was a {W} day.",
                    "Later, everyone met at the {P}."]
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
REVERSE = {
    "town": ("town", ["Who lives in {town}?", "Which person lives in {town}?"],
             "{N} lives in {town}."),
    "job": ("ajob", ["Who is {ajob}?", "Who works as {ajob}?"],
            "{N} is {ajob}."),
    "pet": ("pet", ["Whose pet is called {pet}?",
                    "Who has a pet named {pet}?"],
            "{N} has {aanimal} named {pet}."),
    "food": ("food", ["Who loves {food}?"], "{N} loves {food}."),
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


def chat_questions(rng, people, known):
    """All answerable questions: (kind, question, answer)."""
    out = []
    for p in people:
        for q in QUESTIONS:
            if (p["N"], fact_key(q)) in known:
                out.append(("forward", rng.choice(QUESTIONS[q][0]).format(**p),
                            QUESTIONS[q][1].format(**p)))
    for key, (field, qs, ans) in REVERSE.items():
        for p in people:
            if (p["N"], key) not in known:
                continue
            # Unique among the people the story mentions with that fact.
            same = [o for o in people if (o["N"], key) in known and
                    o[field] == p[field]]
            if len(same) == 1:
                out.append(("reverse", rng.choice(qs).format(**p),
                            ans.format(**p)))
    aged = [p for p in people if (p["N"], "age") in known]
    for i in range(len(aged)):
        for j in range(len(aged)):
            a, b = aged[i], aged[j]
            if i == j or int(a["age"]) <= int(b["age"]):
                continue
            if rng.random() < 0.5:
                q = "Who is older, %s or %s?" % ((a["N"], b["N"]) if
                                                 rng.random() < 0.5 else
                                                 (b["N"], a["N"]))
                out.append(("compare", q, "%s is older than %s." % (
                    a["N"], b["N"])))
            else:
                q = "Who is younger, %s or %s?" % ((a["N"], b["N"]) if
                                                   rng.random() < 0.5 else
                                                   (b["N"], a["N"]))
                out.append(("compare", q, "%s is younger than %s." % (
                    b["N"], a["N"])))
    return out


def gen_chat(rng, heldout, n_questions, want_kind=None):
    """Returns [(prompt, answer, core, kind)] turns for one chat example."""
    for _ in range(1000):
        people = [make_person(rng, n)
                  for n in rng.sample(NAMES, rng.choice([2, 3, 3, 4]))]
        sents = []
        for p in people:
            keys = rng.sample(list(FACT_TEMPLATES), rng.randint(3, 5))
            for k in keys:
                sents.append((p["N"], k, rng.choice(FACT_TEMPLATES[k])
                              .format(**p)))
        rng.shuffle(sents)
        text = [s for _, _, s in sents]
        for _ in range(rng.randint(0, 2)):
            text.insert(rng.randint(0, len(text)), rng.choice(
                FILLER_TEMPLATES).format(W=rng.choice(WEATHER),
                                         S=rng.choice(SEASONS),
                                         P=rng.choice(PLACES)))
        story = " ".join(text) + "\n"
        known = {(n, k) for n, k, _ in sents}
        cands = chat_questions(rng, people, known)
        if want_kind:
            cands = [c for c in cands if c[0] == want_kind]
        rng.shuffle(cands)
        turns = []
        ctx = story
        if rng.random() < 0.2:
            g, r = rng.choice(GREETINGS)
            ctx += "User: " + g + "\nBot:"
            turns.append((ctx, " " + r + "\n", None, "greeting"))
            ctx += " " + r + "\n"
        asked = 0
        for kind, qtext, ans in cands:
            if asked >= n_questions:
                break
            prompt = ctx + "User: " + qtext + "\nBot:"
            core = story + qtext
            if is_heldout("chat", core) != heldout:
                continue
            answer = " " + ans + "\n"
            turns.append((prompt, answer, core, kind))
            ctx = prompt + answer
            asked += 1
        if asked:
            return turns
    raise RuntimeError("chat: could not draw an example")


# ---------------------------------------------------------------------------
# json_tools: nested arguments
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
DISHES = [("pizza", "pizzas"), ("burger", "burgers"), ("taco", "tacos"),
          ("salad", "salads"), ("soup", "soups"), ("curry", "curries"),
          ("sandwich", "sandwiches"), ("pie", "pies"), ("wrap", "wraps"),
          ("omelette", "omelettes")]
ROOMS = ["kitchen", "bedroom", "living room", "office", "bathroom",
         "hallway", "attic", "nursery"]


def fmt_time(rng, lo=1, hi=12):
    """Returns (spoken time, "HH:MM", minutes since midnight)."""
    h12 = rng.randint(lo, hi)
    m = rng.choice([0, 0, 0, 15, 30, 45])
    pm = rng.random() < 0.5
    h24 = (h12 % 12) + (12 if pm else 0)
    spoken = str(h12) + (":%02d" % m if m else "") + (" pm" if pm else " am")
    return spoken, "%02d:%02d" % (h24, m), h24 * 60 + m


def spoken_num(rng, n):
    return NUM_WORDS[n] if n < len(NUM_WORDS) and rng.random() < 0.5 \
        else str(n)


def jcall(name, args):
    return json.dumps({"name": name, "arguments": args})


def n_items(rng):
    return rng.choice([1, 2, 2, 3, 3, 4, 4, 5])


def n_edits(rng):
    """How many follow-up corrections a request gets: the call must reflect
    the request after every correction, so the model has to track state
    across the prompt instead of copying values in order."""
    return rng.choice([0, 0, 0, 1, 1, 1, 2, 2, 3])


def add_minutes(m, d):
    m = (m + d) % (24 * 60)
    return "%02d:%02d" % (m // 60, m % 60)


def spoken_qty(rng, q):
    if q == 12 and rng.random() < 0.5:
        return "a dozen"
    if q == 6 and rng.random() < 0.5:
        return "half a dozen"
    return spoken_num(rng, q)


def dish_phrase(rng, dish, q):
    sg, pl = dish
    return spoken_qty(rng, q) + " " + (sg if q == 1 else pl)


def person_phrase(rng, n, a):
    fmts = ["{n} ({a})", "{n}, age {a}", "{n} who is {a}"]
    return rng.choice(fmts).format(n=n, a=spoken_num(rng, a))


DURATIONS = [(30, "half an hour"), (45, "45 minutes"), (60, "an hour"),
             (90, "an hour and a half"), (90, "90 minutes"),
             (120, "two hours"), (150, "two and a half hours"),
             (75, "75 minutes"), (180, "three hours")]


def gen_request(rng):
    """Returns (request, call json, kind). A request states a call, then
    0-3 follow-up corrections ("Actually, ...", "Also ...") that change,
    add or remove arguments; event durations are given as a length, so the
    end time must be computed."""
    tool = rng.randrange(6)
    edits = []  # (sentence, callback that updates the state)
    k_ed = n_edits(rng)
    if tool == 0:
        k = min(4, n_items(rng))
        names = rng.sample(NAMES, k + 2)
        spare, names = names[k:], names[:k]
        ages = [rng.randint(2, 80) for _ in names]
        st = {"p": list(zip(names, ages))}
        f, t = rng.sample(CITIES, 2)
        d = rng.choice(DAYS)
        sp, hm, _ = fmt_time(rng)
        st.update(d=d, hm=hm, f=f, t=t)
        tpl = rng.choice([
            "Book a flight from {f} to {t} on {D} at {time} for {p}.",
            "I need a flight to {t} from {f} for {p}, leaving {D} at {time}.",
            "Get {p} on a plane from {f} to {t} on {D}, departing at {time}."])
        req = tpl.format(f=f, t=t, D=cap(d), time=sp,
                         p=join_and(person_phrase(rng, n, a)
                                    for n, a in st["p"]))
        opts = ["day", "time", "add", "dest"] + (["drop"] if k > 1 else [])
        for e in rng.sample(opts, min(k_ed, len(opts))):
            if e == "day":
                d2 = rng.choice([x for x in DAYS if x != st["d"]])
                st["d"] = d2
                edits.append(rng.choice(["Actually, make it %s.",
                                         "Sorry, it should be %s."])
                             % cap(d2))
            elif e == "time":
                sp2, hm2, _ = fmt_time(rng)
                st["hm"] = hm2
                edits.append("Actually, leave at %s instead." % sp2)
            elif e == "add":
                n2, a2 = spare.pop(), rng.randint(2, 80)
                st["p"].append((n2, a2))
                edits.append("Oh, and add %s." % person_phrase(rng, n2, a2))
            elif e == "dest":
                t2 = rng.choice([c for c in CITIES
                                 if c not in (st["f"], st["t"])])
                st["t"] = t2
                edits.append("Change the destination to %s." % t2)
            else:
                i = rng.randrange(len(st["p"]))
                edits.append("%s is not coming after all." % st["p"][i][0])
                del st["p"][i]
        args = {"passengers": [{"name": n, "age": a} for n, a in st["p"]],
                "route": {"from": st["f"], "to": st["t"]},
                "departure": {"day": st["d"], "time": st["hm"]}}
        name, kind = "book_flight", "flight"
    elif tool == 1:
        k = n_items(rng)
        names = rng.sample(NAMES, k + 2)
        spare, names = names[k:], names[:k]
        s = rng.choice(SUBJECTS)
        d = rng.choice(DAYS)
        sp1, hm1, m1 = fmt_time(rng, 7, 11)
        if rng.random() < 0.5:
            dur, dsp = rng.choice(DURATIONS)
            hm2 = add_minutes(m1, dur)
            span = rng.choice(["from {t1} for {dur}", "at {t1} for {dur}"]) \
                .format(t1=sp1, dur=dsp)
        else:
            while True:  # redraw both: an 11:45 pm start has no end
                (sp1, hm1, m1), (sp2, hm2, m2) = fmt_time(rng), fmt_time(rng)
                if m1 < m2:
                    break
            span = "from {t1} to {t2}".format(t1=sp1, t2=sp2)
        st = {"d": d, "a": list(names), "start": hm1, "end": hm2, "s": s}
        tpl = rng.choice([
            "Schedule a meeting about {s} on {D} {span} with {p}.",
            "Set up a meeting with {p} on {D}, {span}, about {s}.",
            "Put {s} in the calendar on {D} {span} and invite {p}."])
        req = tpl.format(s=s, D=cap(d), span=span, p=join_and(names))
        opts = ["day", "add", "subject"] + (["drop"] if k > 1 else [])
        for e in rng.sample(opts, min(k_ed, len(opts))):
            if e == "day":
                d2 = rng.choice([x for x in DAYS if x != st["d"]])
                st["d"] = d2
                edits.append("Actually, move it to %s." % cap(d2))
            elif e == "add":
                n2 = spare.pop()
                st["a"].append(n2)
                edits.append("Also invite %s." % n2)
            elif e == "subject":
                s2 = rng.choice([x for x in SUBJECTS if x != st["s"]])
                st["s"] = s2
                edits.append("Call it %s instead." % s2)
            else:
                i = rng.randrange(len(st["a"]))
                edits.append("Leave %s out." % st["a"][i])
                del st["a"][i]
        args = {"title": st["s"], "when": {"day": st["d"],
                                           "start": st["start"],
                                           "end": st["end"]},
                "attendees": st["a"]}
        name, kind = "create_event", "event"
    elif tool == 2:
        k = min(4, n_items(rng))
        dishes = rng.sample(DISHES, k + 1)
        spare, dishes = dishes[k], dishes[:k]
        qtys = [rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 12]) for _ in dishes]
        st = {"i": [list(x) for x in zip(dishes, qtys)]}
        items = join_and(dish_phrase(rng, dsh, q) for dsh, q in st["i"])
        r = rng.choice(RESTAURANTS)
        sp, hm, _ = fmt_time(rng)
        st["hm"] = hm
        tpl = rng.choice(["Order {i} from {r} for {t}.",
                          "From {r}, I'd like {i}, delivered at {t}.",
                          "Get me {i} from {r} by {t}."])
        req = tpl.format(i=items, r=r, t=sp)
        opts = ["qty", "add", "time"] + (["drop"] if k > 1 else [])
        for e in rng.sample(opts, min(k_ed, len(opts))):
            if e == "qty":
                it = rng.choice(st["i"])
                q2 = rng.choice([q for q in (1, 2, 3, 4, 5, 6, 8, 12)
                                 if q != it[1]])
                it[1] = q2
                edits.append("Actually, make that %s."
                             % dish_phrase(rng, it[0], q2))
            elif e == "add":
                q2 = rng.randint(1, 5)
                st["i"].append([spare, q2])
                edits.append("Oh, and add %s." % dish_phrase(rng, spare, q2))
            elif e == "time":
                sp2, hm2, _ = fmt_time(rng)
                st["hm"] = hm2
                edits.append("Deliver at %s instead." % sp2)
            else:
                i = rng.randrange(len(st["i"]))
                edits.append("Skip the %s." % st["i"][i][0][1])
                del st["i"][i]
        args = {"restaurant": r,
                "items": [{"dish": dsh[0], "qty": q} for dsh, q in st["i"]],
                "deliver_at": st["hm"]}
        name, kind = "order_food", "food"
    elif tool == 3:
        k = min(4, n_items(rng))
        room = rng.choice(ROOMS)
        while True:
            times = sorted((fmt_time(rng) for _ in range(k)),
                           key=lambda x: x[2])
            if len({x[2] for x in times}) == k:
                break
        temps = [rng.randint(15, 26) for _ in range(k)]
        st = {"room": room, "s": [[hm, tp] for (_, hm, _), tp in
                                  zip(times, temps)]}
        parts = ["%s degrees at %s" % (spoken_num(rng, tp) if tp <= 12 else
                                       str(tp), sp)
                 for (sp, _, _), tp in zip(times, temps)]
        tpl = rng.choice(["Set the {room} to {parts}.",
                          "Heat the {room} to {parts}, please.",
                          "I want the {room} at {parts}."])
        req = tpl.format(room=room, parts=join_and(parts))
        opts = ["room", "first", "last"]
        for e in rng.sample(opts, min(k_ed, len(opts))):
            if e == "room":
                r2 = rng.choice([x for x in ROOMS if x != st["room"]])
                st["room"] = r2
                edits.append("Sorry, I meant the %s." % r2)
            else:
                i = 0 if e == "first" else -1
                t2 = rng.choice([t for t in range(15, 27)
                                 if t != st["s"][i][1]])
                st["s"][i][1] = t2
                edits.append("Make the %s one %d degrees." % (e, t2))
        args = {"room": st["room"], "schedule": [{"time": hm, "temp": tp}
                                                 for hm, tp in st["s"]]}
        name, kind = "set_thermostat", "thermostat"
    elif tool == 4:
        k = min(4, n_items(rng))
        amount = rng.choice([rng.randint(1, 99), rng.randint(100, 5000)])
        cur = rng.sample(CURRENCIES, k + 2)
        (fn, fc), targets, spare = cur[0], cur[1:k + 1], cur[k + 1]
        st = {"v": amount, "t": [c for _, c in targets]}
        tpl = rng.choice(["Convert {a} {f} to {t}.",
                          "How much are {a} {f} in {t}?",
                          "What are {a} {f} worth in {t}?"])
        req = tpl.format(a=amount, f=fn, t=join_and(n for n, _ in targets))
        opts = ["amount", "add"] + (["drop"] if k > 1 else [])
        for e in rng.sample(opts, min(k_ed, len(opts))):
            if e == "amount":
                v2 = rng.choice([rng.randint(1, 99), rng.randint(100, 5000)])
                st["v"] = v2
                edits.append("Actually, make it %d %s." % (v2, fn))
            elif e == "add":
                st["t"].append(spare[1])
                edits.append("Also in %s." % spare[0])
            else:
                i = rng.randrange(len(st["t"]))
                nm = [n for n, c in CURRENCIES if c == st["t"][i]][0]
                edits.append("Never mind the %s." % nm)
                del st["t"][i]
        args = {"amount": {"value": st["v"], "currency": fc},
                "targets": st["t"]}
        name, kind = "convert_currency", "currency"
    else:
        k = n_items(rng)
        names = rng.sample(NAMES, k + 2)
        spare, names = names[k:], names[:k]
        n_to = rng.randint(1, min(2, k))
        st = {"to": names[:n_to], "cc": names[n_to:]}
        s = rng.choice(SUBJECTS)
        st["s"] = s
        if st["cc"]:
            tpl = rng.choice(["Email {to} about {s} and cc {cc}.",
                              "Send a message to {to} regarding {s}, with "
                              "{cc} in copy.",
                              "Write to {to} about {s}; copy {cc}."])
        else:
            tpl = rng.choice(["Email {to} about {s}.",
                              "Send a message to {to} regarding {s}.",
                              "Write to {to} about {s}."])
        req = tpl.format(to=join_and(st["to"]), s=s,
                         cc=join_and(st["cc"]) if st["cc"] else "")
        opts = ["cc", "to", "subject"]
        for e in rng.sample(opts, min(k_ed, len(opts))):
            if e == "cc":
                n2 = spare.pop()
                st["cc"].append(n2)
                edits.append("Also cc %s." % n2)
            elif e == "to":
                n2 = spare.pop()
                st["to"].append(n2)
                edits.append("Add %s as a recipient." % n2)
            else:
                s2 = rng.choice([x for x in SUBJECTS if x != st["s"]])
                st["s"] = s2
                edits.append("Make the subject %s." % s2)
        args = {"to": st["to"], "cc": st["cc"], "subject": st["s"]}
        name, kind = "send_email", "email"
    if edits:
        req += " " + " ".join(edits)
    return req, jcall(name, args), "%s/%d" % (kind, len(edits))


def gen_json(rng, heldout):
    for _ in range(1000):
        req, call, kind = gen_request(rng)
        if is_heldout("json_tools", req) == heldout:
            return [("User: " + req + "\nCall: ", call + "\n", req, kind)]
    raise RuntimeError("json_tools: could not draw an example")


# ---------------------------------------------------------------------------
# math: multi-step arithmetic with carries
# ---------------------------------------------------------------------------
def rand_digits(rng, lo, hi):
    d = rng.randint(lo, hi)
    return rng.randint(10 ** (d - 1), 10 ** d - 1)


def carries(a, b):
    c = n = 0
    while a or b:
        s = a % 10 + b % 10 + c
        c = 1 if s >= 10 else 0
        n += c
        a //= 10
        b //= 10
    return n


def borrows(a, b):
    br = n = 0
    while a:
        d = a % 10 - b % 10 - br
        br = 1 if d < 0 else 0
        n += br
        a //= 10
        b //= 10
    return n


MATH_KINDS = ["add", "sub", "add3", "mul1", "muladd", "mul2"]


def gen_math_problem(rng, kind=None):
    kind = kind or rng.choice(MATH_KINDS)
    while True:
        if kind == "add":
            a, b = rand_digits(rng, 3, 5), rand_digits(rng, 3, 5)
            if carries(a, b) < 2:
                continue
            p, r = "%d+%d=" % (a, b), a + b
        elif kind == "sub":
            a, b = rand_digits(rng, 3, 5), rand_digits(rng, 3, 5)
            if a < b:
                a, b = b, a
            if borrows(a, b) < 2:
                continue
            p, r = "%d-%d=" % (a, b), a - b
        elif kind == "add3":
            a, b, c = (rand_digits(rng, 2, 4) for _ in range(3))
            if carries(a, b) + carries(a + b, c) < 2:
                continue
            p, r = "%d+%d+%d=" % (a, b, c), a + b + c
        elif kind == "mul1":
            a, b = rand_digits(rng, 2, 4), rng.randint(3, 9)
            p, r = "%d*%d=" % (a, b), a * b
        elif kind == "muladd":
            a, b, c = rand_digits(rng, 2, 3), rng.randint(3, 9), \
                rand_digits(rng, 2, 3)
            if rng.random() < 0.5:
                p, r = "%d*%d+%d=" % (a, b, c), a * b + c
            else:
                p, r = "%d+%d*%d=" % (c, a, b), a * b + c
        else:
            a, b = rand_digits(rng, 2, 2), rand_digits(rng, 2, 2)
            p, r = "%d*%d=" % (a, b), a * b
        return p, "%d\n" % r, kind


def gen_math(rng, heldout, kind=None):
    for _ in range(1000):
        p, a, k = gen_math_problem(rng, kind)
        if is_heldout("math", p) == heldout:
            return [(p, a, p, k)]
    raise RuntimeError("math: could not draw an example")


# ---------------------------------------------------------------------------
# long_context: records among real prose, look-alike keys, aliases
# ---------------------------------------------------------------------------
ADJ = ["amber", "blue", "coral", "dusty", "early", "frosty", "gentle",
       "hidden", "ivory", "jolly", "lucky", "misty", "noble", "olive",
       "quiet", "rusty", "sandy", "tiny", "velvet", "wild"]
NOUNS = ["fox", "owl", "river", "tower", "garden", "lantern", "harbor",
         "falcon", "meadow", "anchor", "comet", "bridge", "willow", "badger",
         "violin", "canyon", "pebble", "orchard", "beacon", "thistle"]


def record(key, val):
    return "The number for %s is %d." % (key, val)


def alias_record(key, other):
    return "The number for %s is the same as the number for %s." % (
        key, other)


def query(key):
    return ("Question: What is the number for %s?\n"
            "Answer: The number for %s is" % (key, key))


def lookalike_keys(rng, n):
    """n distinct keys; many share a word with the first one."""
    a0, n0 = rng.choice(ADJ), rng.choice(NOUNS)
    keys = [a0 + " " + n0]
    while len(keys) < n:
        r = rng.random()
        if r < 0.3:
            k = a0 + " " + rng.choice(NOUNS)
        elif r < 0.6:
            k = rng.choice(ADJ) + " " + n0
        else:
            k = rng.choice(ADJ) + " " + rng.choice(NOUNS)
        if k not in keys:
            keys.append(k)
    return keys


def filler_lines(rng, blob, n_bytes):
    lines = []
    total = 0
    tries = 0
    while total < n_bytes and tries < 50:
        tries += 1
        w = text_window(rng, blob, min(4000, n_bytes + 400))
        for ln in w.split("\n")[:-1]:
            ln = ln.strip()
            if len(ln) < 8 or "number for" in ln.lower():
                continue
            lines.append(ln)
            total += len(ln) + 1
            if total >= n_bytes:
                break
    return lines


def gen_long(rng, heldout, mode, ctx_len=1500, n_queries=4, want=None):
    """One long-context example; returns (turns, n_value_records).

    The body is real prose (held-out files for eval, training files for
    training) with records on their own lines.  About 20% of the records
    are aliases ("the same as the number for <other key>") of a value
    record.  Eval: prompt of 1024-1900 bytes, 16-28 records, one query
    (kind "direct" or, for 30% of the cases, "alias"), target anywhere.
    Train: context of about ctx_len bytes, n_queries queries with their
    answers."""
    c = CORPUS
    blob = c["prose_heldout_blob"] if mode == "eval" else c["prose"]
    for _ in range(1000):
        if mode == "eval":
            n_rec = rng.randint(16, 28)
            target_len = rng.randint(1000, 1860)
            want = want or ("alias" if rng.random() < 0.3 else "direct")
        else:
            n_rec = max(3, min(28, ctx_len // 65))
            target_len = ctx_len
        keys = lookalike_keys(rng, n_rec)
        n_alias = max(1, n_rec // 5) if n_rec >= 4 else 0
        vals = []
        while len(vals) < n_rec:
            v = rng.randint(1000, 9999)
            if v not in vals:
                vals.append(v)
        # Alias keys: the first n_alias keys after the look-alike head may
        # alias a value record; in eval "alias" mode, the target (key 0)
        # is an alias.
        alias_of = {}
        order = list(range(n_rec))
        rng.shuffle(order)
        alias_idx = order[:n_alias]
        if mode == "eval":
            alias_idx = [i for i in alias_idx if i != 0]
            if want == "alias":
                alias_idx = [0] + alias_idx[:max(0, n_alias - 1)]
        value_idx = [i for i in range(n_rec) if i not in alias_idx]
        for i in alias_idx:
            alias_of[i] = rng.choice(value_idx)
        recs = []
        for i in range(n_rec):
            if i in alias_of:
                recs.append(alias_record(keys[i], keys[alias_of[i]]))
            else:
                recs.append(record(keys[i], vals[i]))
        rec_bytes = sum(len(r) + 1 for r in recs)
        lines = filler_lines(rng, blob, max(0, target_len - rec_bytes))
        for r in recs:
            lines.insert(rng.randint(0, len(lines)), r)
        body = "\n".join(lines) + "\n"

        def value(i):
            return vals[alias_of.get(i, i)]

        if mode == "eval":
            prompt = body + query(keys[0])
            if not (1024 <= len(prompt) and len(prompt) + 8 <= SEQ - 100):
                continue
            if is_heldout("long_context", prompt) != heldout:
                continue
            return ([(prompt, " %d.\n" % value(0), prompt, want)],
                    len(value_idx))
        qs = rng.sample(range(n_rec), min(n_queries, n_rec))
        turns = []
        ctx = body
        for i in qs:
            prompt = ctx + query(keys[i])
            if is_heldout("long_context", prompt):
                continue
            ans = " %d.\n" % value(i)
            turns.append((prompt, ans, prompt,
                          "alias" if i in alias_of else "direct"))
            ctx = prompt + ans
        if turns:
            return turns, len(value_idx)
    raise RuntimeError("long_context: could not draw an example")


# ===========================================================================
# Training rows
# ===========================================================================
def train_example(rng, task, progress):
    """Returns [(prompt_part, answer, core)] with prompt parts relative
    (the text between the previous answer and this answer)."""
    if task == "chat":
        turns = gen_chat(rng, False, rng.randint(2, 4))
    elif task == "json_tools":
        turns = gen_json(rng, False)
    elif task == "math":
        turns = gen_math(rng, False)
    else:
        # Curriculum: contexts grow from ~250 to ~1900 bytes over the first
        # 40% of training, then stay spread over 250..1900.
        hi = int(250 + 1650 * min(1.0, progress / 0.4))
        ctx_len = rng.randint(200, max(250, hi))
        turns, _ = gen_long(rng, False, "train", ctx_len,
                            n_queries=rng.randint(4, 8))
    out = []
    prev = ""
    for prompt, ans, core, _ in turns:
        assert prompt.startswith(prev)
        out.append((prompt[len(prev):], ans, core))
        prev = prompt + ans
    return out


def train_chunk(chunk, n_rows, progress, seq=SEQ + 1):
    """Returns (data, mask): n_rows rows of seq bytes each, concatenated.

    A row is a window of real text (code or prose; starts at a line start)
    or examples of one synthetic task packed back to back, starting at an
    example boundary (the last one cut off at the row end).  mask is 1 on
    answer bytes, 0 elsewhere.  Needs load_corpus() first."""
    rng = random.Random("train-%d" % chunk)
    tasks = [t for t, _ in ROW_MIX]
    weights = [w for _, w in ROW_MIX]
    data = bytearray()
    mask = bytearray()
    for _ in range(n_rows):
        task = rng.choices(tasks, weights)[0]
        if task in ("code", "prose"):
            w = text_window(rng, CORPUS[task], seq).encode()
            if len(w) < seq:
                w += b"\n" * (seq - len(w))
            data += w[:seq]
            mask += bytes(seq)
            continue
        row = bytearray()
        rmask = bytearray()
        while len(row) < seq:
            for part, ans, _ in train_example(rng, task, progress):
                pb, ab = part.encode(), ans.encode()
                row += pb + ab
                rmask += bytes(len(pb)) + b"\x01" * len(ab)
            if task in ("chat", "long_context"):
                row += b"\n"
                rmask += b"\x00"
        data += row[:seq]
        mask += rmask[:seq]
    return bytes(data), bytes(mask)


# ===========================================================================
# Eval suites
# ===========================================================================
def code_cases(rng, n, max_per_file=10):
    """Line completions from held-out stdlib files (see module doc)."""
    c = CORPUS
    train_code = c["code"]
    cands = []
    for d in sorted(c["code_heldout"], key=lambda d: d["path"]):
        text = d["text"]
        lines = text.split("\n")
        starts = [0]
        for ln in lines:
            starts.append(starts[-1] + len(ln) + 1)
        try:
            toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
        # Group tokens by logical line.
        logical = []
        cur = []
        for t in toks:
            if t.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if cur:
                    logical.append(cur)
                cur = []
            elif t.type not in (tokenize.NL, tokenize.COMMENT,
                                tokenize.INDENT, tokenize.DEDENT):
                cur.append(t)
        fcands = []
        for lt in logical:
            row = lt[0].start[0]
            if lt[-1].end[0] != row or lt[0].type == tokenize.STRING:
                continue
            line = lines[row - 1]
            if len(line) > 100:
                continue
            for t in lt[:-1]:
                col = t.end[1]
                rest = line[col:]
                if 4 <= len(rest) <= 40 and rest.strip() and \
                        col > len(line) - len(line.lstrip()):
                    fcands.append((row, col))
        rng.shuffle(fcands)
        picked = []
        for row, col in fcands:
            if len(picked) >= max_per_file:
                break
            if any(abs(row - r) < 4 for r, _ in picked):
                continue
            line = lines[row - 1]
            want = rng.randint(300, 800)
            k = row - 1
            while k > 0 and starts[row - 1] - starts[k] < want:
                k -= 1
            ctx = text[starts[k]:starts[row - 1]]
            if len(ctx) < 300:
                continue
            prompt = ctx + line[:col]
            answer = line[col:] + "\n"
            # The held-out file's text must not occur in the training code.
            if (prompt[-160:] + answer) in train_code:
                continue
            picked.append((row, col))
            cands.append((prompt, answer, d["path"] + ":%d" % row,
                          os.path.basename(d["path"])))
    rng.shuffle(cands)
    return cands[:n]


def eval_case(rng, suite, i=0):
    """Returns (prompt, answer, core, extra)."""
    if suite == "chat":
        kind = ["forward", "forward", "reverse", "reverse", "compare"][i % 5]
        turns = gen_chat(rng, True, 1, kind)
        p, a, c, k = turns[-1]
        return p, a, c, {"kind": k}
    if suite == "json_tools":
        (p, a, c, k), = gen_json(rng, True)
        return p, a, c, {"kind": k}
    if suite == "math":
        (p, a, c, k), = gen_math(rng, True, MATH_KINDS[i % len(MATH_KINDS)])
        return p, a, c, {"kind": k}
    turns, n_rec = gen_long(rng, True, "eval",
                            want="alias" if i % 10 < 3 else "direct")
    (p, a, c, k), = turns
    return p, a, c, {"kind": k, "n_records": n_rec}


SUITE_SIZES = {"chat": 250, "code_gen": 250, "json_tools": 300,
               "math": 600, "long_context": 200}


def make_suite(suite, n):
    rng = random.Random("eval-" + suite)
    if suite == "code_gen":
        cases = [(p, a, c, {"kind": "python", "file": f})
                 for p, a, c, f in code_cases(rng, n)]
        assert len(cases) == n, (suite, len(cases))
        return cases
    cases, seen = [], set()
    i = 0
    while len(cases) < n:
        p, a, c, extra = eval_case(rng, suite, i)
        i += 1
        if p in seen:
            continue
        seen.add(p)
        assert a.endswith("\n") and len((p + a).encode()) <= SEQ
        cases.append((p, a, c, extra))
    return cases


def training_sample(n_chunks, rows=32):
    """Prompts, prompt+answer strings and cores of a training sample."""
    prompts, full, cores = set(), set(), set()
    tasks = [t for t, _ in ROW_MIX if t not in ("code", "prose")]
    for chunk in range(n_chunks):
        rng = random.Random("train-%d" % chunk)
        for _ in range(rows):
            task = rng.choice(tasks)
            prev = ""
            for part, ans, core in train_example(rng, task, 1.0):
                prompt = prev + part
                if core is not None:
                    prompts.add(prompt)
                    full.add(prompt + ans)
                    cores.add(core)
                prev = prompt + ans
    return prompts, full, cores


def chance_levels(suite, cases):
    counts = {}
    for _, a, _, _ in cases:
        counts[a] = counts.get(a, 0) + 1
    n = len(cases)
    out = {"answer_prior": sum((c / n) ** 2 for c in counts.values())}
    if suite == "long_context":
        out["random_record"] = sum(1.0 / e["n_records"]
                                   for _, _, _, e in cases) / n
    return out


def heldout_text(rng, n_bytes):
    """Perplexity text: alternating ~1 KiB passages of held-out prose and
    held-out code, each starting at a line start."""
    c = CORPUS
    parts = []
    total = 0
    k = 0
    while total < n_bytes:
        docs = c["prose_heldout" if k % 2 == 0 else "code_heldout"]
        d = docs[rng.randrange(len(docs))]
        t = d["text"]
        if len(t) < 1500:
            continue
        w = text_window(rng, t, 1024)
        w = w[:w.rfind("\n") + 1]
        if len(w) < 600:
            continue
        parts.append(w)
        total += len(w)
        k += 1
    return "".join(parts)


def cmd_evals(args):
    load_corpus(args.corpus)
    os.makedirs(args.out, exist_ok=True)
    print("corpus sha256 %s" % CORPUS["sha256"], file=sys.stderr)
    print("generating training sample (%d chunks x 32 rows)..." %
          args.check_chunks, file=sys.stderr)
    t_prompts, t_full, t_cores = training_sample(args.check_chunks)
    print("training sample: %d prompts" % len(t_prompts), file=sys.stderr)
    summary = {}
    for suite in TASKS:
        n = args.n or SUITE_SIZES[suite]
        cases = make_suite(suite, n)
        if suite == "code_gen":
            overlap = sum(1 for p, a, _, _ in cases
                          if (p[-160:] + a) in CORPUS["code"])
            heldout_ok = True
        else:
            overlap = sum(1 for p, a, c, _ in cases
                          if p in t_prompts or p + a in t_full or
                          c in t_cores)
            heldout_ok = all(is_heldout(suite, c) for _, _, c, _ in cases)
        assert overlap == 0 and heldout_ok, (suite, overlap, heldout_ok)
        ch = chance_levels(suite, cases)
        with open(os.path.join(args.out, suite + ".jsonl"), "w") as f:
            for p, a, _, extra in cases:
                rec = {"prompt": p, "answer": a, "metric": "exact_match"}
                rec.update(extra)
                f.write(json.dumps(rec, ensure_ascii=True) + "\n")
        lens = [len(p) + len(a) for p, a, _, _ in cases]
        kinds = {}
        for _, _, _, e in cases:
            kinds[e.get("kind")] = kinds.get(e.get("kind"), 0) + 1
        summary[suite] = {"n": len(cases), "overlap": overlap,
                          "bytes": [min(lens), max(lens), sum(lens)],
                          "chance": ch}
        print("%-13s n=%d overlap=%d case bytes %d..%d (total %d) chance %s"
              " kinds %s" % (suite, len(cases), overlap, min(lens),
                             max(lens), sum(lens),
                             {k: round(v, 4) for k, v in ch.items()},
                             dict(sorted(kinds.items(), key=str))))
    text = heldout_text(random.Random("eval-prose"), args.prose_bytes)
    with open(os.path.join(args.out, "prose_heldout.txt"), "w") as f:
        f.write(text)
    print("prose_heldout.txt: %d bytes" % len(text))
    return summary


def cmd_calib(args):
    """A calibration set for static quantization (qrun calibrate): rows of
    the training stream, the mix of train_chunk (code, prose and every
    synthetic skill), never the eval suites.  One JSONL case per row, as
    token ids (bytes): the row but its last byte is the prompt, the last
    byte the answer, so that calibration runs exactly the row."""
    rows = []
    chunk = args.first_chunk
    while len(rows) < args.n:
        data, _ = train_chunk(chunk, 32, 1.0, seq=args.seq)
        rows += [data[i:i + args.seq] for i in range(0, len(data), args.seq)]
        chunk += 1
    with open(args.out, "w") as f:
        for row in rows[:args.n]:
            f.write(json.dumps({"prompt_ids": list(row[:-1]),
                                "answer_ids": [row[-1]]},
                               separators=(",", ":")) + "\n")
    print("%s: %d rows of %d bytes from training chunks %d..%d" %
          (args.out, args.n, args.seq, args.first_chunk, chunk - 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus", help="build the real-text corpus")
    c.add_argument("--out", default=".devwork/corpus")
    e = sub.add_parser("evals", help="write the eval suites")
    e.add_argument("--corpus", default=".devwork/corpus")
    e.add_argument("--out", default="evals/v2")
    e.add_argument("-n", type=int, default=0,
                   help="cases per suite (default: SUITE_SIZES)")
    e.add_argument("--check-chunks", type=int, default=1000,
                   help="training chunks (32 rows each) for the overlap "
                   "check")
    e.add_argument("--prose-bytes", type=int, default=16000)
    s = sub.add_parser("sample", help="print eval-style samples of a task")
    s.add_argument("--corpus", default=".devwork/corpus")
    s.add_argument("--task", choices=TASKS, default="math")
    s.add_argument("-n", type=int, default=3)
    r = sub.add_parser("rows", help="print training rows")
    r.add_argument("--corpus", default=".devwork/corpus")
    r.add_argument("--chunk", type=int, default=0)
    r.add_argument("--progress", type=float, default=1.0)
    r.add_argument("-n", type=int, default=2)
    k = sub.add_parser("calib", help="write a calibration set (JSONL) "
                       "from the training stream")
    k.add_argument("--corpus", default=".devwork/corpus")
    k.add_argument("--out", default="calib.jsonl")
    k.add_argument("-n", type=int, default=64, help="rows")
    k.add_argument("--seq", type=int, default=512, help="bytes per row")
    k.add_argument("--first-chunk", type=int, default=0,
                   help="training chunk to start from (32 rows each)")
    args = ap.parse_args()
    if args.cmd == "corpus":
        cmd_corpus(args)
        return
    load_corpus(args.corpus)
    if args.cmd == "evals":
        cmd_evals(args)
    elif args.cmd == "calib":
        cmd_calib(args)
    elif args.cmd == "sample":
        rng = random.Random("sample")
        if args.task == "code_gen":
            for p, a, _, _ in code_cases(rng, args.n):
                print(p + "\x1b[1m" + a + "\x1b[0m" + "-" * 40)
            return
        for i in range(args.n):
            p, a, _, e = eval_case(rng, args.task, i)
            print(p + "\x1b[1m" + a + "\x1b[0m" + "-" * 20 + str(e))
    else:
        data, mask = train_chunk(args.chunk, args.n, args.progress)
        for i in range(args.n):
            row = data[i * (SEQ + 1):(i + 1) * (SEQ + 1)]
            print(row.decode() + "\n" + "=" * 60)


if __name__ == "__main__":
    main()
