#include "ops/option_spec.h"

#include <gtest/gtest.h>

namespace atelier::ops {
namespace {

OperationSpec example() {
  return {"cutout",
          "Remove the background",
          {flag("mask", "Write the matte alone"), integer("margin", "Pixels around the subject", 0, 100000, 0),
           number("feather", "Edge softness", 0, 1, 0.5),
           choice("format", "Output format", {"png", "webp", "jpg"}, "png"), text("background", "Colour or blur"),
           repeated(text("aspect", "Crop ratio"))}};
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string error_of(const Pairs& pairs) {
  auto r = check_options(example(), pairs);
  return r.ok() ? "(ok)" : r.status().message();
}

TEST(OptionSpec, ValuesAreCheckedAndDefaultsFilledIn) {
  ASSERT_TRUE(check_declaration(example()).ok());
  auto r = check_options(example(), {{"margin", "12"}, {"mask", ""}, {"aspect", "1:1"}, {"aspect", "9:16"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->integer("margin"), 12);
  EXPECT_TRUE(r->flag("mask"));
  EXPECT_EQ(r->all("aspect"), (std::vector<std::string>{"1:1", "9:16"}));
  EXPECT_EQ(r->text("format"), "png");  // defaults
  EXPECT_DOUBLE_EQ(r->number("feather"), 0.5);
  EXPECT_FALSE(r->has("background"));  // no default, not given
  EXPECT_EQ(r->text("background"), "");
  auto off = check_options(example(), {{"mask", "false"}});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->flag("mask"));
  EXPECT_TRUE(check_options(example(), {{"mask", "1"}})->flag("mask"));
}

TEST(OptionSpec, EveryBadValueIsOneLineNamingTheOption) {
  EXPECT_EQ(error_of({{"size", "3"}}),
            "unknown option 'size' (cutout takes: aspect, background, feather, format, margin, mask)");
  EXPECT_EQ(error_of({{"margin", "200000"}}), "margin: must be at most 100000, got 200000");
  EXPECT_EQ(error_of({{"margin", "-1"}}), "margin: must be at least 0, got -1");
  EXPECT_EQ(error_of({{"margin", "ten"}}), "margin: expected an integer from 0 to 100000, got 'ten'");
  EXPECT_EQ(error_of({{"feather", "2"}}), "feather: must be at most 1, got 2");
  EXPECT_EQ(error_of({{"format", "gif"}}), "format: expected one of png, webp, jpg, got 'gif'");
  EXPECT_EQ(error_of({{"mask", "yes please"}}), "mask: expected true or false, got 'yes please'");
  EXPECT_EQ(error_of({{"margin", "1"}, {"margin", "2"}}), "margin: given more than once");
  EXPECT_EQ(check_options(example(), {{"format", "gif"}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(OptionSpec, UnsoundDeclarationsAreCaught) {
  OperationSpec bad_default = example();
  bad_default.options[1].default_value = "-1";
  EXPECT_EQ(check_declaration(bad_default).message(), "cutout option 'margin' default: must be at least 0, got -1");
  OperationSpec twice = example();
  twice.options.push_back(twice.options[0]);
  EXPECT_EQ(check_declaration(twice).message(), "cutout option 'mask': declared twice");
  OperationSpec no_choices = example();
  no_choices.options[3].choices.clear();
  no_choices.options[3].default_value.clear();
  EXPECT_EQ(check_declaration(no_choices).message(), "cutout option 'format': no choices");
  OperationSpec range = example();
  range.options[2].min = 2;
  range.options[2].default_value.clear();
  EXPECT_EQ(check_declaration(range).message(), "cutout option 'feather': min is above max");
  OperationSpec no_help = example();
  no_help.options[4].help.clear();
  EXPECT_EQ(check_declaration(no_help).message(), "cutout: an option needs a name and help");
}

TEST(OptionSpec, OpenApiParametersCarryTypesRangesChoicesAndDefaults) {
  const nlohmann::json p = openapi_parameters(example());
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0], nlohmann::json::parse(R"({"name":"mask","in":"query","description":"Write the matte alone",
    "required":false,"schema":{"type":"boolean"}})"));
  EXPECT_EQ(p[1]["schema"], nlohmann::json::parse(R"({"type":"integer","minimum":0,"maximum":100000,"default":0})"));
  EXPECT_EQ(p[2]["schema"], nlohmann::json::parse(R"({"type":"number","minimum":0.0,"maximum":1.0,"default":0.5})"));
  EXPECT_EQ(p[3]["schema"], nlohmann::json::parse(R"({"type":"string","enum":["png","webp","jpg"],"default":"png"})"));
  EXPECT_EQ(p[5]["schema"], nlohmann::json::parse(R"({"type":"array","items":{"type":"string"}})"));
}

}  // namespace
}  // namespace atelier::ops
