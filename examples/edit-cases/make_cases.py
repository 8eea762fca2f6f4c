#!/usr/bin/env python3
"""Writes examples/edit-cases/cases.jsonl: the cases of `atelier eval edit`, each with the
answers a model would give ("scripted"), which the fake server of the CI test replays
(tests/cli/eval_edit_cli_test.cpp).

    python3 examples/edit-cases/make_cases.py > examples/edit-cases/cases.jsonl
    python3 examples/edit-cases/make_cases.py --check      # is the committed file up to date?
    (--atelier PATH or $ATELIER_BIN: the binary to use; default build/bin/atelier)

Every answer starts from the exact XML the editor sends the model (`atelier design xml
DESIGN --profile P`, the profile the editor picks for the request: layout for the logo and
format changes, text for the translation, style for the brand colours; for a format change
the page already has its new size) and applies the edit the request asks for:
  logo      the logo group and its parts scaled about the corner the logo sits in, font
            sizes too (a text-only logo: its font and box grown, its bottom edge kept);
  German    the translation of every text of each example, written out below (proper
            names, brand names, e-mail addresses and phone numbers kept);
  brand     every fill, stroke and text colour replaced by a colour of the brand kit chosen
            by its role (background, ink, accent, call to action), tables below;
  format    a layout for the new page written per design (geometry and font sizes).
Some cases get a first answer that is wrong the way real models are wrong (prose and code
fences, a <think> section, an unknown attribute, a block below the page, two documents,
the stacking order changed, blocks forgotten at their old places), then the answer of the
repair round.

"usage" (not read by atelier) holds the token counts the fake server reports for each
answer (see usage_of).

Only the Python standard library; the output is the same on every run.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

# ---------------------------------------------------------------------------------------------
# The compact XML (src/genai/serializer.h): one element per line, attributes only.

# Attribute order of the serializer (xml_attributes() in serializer.cpp).
ATTRIBUTE_ORDER = ["id", "name", "kind", "x", "y", "w", "h", "rot", "visible", "alt", "text", "fit", "focus-x",
                   "focus-y", "opacity", "fill", "stroke", "stroke-w", "radius", "font", "size", "weight", "italic",
                   "color", "align", "lh", "ls", "auto-fit", "shape", "points", "inner"]

LINE = re.compile(r'^(\s*)<([a-z]+)((?:\s+[a-z-]+="[^"]*")*)\s*(/?)>$')
ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def xml_escape(s):
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return s.replace("\n", "&#10;").replace("\t", "&#9;").replace("\r", "&#13;")


def xml_unescape(s):
    s = s.replace("&#10;", "\n").replace("&#9;", "\t").replace("&#13;", "\r").replace("&quot;", '"')
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def num(v):
    """A number as the serializer writes it: integers plain, others with their decimals."""
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return ("%.2f" % v).rstrip("0").rstrip(".")


class Element:
    def __init__(self, indent, tag, attrs, closing):
        self.indent, self.tag, self.attrs, self.closing = indent, tag, attrs, closing  # attrs: [name, raw value]

    def get(self, name, default=None):
        for k, v in self.attrs:
            if k == name:
                return xml_unescape(v)
        return default

    def number(self, name, default=0.0):
        v = self.get(name)
        return float(v) if v is not None else default

    def set(self, name, value):
        """Sets an attribute (a number or a string), in the serializer's order when new."""
        raw = xml_escape(num(value) if isinstance(value, (int, float)) else value)
        for a in self.attrs:
            if a[0] == name:
                a[1] = raw
                return
        order = ATTRIBUTE_ORDER.index(name) if name in ATTRIBUTE_ORDER else len(ATTRIBUTE_ORDER)
        at = len(self.attrs)
        for i, (k, _) in enumerate(self.attrs):
            if k in ATTRIBUTE_ORDER and ATTRIBUTE_ORDER.index(k) > order:
                at = i
                break
        self.attrs.insert(at, [name, raw])

    def text(self):
        attrs = "".join(' %s="%s"' % (k, v) for k, v in self.attrs)
        return "%s<%s%s%s>" % (self.indent, self.tag, attrs, "/" if self.closing else "")


