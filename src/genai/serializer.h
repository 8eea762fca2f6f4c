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
#include "design/scene.h"

namespace atelier::genai {

enum class Profile { kLayout, kText, kStyle, kFull };
std::string_view to_string(Profile p);  // "layout", "text", "style", "full"
std::optional<Profile> parse_profile(std::string_view s);
// The profile a request most likely needs (translate/wording -> text; colour/font/brand ->
// style; move/resize/bigger/format -> layout; otherwise full).
Profile guess_profile(std::string_view request);

// One XML attribute and the design property it stands for.
struct XmlAttribute {
  std::string_view name;      // "w"
  std::string_view property;  // "width"
  std::vector<Profile> profiles;  // profiles that include it (kFull includes all)
};
const std::vector<XmlAttribute>& xml_attributes();
// The attributes a block type carries in a profile (id, and name/kind, always included).
std::vector<const XmlAttribute*> attributes_for(design::BlockType type, Profile profile);

std::string serialize(const design::Scene& scene, Profile profile);

// Rough token count of a prompt (≈ 4 characters per token for English and XML; for exact
// counts a provider's tokenizer is needed).
int estimate_tokens(std::string_view text);

}  // namespace atelier::genai
