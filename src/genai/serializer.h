// Design → compact XML for language models, and back. One element per block (<page>,
// <text>, <image>, <shape>, <group>), attributes only, numeric ids, geometry rounded to
// integers, defaults omitted. A profile picks the attributes a request needs, so the prompt
// stays small: layout (geometry), text (content only: translation), style (colours, fonts),
// full. Images are identified by their alt text; their file paths are never sent.
//
//   <design w="1080" h="1920">
//     <page id="1" w="1080" h="1920" fill="#F4F1DE">
//       <text id="8" name="Headline" kind="headline" x="60" y="1370" w="960" h="260"
//             text="Reach for the stars" size="112" weight="700" color="#1B3A4B"/>
//     </page>
//   </design>
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "design/properties.h"
#include "design/scene.h"

namespace atelier::genai {

enum class Profile { kLayout, kText, kStyle, kFull };
std::string_view to_string(Profile p);  // "layout", "text", "style", "full"
std::optional<Profile> parse_profile(std::string_view s);
// The profile a request most likely needs (translate/wording -> text; colour/font/brand ->
// style; move/resize/bigger/format -> layout; otherwise full). The request is split into
// words (letters and digits; ASCII and Ä/Ö/Ü lower-cased, so matching ignores case) and each
// word is looked up in three keyword lists ("x*" matches every word starting with x):
//   text:   translat*, übersetz*, reword*, rephras*, rewrit*, umformulier*, formulier*,
//           wording, proofread*, typo*, tippfehler*, spelling, copy, copywrit*, say, says,
//           language*, sprache*, english, german, french, spanish, italian, englisch,
//           deutsch, französisch, spanisch, italienisch
//   style:  colour*, color*, farb*, font*, schrift*, typeface*, typograph*, brand*, marke*,
//           bold*, fett*, italic*, kursiv*, palette*, theme*, style*, stil*, dark*, dunkl*,
//           contrast*, kontrast*, outline*, stroke*, border*, rahmen*, rounded, corner*,
//           opacity, transparen*, weight, red, blue, green, yellow, orange, purple, pink,
//           black, white, grey, gray, gold, rot, blau, grün, gelb, schwarz, weiß, weiss
//   layout: move*, resiz*, bigger, smaller, larger, enlarg*, shrink*, scale*, format*,
//           reformat*, position*, layout*, arrang*, align*, center, centre, rotat*, shift*,
//           wider, narrower, taller, shorter, width, height, size*, crop*, aspect*,
//           landscape, portrait, square, spacing, margin*, padding*, overlap*, verschieb*,
//           größe*, grösse*, kleiner*, breiter*, schmaler*, höher*, beweg*, anordn*,
//           skalier*, vergrößer*, verkleiner*, ausricht*, zentrier*, platzier*, dreh*
// Exactly one list with a hit picks its profile; no hit or hits in several lists: full.
Profile guess_profile(std::string_view request);

// One XML attribute and the design property it stands for.
struct XmlAttribute {
  std::string_view name;      // "w"
  std::string_view property;  // "width" ("" for id, which is structure, not a property)
  std::vector<Profile> profiles;  // profiles that include it (kFull includes all)
  // Numbers: decimals kept when serialized (geometry 0, opacity/line height 2, ...);
  // -1 for the other types.
  int decimals = -1;
  // Left out of an answer: true keeps the value (name, kind, alt, text, x, y, w, h); false
  // means the property's default (the serializer leaves defaults out, so dropping
  // rot="12" means rotation 0).
  bool kept_when_absent = false;
};
// In serializer order: id, name, kind, x, y, w, h, rot, visible, alt, text, fit, focus-x,
// focus-y, opacity, fill, stroke, stroke-w, radius, font, size, weight, italic, color,
// align, lh, ls, auto-fit, shape, points, inner.
const std::vector<XmlAttribute>& xml_attributes();
// nullptr for a name not in the table.
const XmlAttribute* find_xml_attribute(std::string_view name);
// The attributes a block type carries in a profile, in table order (id, name and kind are
// always included; a page's w and h too, in every profile; alt for images in every profile).
std::vector<const XmlAttribute*> attributes_for(design::BlockType type, Profile profile);

// A property value as the serializer rounds it (numbers to `a.decimals`; -0 made 0): what
// an answer is compared with, so x=60.4 sent as "60" and answered "60" is no change.
design::PropertyValue rounded_value(const XmlAttribute& a, const design::PropertyValue& value);
// The attribute's text for a value (rounded; italic as true/false; colours #RRGGBB[AA] or
// none), before XML escaping.
std::string format_xml_value(const XmlAttribute& a, const design::PropertyValue& value);
// Parses an attribute's text into its property's stored value (design::parse_property,
// then check_property_value: type, range, choices; italic: true/false -> font_style; a fill
// with alpha 0 is none). Errors name the XML attribute: "w must not be negative, got -5",
// "x: expected a number, got 'abc'", "italic: expected true or false, got 'yes'".
Result<design::PropertyValue> parse_xml_value(const XmlAttribute& a, std::string_view text);

// Pretty-printed (2 spaces per level), one element per line, a final newline. x, y, w, h
// are always written (in the profiles that have them); other properties only when their
// rounded value differs from the default; empty name/kind/alt/text are left out. Text is
// XML-escaped (&amp; &lt; &gt; &quot;; newline, tab and CR as &#10; &#9; &#13;). Pages and
// groups without children are self-closing. A scene without pages: "<design>\n</design>\n".
std::string serialize(const design::Scene& scene, Profile profile);

// Rough token count of a prompt: ceil(characters / 4), characters counted as UTF-8 code
// points (≈ 4 characters per token for English and XML; for exact counts a provider's
// tokenizer is needed).
int estimate_tokens(std::string_view text);

}  // namespace atelier::genai