class Doc:
    """The lines of one serialized design; elements editable by id."""

    def __init__(self, xml):
        self.lines = []
        for line in xml.rstrip("\n").split("\n"):
            m = LINE.match(line)
            if m:
                attrs = [[k, v] for k, v in ATTR.findall(m.group(3))]
                self.lines.append(Element(m.group(1), m.group(2), attrs, m.group(4) == "/"))
            else:
                self.lines.append(line)

    def copy(self):
        return Doc(self.text())

    def elements(self):
        return [e for e in self.lines if isinstance(e, Element)]

    def __getitem__(self, block_id):
        for e in self.elements():
            if e.get("id") == str(block_id):
                return e
        raise KeyError(block_id)

    def root(self):
        return self.elements()[0]

    def set_page_size(self, w, h):
        """The first page's size (and the <design> element's, which repeats it)."""
        for e in (self.root(), next(e for e in self.elements() if e.tag == "page")):
            e.set("w", w)
            e.set("h", h)

    def place(self, block_id, **geometry):
        """x, y, w, h, size, focus_x, ... (underscores for dashes)."""
        e = self[block_id]
        for k, v in geometry.items():
            e.set(k.replace("_", "-"), v)

    def text(self):
        return "\n".join(e.text() if isinstance(e, Element) else e for e in self.lines) + "\n"


def atelier_xml(atelier, design, profile):
    out = subprocess.run([atelier, "design", "xml", design, "--profile", profile, "-q"], check=True,
                         capture_output=True, text=True, encoding="utf-8").stdout
    doc = Doc(out)
    unparsed = [l for l in doc.lines if not isinstance(l, Element) and not re.match(r"^\s*</[a-z]+>$", l)]
    if unparsed or doc.text() != out:
        raise SystemExit("%s: cannot read the XML of `atelier design xml` (%s)" % (design, unparsed or "round trip"))
    return out


# ---------------------------------------------------------------------------------------------
# Token counts the fake server reports (plausible, not exact): the prompt is the editor's
# rules and example (src/genai/prompts/*.txt, about 2,170 characters when these cases were
# written; a constant here, so that editing a prompt does not change the cases), the brand
# kit line, the design XML and the task; the answer is what the model wrote. About four
# characters per token, like the editor's estimate_tokens.

PROMPT_CHARS = 2170        # edit-v1.system.txt + edit-v1.user.txt without the placeholders
REPAIR_CHARS = 145         # repair-v1.user.txt without the problems
FORMAT_TASK_CHARS = 400    # format-v1.txt around the request


def estimate_tokens(chars):
    return (chars + 3) // 4


def brand_line(brand):
    colors = brand["colors"] if isinstance(brand["colors"], list) else list(brand["colors"].values())
    fonts = brand.get("fonts", [])
    fonts = fonts if isinstance(fonts, list) else list(fonts.values())
    line = 'Brand kit "%s": use only these colours for fills, strokes and text: %s.\nFonts: %s.' % (
        brand.get("name", "brand"), ", ".join(colors), ", ".join(fonts))
    return line + ("\nLogo: %s." % brand["logo"] if brand.get("logo") else "")


def usage_of(sent_xml, task_chars, brand, answers, repair_errors):
    """Token counts per round; a repair round's prompt also carries the answer and the problems."""
    prompt = PROMPT_CHARS + len(sent_xml) + task_chars + (len(brand_line(brand)) if brand else 0)
    usage = []
    for i, answer in enumerate(answers):
        usage.append({"prompt_tokens": estimate_tokens(prompt), "completion_tokens": estimate_tokens(len(answer))})
        if i + 1 < len(answers):
            prompt += len(answer) + REPAIR_CHARS + sum(len(e) + 3 for e in repair_errors[i])
    return usage


# ---------------------------------------------------------------------------------------------
# The edits.

def scale_about(doc, ids, s, ax, ay, sizes=True):
    """Scales blocks about the anchor (ax, ay): positions, sizes and font sizes."""
    for i in ids:
        e = doc[i]
        x, y, w, h = (e.number(k) for k in ("x", "y", "w", "h"))
        e.set("x", round(ax + (x - ax) * s))
        e.set("y", round(ay + (y - ay) * s))
        e.set("w", round(w * s))
        e.set("h", round(h * s))
        if sizes and e.get("size") is not None:
            e.set("size", round(e.number("size") * s))


