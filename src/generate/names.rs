//! English names for generated places: the pinyin of the real name part (a community's stem
//! from the NBS list, a street's name) followed by the English of the generic part (小区,
//! 口袋公园, 南段…), as on Shenyang's bilingual street signs (`梅江街南段` → `Meijiang Street
//! South Section`).
//!
//! A name the generator did not build from known parts gets no English name rather than a
//! wrong one.

use std::collections::BTreeMap;

/// Generic endings of generated names, longest first so `花园小区` wins over `小区`.
const ENDINGS: [(&str, &str); 24] = [
    ("东口袋公园", "East Pocket Park"),
    ("西口袋公园", "West Pocket Park"),
    ("南口袋公园", "South Pocket Park"),
    ("北口袋公园", "North Pocket Park"),
    ("花园小区", "Garden Residential Compound"),
    ("口袋公园", "Pocket Park"),
    ("里小区", "Li Residential Compound"),
    ("物流通道", "Logistics Road"),
    ("北广场", "North Plaza"),
    ("小区", "Residential Compound"),
    ("新村", "New Village"),
    ("家园", "Homes"),
    ("后巷", "Back Lane"),
    ("胡同", "Hutong"),
    ("里巷", "Lane"),
    ("一巷", "Lane 1"),
    ("二巷", "Lane 2"),
    ("三巷", "Lane 3"),
    ("南段", "South Section"),
    ("北段", "North Section"),
    ("东段", "East Section"),
    ("西段", "West Section"),
    ("中段", "Middle Section"),
    ("", ""),
];

/// Named places that are not streets or communities but start generated names.
const PLACES: [(&str, &str); 2] = [("沈飞", "Shenfei"), ("沈阳北站", "Shenyang North Station")];

/// Turns generated Chinese names into English from the names it knows.
#[derive(Debug, Default, Clone)]
pub(crate) struct English {
    /// Chinese name part → its English (street names and community stems).
    parts: BTreeMap<String, String>,
}

impl English {
    /// Knows `zh` as a name part written `en` in English.
    pub(crate) fn learn(&mut self, zh: &str, en: &str) {
        if !zh.is_empty() && !en.is_empty() {
            self.parts.insert(zh.to_owned(), en.to_owned());
        }
    }

    /// Knows the fixed place names of the generator too.
    pub(crate) fn with_places(mut self) -> Self {
        for (zh, en) in PLACES {
            self.learn(zh, en);
        }
        self
    }

    /// The English of a generated name, or `None` when it is not made of known parts. A
    /// trailing number (a name claimed twice) is kept: `梅江西小区2` → `… Compound 2`.
    pub(crate) fn name(&self, zh: &str) -> Option<String> {
        let base = zh.trim_end_matches(|c: char| c.is_ascii_digit());
        let number = &zh[base.len()..];
        let english = ENDINGS.iter().find_map(|(ending, ending_en)| {
            let stem = base.strip_suffix(ending)?;
            let stem_en = self.parts.get(stem)?;
            Some(if ending_en.is_empty() {
                stem_en.clone()
            } else {
                format!("{stem_en} {ending_en}")
            })
        })?;
        Some(if number.is_empty() {
            english
        } else {
            format!("{english} {number}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english() -> English {
        let mut e = English::default().with_places();
        e.learn("梅江街", "Meijiang Street");
        e.learn("梅江西", "Meijiangxi");
        e.learn("里仁", "Liren");
        e
    }

    #[test]
    fn generic_endings_follow_the_pinyin_of_the_real_part() {
        let e = english();
        let name = |zh| e.name(zh);
        assert_eq!(
            name("梅江街南段").as_deref(),
            Some("Meijiang Street South Section")
        );
        assert_eq!(
            name("梅江西花园小区").as_deref(),
            Some("Meijiangxi Garden Residential Compound")
        );
        assert_eq!(
            name("梅江西小区").as_deref(),
            Some("Meijiangxi Residential Compound")
        );
        assert_eq!(
            name("梅江街东口袋公园").as_deref(),
            Some("Meijiang Street East Pocket Park")
        );
        assert_eq!(name("梅江西二巷").as_deref(), Some("Meijiangxi Lane 2"));
        assert_eq!(
            name("沈飞物流通道").as_deref(),
            Some("Shenfei Logistics Road")
        );
        assert_eq!(
            name("沈阳北站北广场").as_deref(),
            Some("Shenyang North Station North Plaza")
        );
        assert_eq!(name("梅江街").as_deref(), Some("Meijiang Street"));
        assert_eq!(
            name("里仁里小区").as_deref(),
            Some("Liren Li Residential Compound")
        );
    }

    #[test]
    fn a_claimed_number_stays_and_unknown_parts_give_nothing() {
        let e = english();
        assert_eq!(
            e.name("梅江西小区3").as_deref(),
            Some("Meijiangxi Residential Compound 3")
        );
        assert_eq!(e.name("塔湾街南段"), None);
        assert_eq!(e.name("梅江西公寓"), None);
        assert_eq!(e.name(""), None);
    }
}