def logo_story(d):
    # Logo top-left: mark, star and name grow by 1.3 about the group's top-left corner.
    scale_about(d, [4, 5, 6, 7], 1.3, 60, 80)


def logo_thumbnail(d):
    # Logo in the bottom-right corner: grows by 1.4 towards the page, its corner stays put.
    scale_about(d, [8, 9, 10], 1.4, 1250, 690)


def logo_poster(d):
    # The organiser's name is the logo: 10 -> 14 pt, its box taller, the bottom edge kept.
    d.place(11, y=805, h=25, size=14)


def logo_card(d):
    # Leaf 140 -> 190, name 28 -> 36, centred in the colour band as before.
    d.place(3, x=40, y=140, w=280, h=290)
    d.place(4, x=85, y=140, w=190, h=190)
    d.place(5, x=40, y=346, w=280, h=84, size=36)


def logo_banner(d):
    # The word mark: 28 -> 36, its box taller, moved up into the margin above the headline.
    d.place(3, y=26, h=52, size=36)


def logo_linkedin(d):
    scale_about(d, [3, 4, 5, 6], 1.3, 600, 50)


GERMAN = {
    "instagram-story": {
        8: "Greif nach den Sternen",
        9: "Triff die Crew der nächsten Mission: Live-Talk mit Fragerunde, diesen Freitag um 19 Uhr.",
        11: "Jetzt Platz sichern",
    },
    "youtube-thumbnail": {
        5: "Ich habe meiner Katze das Coden beigebracht",
        7: "NEUE SERIE",
    },
    "a4-event-poster": {
        5: "NACHT DER RAKETEN",
        6: "Ein Abend mit Raketen, Teleskopen und Geschichten aus der Missionskontrolle",
        8: "Samstag, 14. März, 19 Uhr\nCity Planetarium, Saal B",
        10: "Eintritt frei: jetzt buchen",
    },
    "business-card": {
        7: "Leiterin Produktdesign",
    },
    "product-sale-banner": {
        4: "Kaffee-Sale im Herbst",
        5: "Alle Single-Origin-Bohnen, nur diese Woche.",
        7: "Jetzt kaufen",
    },
    "linkedin-post": {
        7: "Wir suchen: Senior Vision Engineer",
        8: "Hilf uns, schnelle und private Fotobearbeitung zu entwickeln, die auf jedem Laptop läuft.",
        10: "Bewirb dich auf unserer Karriereseite",
    },
}


def translate(name):
    def edit(d):
        for block_id, text in GERMAN[name].items():
            d[block_id].set("text", text)
    return edit


# Old colour -> brand colour, by role (background, ink, accent, call to action).
BRAND_COLOURS = {
    "instagram-story": ("verdant", {
        "#F4F1DE": "#FFFFFF",  # page: cream -> white
        "#F2CC8F": "#E9C46A",  # sun, logo star: sand
        "#1B3A4B": "#264653",  # logo, headline: ink
        "#3D5A6C": "#264653",  # body text: ink
        "#E07A5F": "#2A9D8F",  # call to action (white label stays readable)
        "#FFFFFF": "#FFFFFF",
        "#81B29A": "#F4A261",  # accent star
    }),
    "youtube-thumbnail": ("verdant", {
        "#101820": "#264653",  # background and shades
        "#FFFFFF": "#FFFFFF",
        "#FFD23F": "#E9C46A",  # badge
        "#FF4F5A": "#F4A261",  # logo mark
    }),
    "a4-event-poster": ("nordlicht", {
        "#0B1D3A": "#1D3557",  # night sky -> ink
        "#FFFFFF": "#F1FAEE",  # stars, headline, details, CTA label -> snow
        "#C9D6EA": "#A8DADC",  # subline -> ice
        "#FF6B35": "#E63946",  # divider, CTA -> signal
        "#8DA2C0": "#A8DADC",  # organiser -> ice (sky is too dark on ink for 10 pt)
    }),
    "business-card": ("nordlicht", {
        "#FFFFFF": "#F1FAEE",  # page, logo -> snow
        "#2A9D8F": "#1D3557",  # colour band -> ink
        "#264653": "#1D3557",  # name, contact -> ink
        "#E9C46A": "#E63946",  # rule -> signal
    }),
    "product-sale-banner": ("verdant", {
        "#FFF4E6": "#FFFFFF",  # page
        "#6F1D1B": "#264653",  # brand, headline, CTA
        "#432818": "#264653",  # body
        "#FFFFFF": "#FFFFFF",
        "#BB3E03": "#F4A261",  # discount burst (its label becomes ink, below)
    }),
    "linkedin-post": ("nordlicht", {
        "#F6F9FC": "#F1FAEE",  # page
        "#635BFF": "#457B9D",  # logo dot
        "#00D4FF": "#A8DADC",  # logo square
        "#0A2540": "#1D3557",  # logo name, headline
        "#425466": "#457B9D",  # body
        "#FFFFFF": "#F1FAEE",  # CTA label
    }),
}
# Per-block exceptions to the table: (old colour, role) pairs that need another brand colour.
BRAND_BLOCKS = {
    "business-card": {7: {"color": "#457B9D"}},            # title: sky, under the ink name
    "product-sale-banner": {9: {"color": "#264653"}},      # "-30%": ink on the orange burst
    "linkedin-post": {9: {"fill": "#E63946"}},             # CTA: signal red
}


def rebrand(name):
    def edit(d):
        _, table = BRAND_COLOURS[name]
        for e in d.elements():
            for attr in ("fill", "stroke", "color"):
                old = e.get(attr)
                if old is None or old == "none":
                    continue
                if old.upper() not in table:
                    raise SystemExit("%s: no brand colour for %s (%s)" % (name, old, e.get("name")))
                e.set(attr, table[old.upper()])
        for block_id, attrs in BRAND_BLOCKS.get(name, {}).items():
            for attr, v in attrs.items():
                d[block_id].set(attr, v)
    return edit


def brand_colours(kit):
    with open(os.path.join(ROOT, "examples", "brands", kit + ".json"), encoding="utf-8") as f:
        brand = json.load(f)
    cs = brand["colors"] if isinstance(brand["colors"], list) else list(brand["colors"].values())
    return brand, {c.upper() for c in cs}


# Layouts for the new formats: geometry and font sizes per block id.
def format_story(d):  # 1080x1920 story -> 1280x720 thumbnail: photo right, text column left
    d.place(2, x=1000, y=-180, w=400, h=400)                 # the sun still bleeds off the corner
    d.place(3, x=680, y=60, w=540, h=600)
    d.place(4, x=60, y=48, w=453, h=90)
    d.place(5, x=60, y=48, w=90, h=90)
    d.place(6, x=79, y=67, w=53, h=53)
    d.place(7, x=168, y=72, w=345, h=45, size=27)
    d.place(8, x=60, y=176, w=580, h=200, size=88)
    d.place(9, x=60, y=392, w=580, h=130, size=30)
    d.place(10, x=60, y=570, w=360, h=84)
    d.place(11, x=60, y=590, w=360, h=44, size=34)
    d.place(12, x=470, y=572, w=90, h=90)


def format_thumbnail(d):  # 1280x720 -> 1080x1920 story: photo on top, text panel below
    d.place(2, x=0, y=0, w=1080, h=1080)
    d.place(3, x=0, y=1040, w=1080, h=880)
    d.place(4, x=0, y=960, w=1080, h=80)
    d.place(5, x=72, y=1110, w=936, h=300, size=120)
    d.place(6, x=72, y=1470, w=460, h=116)
    d.place(7, x=72, y=1496, w=460, h=68, size=56)
    d.place(8, x=838, y=1762, w=182, h=98)
    d.place(9, x=838, y=1762, w=98, h=98)
    d.place(10, x=852, y=1790, w=70, h=42, size=34)


def format_poster(d):  # A4 595x842 -> Instagram portrait 1080x1350
    d.place(2, x=0, y=0, w=1080, h=700)
    d.place(3, x=860, y=60, w=56, h=56)
    d.place(4, x=950, y=170, w=32, h=32)
    d.place(5, x=60, y=730, w=960, h=120, size=96)
    d.place(6, x=120, y=862, w=840, h=100, size=32)
    d.place(7, x=490, y=985, w=100, h=0)
    d.place(8, x=90, y=1010, w=900, h=110, size=36)
    d.place(9, x=330, y=1160, w=420, h=76)
    d.place(10, x=330, y=1179, w=420, h=40, size=26)
    d.place(11, x=60, y=1290, w=960, h=30, size=18)


def format_card(d):  # 1050x600 landscape card -> 600x1050 portrait card: band on top
    d.place(2, x=0, y=0, w=600, h=460)
    d.place(3, x=160, y=115, w=280, h=230)
    d.place(4, x=230, y=115, w=140, h=140)
    d.place(5, x=160, y=275, w=280, h=70)
    d.place(6, x=50, y=520, w=500, h=70, size=50)
    d.place(7, x=50, y=595, w=500, h=44)
    d.place(8, x=50, y=670, w=220, h=0)
    d.place(9, x=50, y=700, w=500, h=170)


def format_banner(d):  # 1500x500 web banner -> 1080x1080 Instagram square: photo below
    d.place(2, x=0, y=560, w=1080, h=520)
    d.place(3, x=80, y=64, w=500, h=40)
    d.place(4, x=80, y=124, w=920, h=110, size=80)
    d.place(5, x=80, y=250, w=640, h=100, size=36)
    d.place(6, x=80, y=390, w=320, h=90)
    d.place(7, x=80, y=413, w=320, h=44, size=36)
    d.place(8, x=790, y=300, w=210, h=210)
    d.place(9, x=790, y=370, w=210, h=70)


def format_linkedin(d):  # 1200x627 -> 1080x1920 story: photo on top, text below
    d.place(2, x=0, y=0, w=1080, h=1000)
    d.place(3, x=80, y=1060, w=420, h=84)
    d.place(4, x=80, y=1060, w=84, h=84)
    d.place(5, x=122, y=1060, w=42, h=42)
    d.place(6, x=186, y=1074, w=314, h=56, size=42)
    d.place(7, x=80, y=1190, w=920, h=290, size=84)
    d.place(8, x=80, y=1500, w=920, h=150, size=42)
    d.place(9, x=80, y=1700, w=620, h=110)
    d.place(10, x=80, y=1732, w=620, h=50, size=36)


# ---------------------------------------------------------------------------------------------
# Realistic first answers that are wrong.

def with_prose(answer, before, after):
    return before + "\n\n```xml\n" + answer + "```\n\n" + after + "\n"


def think_first(answer):
    return ("<think>\nThe user wants the texts in German. I must answer with the whole <design> element, keep "
            "every id and change only the text attributes. The logo is a symbol, so it stays.\n</think>\n\n" + answer)


def british_colour(good):
    """The same recolouring with `colour` instead of `color` (the request says "colours")."""
    return good.replace(' color="', ' colour="')


# ---------------------------------------------------------------------------------------------

DESIGNS = ["instagram-story", "youtube-thumbnail", "a4-event-poster", "business-card", "product-sale-banner",
           "linkedin-post"]
SHORT = {"instagram-story": "story", "youtube-thumbnail": "thumbnail", "a4-event-poster": "poster",
         "business-card": "card", "product-sale-banner": "banner", "linkedin-post": "linkedin"}
LOGO = {"instagram-story": logo_story, "youtube-thumbnail": logo_thumbnail, "a4-event-poster": logo_poster,
        "business-card": logo_card, "product-sale-banner": logo_banner, "linkedin-post": logo_linkedin}
FORMAT = {  # new size (the "to" field), request, layout
    "instagram-story": ("1280x720", "Turn this story into a YouTube thumbnail.", format_story),
    "youtube-thumbnail": ("instagram-story", "Make a vertical version for Instagram stories.", format_thumbnail),
    "a4-event-poster": ("instagram-portrait", "Adapt the poster for an Instagram post in portrait format.",
                        format_poster),
    "business-card": ("600x1050", "Make a portrait version of this business card.", format_card),
    "product-sale-banner": ("instagram-square", "Make a square Instagram post out of this banner.", format_banner),
    "linkedin-post": ("instagram-story", "Turn this LinkedIn post into an Instagram story.", format_linkedin),
}
PRESETS = {"instagram-story": (1080, 1920), "instagram-portrait": (1080, 1350), "instagram-square": (1080, 1080)}
# Texts that are not language (names, contact details, numbers) are left out of the German
# check by kind: logos everywhere, the discount "-30%" (badge), the card holder's name (headline).
NOT_LANGUAGE = {"product-sale-banner": ["logo", "badge"], "business-card": ["logo", "headline"]}
# ... and by id where the kind holds language too: the card's contact lines (e-mail, phone, web).
NOT_LANGUAGE_IDS = {"business-card": [9]}
# Blocks that bleed off the page by design (the story's sun): left out of inside_page.
BLEEDS = {"instagram-story": ["decoration"]}


def language_check(name):
    check = {"check": "language", "lang": "de", "except_kinds": NOT_LANGUAGE.get(name, ["logo"])}
    if name in NOT_LANGUAGE_IDS:
        check["except_ids"] = NOT_LANGUAGE_IDS[name]
    return check


def inside_page(name):
    check = {"check": "inside_page"}
    if name in BLEEDS:
        check["except_kinds"] = BLEEDS[name]
    return check


def cases(atelier):
    out = []
    for name in DESIGNS:
        short = SHORT[name]
        design = "../designs/%s.json" % name
        design_path = os.path.join(ROOT, "examples", "designs", name + ".json")
        xml = {p: atelier_xml(atelier, design_path, p) for p in ("layout", "text", "style")}

        # (a) Make the logo bigger.
        request = "Make the logo bigger."
        sent = Doc(xml["layout"])
        good = sent.copy()
        LOGO[name](good)
        # No layout here needs to move a neighbour for the bigger logo; such blocks would be
        # named in the untouched check's except_ids.
        case = {"id": short + "-logo-bigger", "design": design, "request": request,
                "checks": [{"check": "area_grew", "kind": "logo", "min_ratio": 1.2}, inside_page(name),
                           {"check": "untouched", "except_kinds": ["logo"]}],
                "scripted": [good.text()]}
        errors = []
        if name == "a4-event-poster":
            # The bottom edge (830) mixed up with y: the name lands below the page.
            bad = good.copy()
            bad.place(11, y=842)
            case["scripted"] = [bad.text(), good.text()]
            errors = [['<text id="11">: y=842 puts it outside the page (0..842)']]
        if name == "linkedin-post":
            # A scale attribute on the group (there is none), then the real geometry.
            bad_text = good.text().replace('<group id="3" name="Logo" kind="logo"',
                                          '<group id="3" name="Logo" kind="logo" scale="1.3"', 1)
            case["scripted"] = [bad_text, good.text()]
            errors = [['<group id="3">: unknown attribute \'scale\'']]
        if name == "product-sale-banner":
            # Letter spacing is not in the layout profile; then before and after, two documents.
            bad = good.copy()
            bad[3].set("ls", 10)
            second = ("Sorry about that. Before:\n\n```xml\n" + sent.text() + "```\n\nAfter:\n\n```xml\n" +
                      good.text() + "```\n")
            case["scripted"] = [bad.text(), second]
            errors = [['<text id="3">: attribute \'ls\' is not in the layout profile']]
        case["usage"] = usage_of(sent.text(), len(request), None, case["scripted"], errors)
        out.append(case)

        # (b) Translate this design into German.
        request = "Translate this design into German."
        sent = Doc(xml["text"])
        good = sent.copy()
        translate(name)(good)
        if name == "product-sale-banner":  # an imperfect answer: the call to action stays English
            good[7].set("text", sent[7].get("text"))
        answer = good.text()
        if name == "a4-event-poster":
            answer = with_prose(answer, "Here is the poster in German. I kept the club's name and the venue "
                                        "as they are, since they are proper names:",
                                "The German texts are a little longer than the English ones.")
        if name == "youtube-thumbnail":
            answer = think_first(answer)
        case = {"id": short + "-translate-de", "design": design, "request": request,
                "checks": [language_check(name),
                           {"check": "no_text_overflow"},
                           {"check": "untouched", "except_properties": ["text", "font_size"]}],
                "scripted": [answer]}
        case["usage"] = usage_of(sent.text(), len(request), None, case["scripted"], [])
        out.append(case)

        # (c) Adopt this template to our brand colours.
        request = "Adopt this template to our brand colours."
        kit = BRAND_COLOURS[name][0]
        brand, palette = brand_colours(kit)
        sent = Doc(xml["style"])
        good = sent.copy()
        rebrand(name)(good)
        for e in good.elements():
            for attr in ("fill", "stroke", "color"):
                v = e.get(attr)
                if v is not None and v != "none" and v.upper() not in palette:
                    raise SystemExit("%s: %s %s is not a %s colour" % (name, attr, v, kit))
        case = {"id": short + "-brand-" + kit, "design": design, "request": request,
                "brand": "../brands/%s.json" % kit,
                "checks": [{"check": "palette", "brand": True},
                           {"check": "untouched", "except_properties": ["fill", "stroke_color", "text_color"]}],
                "scripted": [good.text()]}
        errors = []
        if name == "business-card":
            case["scripted"] = [british_colour(good.text()), good.text()]
            errors = [['<text id="%d">: unknown attribute \'colour\'' % i for i in (5, 6, 7, 9)]]
        case["usage"] = usage_of(sent.text(), len(request), brand, case["scripted"], errors)
        out.append(case)

        # (d) A format change.
        to, request, layout = FORMAT[name]
        w, h = PRESETS[to] if to in PRESETS else (int(v) for v in to.split("x"))
        sent = Doc(xml["layout"])
        sent.set_page_size(w, h)
        good = sent.copy()
        layout(good)
        case = {"id": short + "-format", "design": design, "request": request, "to": to,
                "checks": [{"check": "page_size", "w": w, "h": h}, inside_page(name), {"check": "no_text_overflow"}],
                "scripted": [good.text()]}
        errors = []
        if name == "linkedin-post":
            # An attribute that does not exist, then the photo moved to the end of the page to
            # put it "at the bottom": both invalid, so the deterministic relayout takes over.
            first = good.text().replace(' alt="A motorcycle in a photo studio"',
                                        ' alt="A motorcycle in a photo studio" crop="center"', 1)
            lines = good.text().split("\n")
            photo = next(i for i, l in enumerate(lines) if '<image id="2"' in l)
            end = next(i for i, l in enumerate(lines) if l.strip() == "</page>")
            moved_lines = lines[:photo] + lines[photo + 1:end] + [lines[photo]] + lines[end:]
            case["scripted"] = [first, "\n".join(moved_lines)]
            errors = [['<image id="2">: unknown attribute \'crop\'']]
        task_chars = FORMAT_TASK_CHARS + len(request)
        case["usage"] = usage_of(sent.text(), task_chars, None, case["scripted"], errors)
        out.append(case)
        if name == "instagram-story":
            story_repair = dict(case, id="story-format-repair")
            # The first answer forgets the blocks below the old fold: the call to action and
            # the accent star stay where they were on the 1920 px page, below the new one.
            bad = good.copy()
            bad.place(10, x=60, y=1790, w=440, h=96)
            bad.place(11, x=60, y=1814, w=440, h=50, size=40)
            bad.place(12, x=900, y=1760, w=120, h=120)
            story_repair["scripted"] = [bad.text(), good.text()]
            errors = [['<shape id="10">: y=1790 puts it outside the page (0..720)',
                       '<text id="11">: y=1814 puts it outside the page (0..720)',
                       '<shape id="12">: y=1760 puts it outside the page (0..720)']]
            story_repair["usage"] = usage_of(sent.text(), task_chars, None, story_repair["scripted"], errors)
    # Last: a case that depends on the validator catching blocks left outside the new page.
    out.append(story_repair)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atelier", default=os.environ.get("ATELIER_BIN", os.path.join(ROOT, "build", "bin", "atelier")),
                    help="the atelier binary (default: $ATELIER_BIN, else build/bin/atelier)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed cases.jsonl instead of printing; exit 1 when it differs")
    args = ap.parse_args()
    text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases(args.atelier))
    if args.check:
        with open(os.path.join(HERE, "cases.jsonl"), encoding="utf-8") as f:
            if f.read() != text:
                print("examples/edit-cases/cases.jsonl is not what make_cases.py writes; run\n"
                      "  python3 examples/edit-cases/make_cases.py > examples/edit-cases/cases.jsonl", file=sys.stderr)
                return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
